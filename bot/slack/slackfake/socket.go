package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxAckSize is Slack's limit for a Socket Mode response frame; larger ones
// are silently dropped (slack-go refuses to send them, but a hand-rolled
// client might).
const maxAckSize = 20 * 1024

// slack-go dials with Origin https://api.slack.com, which the default
// origin check would reject for a 127.0.0.1 server.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

type wsConn struct {
	id   int
	ws   *websocket.Conn
	send chan []byte
	done chan struct{}
	once sync.Once
}

// close drops the connection without a close frame, like a network failure
// or Slack's server going away.
func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// delivery is one logical envelope, possibly sent several times.
type delivery struct {
	typ   string
	acked chan struct{}
	done  bool
	ack   Ack
	env   Envelope
	// onAck applies Slack's reaction to an ack payload (slash-command
	// reply, view_submission response_action); runs under s.mu.
	onAck func(payload json.RawMessage)
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.tickets[ticket]
	delete(s.tickets, ticket) // tickets are single-use, as Slack's
	closed := s.closed
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closed {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	if !valid {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, send: make(chan []byte, 256), done: make(chan struct{})}

	s.mu.Lock()
	s.connectCount++
	c.id = s.connectCount
	n := 1
	for _, o := range s.conns {
		if !s.connInfo[o.id].Draining {
			n++
		}
	}
	s.mu.Unlock()

	// hello goes out before the connection is visible to senders, so it is
	// always the first frame, as on Slack.
	hello, _ := json.Marshal(obj{
		"type": "hello", "num_connections": n,
		"debug_info":      obj{"host": fmt.Sprintf("slackfake-%d", c.id), "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": obj{"app_id": AppID},
	})
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, hello); err != nil {
		_ = ws.Close()
		return
	}
	s.logf("ws %d open: %s", c.id, hello)
	// The first ping goes out at once: slack-go's dead-man timer fails a
	// connection that has seen no ping by the end of its first interval.
	pinged := 0
	if s.cfg.pingInterval > 0 && ws.WriteControl(websocket.PingMessage, []byte("slackfake"), time.Now().Add(time.Second)) == nil {
		pinged = 1
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	info := &ConnInfo{ID: c.id, OpenedAt: time.Now(), PingsSent: pinged}
	s.conns[c.id] = c
	s.connOrder = append(s.connOrder, c.id)
	s.connInfo[c.id] = info
	s.wg.Add(2)
	s.notifyLocked()
	s.mu.Unlock()

	go s.wsWriter(c)
	go s.wsPinger(c)
	s.wsReader(c, info)
}

func (s *Server) wsWriter(c *wsConn) {
	defer s.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case f := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.close()
				return
			}
		}
	}
}

// wsPinger sends WebSocket pings as Slack does; slack-go reconnects when
// none arrives within its ping interval.
func (s *Server) wsPinger(c *wsConn) {
	defer s.wg.Done()
	if s.cfg.pingInterval <= 0 {
		return
	}
	ping := func() bool {
		if err := c.ws.WriteControl(websocket.PingMessage, []byte("slackfake"), time.Now().Add(time.Second)); err != nil {
			return false
		}
		s.mu.Lock()
		s.connInfo[c.id].PingsSent++
		s.mu.Unlock()
		return true
	}
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if !ping() {
				return
			}
		}
	}
}

func (s *Server) wsReader(c *wsConn, info *ConnInfo) {
	c.ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		info.PongsReceived++
		s.mu.Unlock()
		return nil
	})
	c.ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		info.ClientPings++
		s.mu.Unlock()
		_ = c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		return nil
	})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			break
		}
		s.handleFrame(c, data)
	}
	c.close()
	s.mu.Lock()
	delete(s.conns, c.id)
	if info.ClosedAt.IsZero() {
		info.ClosedAt = time.Now()
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.logf("ws %d closed", c.id)
}

// handleFrame records an ack ({"envelope_id":…, "payload":…}).
func (s *Server) handleFrame(c *wsConn, data []byte) {
	s.logf("ws %d <- %s", c.id, data)
	var msg struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.EnvelopeID == "" {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ack := Ack{EnvelopeID: msg.EnvelopeID, At: now, ConnID: c.id, Size: len(data)}
	if len(msg.Payload) > 0 && string(msg.Payload) != "null" {
		ack.Payload = msg.Payload
	}
	ack.Dropped = len(data) >= maxAckSize
	d := s.inflight[msg.EnvelopeID]
	if d != nil {
		ack.Known = true
		var sent time.Time
		for _, e := range s.envelopes {
			if e.EnvelopeID == msg.EnvelopeID {
				sent = e.SentAt
			}
		}
		ack.Latency = now.Sub(sent)
		ack.Late = ack.Latency > s.cfg.ackTimeout
		ack.Duplicate = d.done
		if !d.done && !ack.Late && !ack.Dropped {
			d.done = true
			d.ack = ack
			for _, e := range s.envelopes {
				if e.EnvelopeID == msg.EnvelopeID {
					d.env = e
				}
			}
			close(d.acked)
			if d.onAck != nil && ack.Payload != nil {
				d.onAck(ack.Payload)
			}
		}
	}
	s.acks = append(s.acks, ack)
	s.notifyLocked()
}

func (s *Server) pickConnLocked() *wsConn {
	var open []*wsConn
	for _, id := range s.connOrder {
		if c := s.conns[id]; c != nil && !s.connInfo[id].Draining {
			open = append(open, c)
		}
	}
	if len(open) == 0 {
		return nil
	}
	// Round-robin, so multiple replicas each see traffic as with Slack.
	s.rr++
	return open[s.rr%len(open)]
}

func (s *Server) newEnvelopeIDLocked() string {
	s.seq++
	return fmt.Sprintf("%08x-5f4e-4d3c-8b2a-%012x", s.now().Unix(), s.seq)
}

// deliver sends one attempt of d to one connection, waiting for a
// connection to appear if none is open.
func (s *Server) deliver(ctx context.Context, d *delivery, payload json.RawMessage, accepts bool, attempt int, reason string) (Envelope, error) {
	deadline := time.NewTimer(s.cfg.connectWait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Envelope{}, ErrClosed
		}
		if c := s.pickConnLocked(); c != nil {
			env := Envelope{EnvelopeID: s.newEnvelopeIDLocked(), Type: d.typ, Payload: payload,
				AcceptsResponsePayload: accepts, RetryAttempt: attempt, RetryReason: reason,
				ConnID: c.id, SentAt: time.Now()}
			frame := obj{"envelope_id": env.EnvelopeID, "type": env.Type, "payload": payload,
				"accepts_response_payload": accepts}
			// Only Events API envelopes carry retry fields.
			if d.typ == "events_api" {
				frame["retry_attempt"] = attempt
				frame["retry_reason"] = reason
			}
			b, _ := json.Marshal(frame)
			s.inflight[env.EnvelopeID] = d
			s.envelopes = append(s.envelopes, env)
			select {
			case c.send <- b:
			default:
				s.logf("ws %d send queue full, envelope %s lost", c.id, env.EnvelopeID)
			}
			s.notifyLocked()
			s.mu.Unlock()
			s.logf("ws %d -> %s", c.id, b)
			return env, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Envelope{}, ctx.Err()
		case <-deadline.C:
			return Envelope{}, ErrNoConnection
		}
	}
}

// sendAndWait delivers an envelope and waits for its ack, redelivering
// events_api envelopes when WithRedelivery is set.
func (s *Server) sendAndWait(ctx context.Context, typ string, payload any, accepts bool, onAck func(json.RawMessage)) (EnvelopeResult, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return EnvelopeResult{}, err
	}
	d := &delivery{typ: typ, acked: make(chan struct{}), onAck: onAck}
	attempts := 1
	if typ == "events_api" {
		attempts += max(s.cfg.redeliveries, 0)
	}
	var res EnvelopeResult
	reason := ""
	for a := 0; a < attempts; a++ {
		env, err := s.deliver(ctx, d, raw, accepts, a, reason)
		if err != nil {
			return res, err
		}
		res.Attempts, res.Envelope = a+1, env
		t := time.NewTimer(s.cfg.ackTimeout)
		select {
		case <-d.acked:
			t.Stop()
			s.mu.Lock()
			res.Acked, res.Ack, res.Envelope = true, d.ack, d.env
			s.mu.Unlock()
			return res, nil
		case <-ctx.Done():
			t.Stop()
			return res, ctx.Err()
		case <-s.done:
			t.Stop()
			return res, ErrClosed
		case <-t.C:
		}
		reason = "timeout"
	}
	return res, ErrNotAcked
}

// SendEnvelope sends an envelope with an arbitrary payload and waits for
// the ack; for payloads the typed helpers do not build.
func (s *Server) SendEnvelope(ctx context.Context, typ string, payload any, acceptsResponsePayload bool) (EnvelopeResult, error) {
	return s.sendAndWait(ctx, typ, payload, acceptsResponsePayload, nil)
}

// Disconnect sends {"type":"disconnect","reason":reason} on every open
// connection, stops routing envelopes to them, and closes them after the
// disconnect grace period if the client has not. slack-go answers by
// opening a new connection (apps.connections.open) and closing the old.
// It returns how many connections were told.
func (s *Server) Disconnect(reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range s.connOrder {
		c := s.conns[id]
		if c == nil || s.connInfo[id].Draining {
			continue
		}
		s.connInfo[id].Draining = true
		b, _ := json.Marshal(obj{"type": "disconnect", "reason": reason,
			"debug_info": obj{"host": fmt.Sprintf("slackfake-%d", id)}})
		select {
		case c.send <- b:
		default:
		}
		s.timers = append(s.timers, time.AfterFunc(s.cfg.disconnectGrace, c.close))
		n++
	}
	s.notifyLocked()
	return n
}

// DropConnections closes every Socket Mode connection abruptly (no close
// frame), as a network failure would. It returns how many were dropped.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	var cs []*wsConn
	for id, c := range s.conns {
		cs = append(cs, c)
		// Forget it now, not when the reader notices, so the next envelope
		// waits for the client's new connection instead of vanishing.
		delete(s.conns, id)
		s.connInfo[id].ClosedAt = time.Now()
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	return len(cs)
}

// Connections returns how many Socket Mode connections are open and not
// told to disconnect, i.e. would receive an envelope now.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.conns {
		if !s.connInfo[id].Draining {
			n++
		}
	}
	return n
}

// ConnectCount returns how many Socket Mode connections were ever accepted;
// a reconnect shows up as an increase.
func (s *Server) ConnectCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connectCount
}

// WaitForConnections waits until at least n connections would receive envelopes.
func (s *Server) WaitForConnections(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool {
		c := 0
		for id := range s.conns {
			if !s.connInfo[id].Draining {
				c++
			}
		}
		return c >= n
	})
}

// ConnInfos describes every connection accepted so far, in order.
func (s *Server) ConnInfos() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.connOrder))
	for _, id := range s.connOrder {
		out = append(out, *s.connInfo[id])
	}
	return out
}

// Acks returns every ack received, oldest first.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// Envelopes returns every envelope sent (each redelivery separately), oldest first.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Envelope(nil), s.envelopes...)
}
