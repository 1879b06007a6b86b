// Package pgpool is a session pool in front of a PostgreSQL server, for
// tests: each connection a client opens through it is given a server
// session that an earlier client left, reset, instead of a new one.
//
// Starting a PostgreSQL session costs the server tens of milliseconds of
// CPU on a small machine (measured at about 35 ms, `pgbench -C` with
// SELECT 1, on the 2-core test machines), and a test suite that starts a
// bot per test opens hundreds. Through the pool
// a session is started once and handed to the next client that asks for
// the same database as the same user, with its catalogue caches warm.
//
// A client sees what a server of its own would show it: the greeting
// (the server's parameters and its process id and cancel key) is the one
// the session gave when it started; a cancel request reaches that process;
// a session the server ends (pg_terminate_backend, a restart) ends the
// client's connection. Between clients the session is reset with DISCARD
// ALL, which drops prepared statements, settings, LISTENs, advisory locks
// and temporary tables. A session is kept only when its client left it
// idle: one a client left in a transaction is closed, never handed on;
// one whose client went away with an answer still owed is kept once the
// answer has come (and been dropped), if it comes within drainTimeout.
//
// Servers that ask for a password cannot be pooled (the pool does not
// hold it); their connections pass through unchanged.
package pgpool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Limits on the sessions the pool keeps idle: per database and user, and
// in all. A test server allows 200 connections and several test binaries
// share it.
const (
	maxIdlePerKey = 8
	maxIdle       = 40
)

// drainTimeout bounds how long a session whose client has left may take
// to send the answers it still owes before it is closed instead of kept.
const drainTimeout = 5 * time.Second

// forgetTimeout bounds how long Forget waits for client connections to end.
const forgetTimeout = 30 * time.Second

// Stats counts what the pool did.
type Stats struct {
	Started int64 // server sessions started
	Reused  int64 // client connections given a kept session
}

// Pool listens on a Unix socket of its own and passes each connection on
// to the server.
type Pool struct {
	// URL is the server's URL with the pool's socket in place of the
	// server's address.
	URL string

	network, address string // the server's
	dir              string
	listener         net.Listener

	mu       sync.Mutex
	idle     []*session // least recently used first
	active   map[*session]net.Conn
	clients  map[string]int // open client connections by database
	settled  *sync.Cond     // signalled when a client connection ends
	closed   bool
	handlers sync.WaitGroup

	started, reused atomic.Int64
}

// Start listens for clients of the server at serverURL, a postgres:// URL.
func Start(serverURL string) (*Pool, error) {
	network, address, err := serverAddress(serverURL)
	if err != nil {
		return nil, err
	}
	removeAbandoned(os.TempDir())
	dir, err := os.MkdirTemp("", socketDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgpool: unable to make the socket's directory: %w", err)
	}
	listener, err := net.Listen("unix", filepath.Join(dir, socketName))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pgpool: unable to listen: %w", err)
	}
	u, _ := url.Parse(serverURL) // parsed by serverAddress
	q := u.Query()
	q.Set("host", dir)
	q.Del("port")
	u.RawQuery = q.Encode()
	u.Host = ""
	p := &Pool{URL: u.String(), network: network, address: address, dir: dir, listener: listener,
		active: map[*session]net.Conn{}, clients: map[string]int{}}
	p.settled = sync.NewCond(&p.mu)
	go p.accept()
	return p, nil
}

// socketDirPrefix begins the name of each pool's socket directory, and
// socketName is the socket's name in it: the one libpq and pgx look for
// in a host directory, for port 5432.
const (
	socketDirPrefix = "pgpool"
	socketName      = ".s.PGSQL.5432"
)

// removeAbandoned removes the socket directories of pools that are gone: a
// pool lives as long as its test binary, which exits without closing it.
// A directory is left alone while its socket answers, or while it is new
// (its pool may not be listening yet).
func removeAbandoned(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), socketDirPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if conn, err := net.DialTimeout("unix", filepath.Join(dir, socketName), 100*time.Millisecond); err == nil {
			_ = conn.Close()
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// serverAddress finds the network address of the server at serverURL: a
// Unix socket in the directory ?host= (or the URL's host) names, or a TCP
// host and port.
func serverAddress(serverURL string) (network, address string, err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", "", fmt.Errorf("pgpool: the server's URL: %w", err)
	}
	host, port := u.Hostname(), u.Port()
	if h := u.Query().Get("host"); h != "" {
		host = h
	}
	if p := u.Query().Get("port"); p != "" {
		port = p
	}
	if port == "" {
		port = "5432"
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", "", fmt.Errorf("pgpool: the server's port %q is not a number", port)
	}
	switch {
	case strings.HasPrefix(host, "/"):
		return "unix", filepath.Join(host, ".s.PGSQL."+port), nil
	case host == "":
		return "", "", errors.New("pgpool: the server's URL names no host")
	default:
		return "tcp", net.JoinHostPort(host, port), nil
	}
}

// Stats says how many sessions the pool started and how often it reused one.
func (p *Pool) Stats() Stats {
	return Stats{Started: p.started.Load(), Reused: p.reused.Load()}
}

// Idle says how many sessions the pool keeps for the next clients.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// Settle waits, at most within, until no client connection to database is
// open (each has ended, its session kept or closed), and reports whether
// none is.
func (p *Pool) Settle(database string, within time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settle(database, within)
}

// settle is Settle with p.mu held.
func (p *Pool) settle(database string, within time.Duration) bool {
	timedOut := false
	timer := time.AfterFunc(within, func() {
		p.mu.Lock()
		timedOut = true
		p.settled.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	for p.clients[database] > 0 && !timedOut {
		p.settled.Wait()
	}
	return p.clients[database] == 0
}

// Close stops listening and closes every session, idle or in use.
func (p *Pool) Close() error {
	err := p.listener.Close()
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	for s, client := range p.active {
		_ = client.Close()
		_ = s.conn.Close()
	}
	p.mu.Unlock()
	for _, s := range idle {
		s.close()
	}
	p.handlers.Wait()
	return errors.Join(err, os.RemoveAll(p.dir))
}

// Forget closes the sessions connected to database, idle or in use, and
// returns once every client connection to it has ended: a database about
// to be dropped, say.
func (p *Pool) Forget(database string) {
	p.mu.Lock()
	for s, client := range p.active {
		if s.database == database {
			_ = client.Close()
			_ = s.conn.Close()
		}
	}
	// A client connection ends after its session is kept or closed; one
	// the pool cannot end (passed through unpooled) is waited for a while.
	p.settle(database, forgetTimeout)
	var gone []*session
	p.idle = slices.DeleteFunc(p.idle, func(s *session) bool {
		if s.database == database {
			gone = append(gone, s)
			return true
		}
		return false
	})
	p.mu.Unlock()
	for _, s := range gone {
		s.close()
	}
}

func (p *Pool) accept() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = client.Close()
			return
		}
		p.handlers.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.handlers.Done()
			p.serve(client)
		}()
	}
}

// The codes of the messages a client may open a connection with.
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	protocolMajor3    = 3
)

// session is one server session.
type session struct {
	conn     net.Conn
	r        *bufio.Reader
	key      string // the startup parameters, sorted
	database string
	greeting []byte // what the server sent from authentication to ready

	// While idle, a goroutine waits on the connection: anything the
	// server sends an idle session (its termination, say) means it is
	// no longer fit to hand on.
	watched chan bool // receives whether the session is still fit
}

func (s *session) close() { _ = s.conn.Close() }

func (p *Pool) serve(client net.Conn) {
	defer client.Close()
	cr := bufio.NewReader(client)
	startup, params, err := readStartup(cr, client)
	if err != nil || startup == nil {
		return // a cancel request (passed on) or a broken client
	}
	if code := binary.BigEndian.Uint32(startup[4:8]); code == codeCancelRequest {
		p.passCancel(startup)
		return
	}
	database := params["database"]
	if database == "" {
		database = params["user"]
	}
	p.mu.Lock()
	p.clients[database]++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.clients[database]--; p.clients[database] == 0 {
			delete(p.clients, database)
		}
		p.settled.Broadcast()
		p.mu.Unlock()
	}()
	key := startupKey(params)
	s := p.take(key)
	if s != nil {
		p.reused.Add(1)
	} else {
		var refused []byte
		var pass bool
		s, refused, pass, err = p.startSession(startup, key, database)
		if err != nil {
			// Say why, as the server would have: a bare closed connection
			// reads as "unexpected EOF".
			msg, _ := (&pgproto3.ErrorResponse{Severity: "FATAL", Code: "08006",
				Message: fmt.Sprintf("pgpool: cannot reach the PostgreSQL server at %s: %v", p.address, err)}).Encode(nil)
			_, _ = client.Write(msg)
			return
		}
		if refused != nil {
			_, _ = client.Write(refused)
			return
		}
		if pass {
			p.passThrough(client, cr, s)
			return
		}
	}
	if _, err := client.Write(s.greeting); err != nil {
		p.keepOrClose(s, false)
		return
	}
	if !p.track(s, client) {
		s.close()
		return
	}
	fit := relay(client, cr, s)
	p.untrack(s)
	p.keepOrClose(s, fit && reset(s))
}

func (p *Pool) track(s *session, client net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.active[s] = client
	return true
}

func (p *Pool) untrack(s *session) {
	p.mu.Lock()
	delete(p.active, s)
	p.mu.Unlock()
}

// readStartup reads the message a client opens with, declining TLS and
// GSS encryption (the client then goes on in the clear, or gives up), and
// returns it whole with its parameters.
func readStartup(r *bufio.Reader, w io.Writer) ([]byte, map[string]string, error) {
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, nil, err
		}
		n := binary.BigEndian.Uint32(head[:4])
		if n < 8 || n > 10000 {
			return nil, nil, fmt.Errorf("pgpool: a startup message of %d bytes", n)
		}
		msg := make([]byte, n)
		copy(msg, head[:])
		if _, err := io.ReadFull(r, msg[8:]); err != nil {
			return nil, nil, err
		}
		switch code := binary.BigEndian.Uint32(head[4:]); {
		case code == codeSSLRequest || code == codeGSSENCRequest:
			if _, err := w.Write([]byte{'N'}); err != nil {
				return nil, nil, err
			}
		case code == codeCancelRequest:
			return msg, nil, nil
		case code>>16 == protocolMajor3:
			params := map[string]string{}
			fields := strings.Split(string(msg[8:]), "\x00")
			for i := 0; i+1 < len(fields); i += 2 {
				if fields[i] == "" {
					break
				}
				params[fields[i]] = fields[i+1]
			}
			return msg, params, nil
		default:
			return nil, nil, fmt.Errorf("pgpool: a startup message with code %d", code)
		}
	}
}

// startupKey identifies the sessions a startup message may be given.
func startupKey(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(params[k])
		b.WriteByte(0)
	}
	return b.String()
}

// passCancel hands a cancel request to the server: the process and key in
// it are the server's own, since every client sees its session's greeting.
func (p *Pool) passCancel(msg []byte) {
	conn, err := net.DialTimeout(p.network, p.address, 5*time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		return
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, conn) // the server closes it when done
}

// take hands out an idle session started with the same parameters, the
// most recently used first, skipping any the server has ended.
func (p *Pool) take(key string) *session {
	for {
		p.mu.Lock()
		i := len(p.idle) - 1
		for i >= 0 && p.idle[i].key != key {
			i--
		}
		if i < 0 {
			p.mu.Unlock()
			return nil
		}
		s := p.idle[i]
		p.idle = slices.Delete(p.idle, i, i+1)
		p.mu.Unlock()
		if s.unwatch() {
			return s
		}
		s.close()
	}
}

// keepOrClose keeps a fit session idle for the next client, closing the
// least recently used beyond the limits, or closes an unfit one.
func (p *Pool) keepOrClose(s *session, fit bool) {
	if !fit || s.r.Buffered() > 0 {
		s.close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		s.close()
		return
	}
	s.watch()
	p.idle = append(p.idle, s)
	var evicted []*session
	sameKey := 0
	for i := len(p.idle) - 1; i >= 0; i-- {
		if p.idle[i].key == s.key {
			sameKey++
			if sameKey > maxIdlePerKey {
				evicted = append(evicted, p.idle[i])
				p.idle = slices.Delete(p.idle, i, i+1)
			}
		}
	}
	for len(p.idle) > maxIdle {
		evicted = append(evicted, p.idle[0])
		p.idle = p.idle[1:]
	}
	p.mu.Unlock()
	for _, e := range evicted {
		e.close()
	}
}

// watch starts waiting on an idle session's connection.
func (s *session) watch() {
	s.watched = make(chan bool, 1)
	go func() {
		var one [1]byte
		n, err := s.conn.Read(one[:])
		var ne net.Error
		s.watched <- n == 0 && errors.As(err, &ne) && ne.Timeout()
	}()
}

// unwatch stops the wait watch started and reports whether the session
// is still fit: the server sent nothing while it was idle.
func (s *session) unwatch() bool {
	_ = s.conn.SetReadDeadline(time.Unix(1, 0))
	fit := <-s.watched
	return fit && s.conn.SetReadDeadline(time.Time{}) == nil
}

// startSession starts a server session for a client's startup message.
// refused is the server's refusal, for the client; pass says the server
// asked for a password, so the session cannot be pooled and the client
// must answer it itself (the session's greeting holds what the server
// sent so far).
func (p *Pool) startSession(startup []byte, key, database string) (s *session, refused []byte, pass bool, err error) {
	conn, err := net.DialTimeout(p.network, p.address, 10*time.Second)
	if err != nil {
		return nil, nil, false, err
	}
	s = &session{conn: conn, r: bufio.NewReader(conn), key: key, database: database}
	if _, err := conn.Write(startup); err != nil {
		s.close()
		return nil, nil, false, err
	}
	var greeting []byte
	for {
		typ, msg, err := readMessage(s.r)
		if err != nil {
			s.close()
			return nil, nil, false, err
		}
		greeting = append(greeting, msg...)
		switch typ {
		case 'R':
			if len(msg) < 9 || binary.BigEndian.Uint32(msg[5:9]) != 0 {
				s.greeting = greeting
				return s, nil, true, nil
			}
		case 'E':
			s.close()
			return nil, greeting, false, nil
		case 'Z':
			s.greeting = greeting
			p.started.Add(1)
			return s, nil, false, nil
		}
	}
}

// passThrough copies bytes both ways, unpooled, until either side closes.
func (p *Pool) passThrough(client net.Conn, cr *bufio.Reader, s *session) {
	defer s.close()
	if _, err := client.Write(s.greeting); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(client, s.r)
		_ = client.Close()
		close(done)
	}()
	_, _ = io.Copy(s.conn, cr)
	s.close()
	<-done
}

// readMessage reads one message the server sent (or a client sent after
// its startup message): its type, and the whole message, type included.
func readMessage(r *bufio.Reader) (byte, []byte, error) {
	head, err := r.Peek(5)
	if err != nil {
		if len(head) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(head[1:5]))
	if n < 4 {
		return 0, nil, fmt.Errorf("pgpool: a message of length %d", n)
	}
	msg := make([]byte, 1+n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errTruncated, err)
	}
	return msg[0], msg, nil
}

// errTruncated says a message was cut off after its header was read: the
// stream can no longer be followed.
var errTruncated = errors.New("pgpool: a message cut short")

// relay passes the client's messages to the server and the server's
// answers back until the client says goodbye or either side goes away.
// It reports whether the session is fit to keep: the client left it idle
// and owed nothing, and the server is still there.
func relay(client net.Conn, cr *bufio.Reader, s *session) bool {
	var (
		mu       sync.Mutex
		asked    int  // queries, syncs and function calls the client sent: each is answered by one ReadyForQuery
		answered int  // ReadyForQuery messages the server sent
		status   byte = 'I'
		leaving  bool // the client has said goodbye or gone
	)
	serverDone := make(chan bool, 1) // whether the server side stopped cleanly
	go func() {
		cw := bufio.NewWriter(client)
		clientGone := false
		for {
			// Nothing is owed and the client is leaving: stop before
			// reading anything more of the session.
			mu.Lock()
			stop := leaving && answered == asked
			mu.Unlock()
			if stop {
				serverDone <- true
				return
			}
			typ, msg, err := readMessage(s.r)
			if err != nil {
				var ne net.Error
				clean := errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, errTruncated) && s.r.Buffered() == 0
				if !clean {
					_ = client.Close() // the server went away: so does the client's connection
				}
				serverDone <- clean
				return
			}
			if !clientGone {
				if _, err := cw.Write(msg); err != nil {
					clientGone = true
				} else if s.r.Buffered() == 0 && cw.Flush() != nil {
					clientGone = true
				}
			}
			if typ == 'Z' && len(msg) == 6 {
				mu.Lock()
				answered++
				status = msg[5]
				mu.Unlock()
			}
		}
	}()

	sw := bufio.NewWriter(s.conn)
	for {
		typ, msg, err := readMessage(cr)
		if err != nil || typ == 'X' {
			break
		}
		switch typ {
		case 'Q', 'S', 'F':
			mu.Lock()
			asked++
			mu.Unlock()
		}
		if _, err := sw.Write(msg); err != nil {
			break
		}
		if cr.Buffered() == 0 {
			if err := sw.Flush(); err != nil {
				break
			}
		}
	}
	flushed := sw.Flush() == nil

	// The client has gone: wait for what the session still owes, or
	// wake the server side if it owes nothing and is waiting to read.
	mu.Lock()
	leaving = true
	owes := answered != asked
	mu.Unlock()
	if !owes {
		_ = s.conn.SetReadDeadline(time.Unix(1, 0))
	}
	var clean bool
	select {
	case clean = <-serverDone:
	case <-time.After(drainTimeout):
		_ = s.conn.Close()
		<-serverDone
		return false
	}
	if s.conn.SetReadDeadline(time.Time{}) != nil {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	return clean && flushed && answered == asked && status == 'I'
}

// reset ends what the last client set up in the session, and reports
// whether it succeeded with the session idle.
func reset(s *session) bool {
	const query = "DISCARD ALL"
	msg := make([]byte, 0, 6+len(query))
	msg = append(msg, 'Q', 0, 0, 0, 0)
	msg = append(msg, query...)
	msg = append(msg, 0)
	binary.BigEndian.PutUint32(msg[1:5], uint32(len(msg)-1))
	_ = s.conn.SetDeadline(time.Now().Add(drainTimeout))
	defer func() { _ = s.conn.SetDeadline(time.Time{}) }()
	if _, err := s.conn.Write(msg); err != nil {
		return false
	}
	failed := false
	for {
		typ, msg, err := readMessage(s.r)
		if err != nil {
			return false
		}
		switch typ {
		case 'E':
			failed = true
		case 'Z':
			return !failed && len(msg) == 6 && msg[5] == 'I'
		}
	}
}
