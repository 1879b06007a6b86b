// Command pgtemp starts a throwaway PostgreSQL server from the machine's own
// binaries for make test, make bench and make run (scripts/pg.sh calls it):
//
//	pgtemp run -- CMD...   start one in a temporary directory, run CMD with
//	                       DATABASE_URL and TEST_DATABASE_URL set, then stop
//	                       it and remove the directory
//	pgtemp start DIR       start one in DIR (kept), print its URL
//	pgtemp stop DIR        stop it and remove DIR
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/slabot/slabot/storage/pgtemp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

const usage = "usage: pgtemp run -- CMD... | pgtemp start DIR | pgtemp stop DIR"

func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "start":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, usage)
			return 2
		}
		srv, err := pgtemp.StartIn(ctx, args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(srv.URL)
		return 0
	case "stop":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, usage)
			return 2
		}
		srv, err := pgtemp.Attach(args[1])
		if err == nil {
			err = srv.Stop()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "run":
		cmdArgs := args[1:]
		if len(cmdArgs) > 0 && cmdArgs[0] == "--" {
			cmdArgs = cmdArgs[1:]
		}
		if len(cmdArgs) == 0 {
			fmt.Fprintln(os.Stderr, usage)
			return 2
		}
		srv, err := pgtemp.Start(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgtemp:", err)
			}
		}()
		fmt.Fprintf(os.Stderr, "pgtemp: throwaway PostgreSQL at %s\n", srv.Dir)
		cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), "DATABASE_URL="+srv.URL, "TEST_DATABASE_URL="+srv.URL)
		// A signal to pgtemp (timeout, CI, Ctrl-C) is passed on to the
		// command; the server is stopped once the command has exited.
		sigs := make(chan os.Signal, 2)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		if err = cmd.Start(); err == nil {
			done := make(chan struct{})
			go func() {
				for {
					select {
					case sig := <-sigs:
						_ = cmd.Process.Signal(sig)
					case <-done:
						return
					}
				}
			}()
			err = cmd.Wait()
			close(done)
		}
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal()) // as a shell reports it
			}
			return exit.ExitCode()
		case err != nil:
			fmt.Fprintln(os.Stderr, "pgtemp:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, usage)
	return 2
}
