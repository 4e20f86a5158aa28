// Package mailsink is a loopback SMTP server for tests: it accepts every message and
// keeps its envelope recipients, so that a test can see who was mailed through a real
// SMTP exchange.
package mailsink

import (
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink is a running loopback SMTP server.
type Sink struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	mu   sync.Mutex
	got  [][]string
}

type session struct {
	s  *Sink
	to []string
}

func (ss *session) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, slices.Sorted(slices.Values(ss.to)))
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.to = nil }
func (ss *session) Logout() error { return nil }

// Start starts a sink on a free loopback port; it stops when the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Mails returns the recipients of every message received so far (each list sorted), in
// the order the messages arrived.
func (s *Sink) Mails() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.got...)
}
