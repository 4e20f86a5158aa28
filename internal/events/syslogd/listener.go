// Package syslogd receives audit events as syslog messages — over UDP, TCP (RFC 6587
// octet counting and newline framing) and TLS (RFC 5425, optionally requiring client
// certificates) — decodes them with decode.ParseSyslog and appends them in batches to
// the events of one organisation.
//
// A TCP or TLS connection is read only as fast as its events are committed: each
// connection holds at most one batch and one message in memory while the batch is being
// appended, so a slow store pushes back on the sender through TCP flow control. UDP cannot
// push back: its messages wait in a bounded queue, and those that find it full are
// dropped and counted.
//
// The content of a message is never logged (it may carry patient data): an invalid message
// is counted and logged with the reason and the sender's address only.
package syslogd

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/decode"
)

// Appender stores a batch of events of an organisation, returning after they are
// committed; *events.Service is one.
type Appender interface {
	Append(ctx context.Context, orgID int64, evs []events.Event) (events.Result, error)
}

// Defaults of Config.
const (
	// DefaultBatchSize: measured on SQLite with a stream of RFC 5424 + JSON over four
	// connections, 5,000-event batches take about a quarter less CPU a stored event than
	// 1,000-event ones (each commit writes every index page the batch touched to the WAL,
	// and random patient hashes touch a page an event). A connection holds at most one
	// batch while it is appended.
	DefaultBatchSize = 5000
	DefaultFlush     = 200 * time.Millisecond
	DefaultUDPQueue  = 10000
)

// Config says where the listener listens and for which organisation it stores.
type Config struct {
	// UDP, TCP and TLS are listen addresses (host:port); an empty one is not served.
	UDP, TCP, TLS string
	// CertFile and KeyFile are the PEM server certificate and key of the TLS listener.
	CertFile, KeyFile string
	// ClientCAFile, when set, is a PEM file of the CAs a TLS client's certificate must
	// chain to; a client without such a certificate is refused.
	ClientCAFile string
	// OrgID is the organisation every received event is stored for.
	OrgID int64
	// BatchSize is the most events appended at once (default DefaultBatchSize); a batch is
	// appended when full or FlushEvery after its first event (default DefaultFlush).
	BatchSize  int
	FlushEvery time.Duration
	// UDPQueue is how many decoded UDP messages may wait for their batch (default
	// DefaultUDPQueue); more are dropped.
	UDPQueue int
	// Decoder decodes the messages (time zone and clock of RFC 3164 stamps).
	Decoder decode.Decoder
	// Logger receives the listener's log; nil discards it.
	Logger *slog.Logger
}

// Stats are the listener's counters since it started.
type Stats struct {
	Received   uint64 `json:"received"`   // messages read off the network
	Stored     uint64 `json:"stored"`     // events committed
	Duplicates uint64 `json:"duplicates"` // events already stored (or twice in a batch)
	Rejected   uint64 `json:"rejected"`   // messages that did not decode or validate
	Dropped    uint64 `json:"dropped"`    // messages lost: UDP queue full, or the store failing
}

// Listener serves the configured addresses; build it with New, bind with Listen, and
// run it with Serve.
type Listener struct {
	app  Appender
	cfg  Config
	log  *slog.Logger
	tlsc *tls.Config

	received, stored, duplicates, rejected, dropped atomic.Uint64

	udp      net.PacketConn
	tcp, tls net.Listener
}

// New checks the configuration and loads the TLS files.
func New(app Appender, c Config) (*Listener, error) {
	if app == nil {
		return nil, errors.New("syslogd: no appender")
	}
	if c.UDP == "" && c.TCP == "" && c.TLS == "" {
		return nil, errors.New("syslogd: no listen address")
	}
	if c.OrgID <= 0 {
		return nil, errors.New("syslogd: no organisation")
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = DefaultFlush
	}
	if c.UDPQueue <= 0 {
		c.UDPQueue = DefaultUDPQueue
	}
	l := &Listener{app: app, cfg: c, log: c.Logger}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if c.TLS != "" {
		if c.CertFile == "" || c.KeyFile == "" {
			return nil, errors.New("syslogd: the TLS listener needs a certificate and a key file")
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("syslogd: TLS certificate: %w", err)
		}
		l.tlsc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if c.ClientCAFile != "" {
			pem, err := os.ReadFile(c.ClientCAFile)
			if err != nil {
				return nil, fmt.Errorf("syslogd: client CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("syslogd: client CA file holds no PEM certificate")
			}
			l.tlsc.ClientCAs = pool
			l.tlsc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	} else if c.CertFile != "" || c.KeyFile != "" || c.ClientCAFile != "" {
		return nil, errors.New("syslogd: TLS files given without a TLS listen address")
	}
	return l, nil
}

// Listen binds the configured addresses; on an error none stays bound.
func (l *Listener) Listen() error {
	var err error
	if l.cfg.UDP != "" {
		if l.udp, err = net.ListenPacket("udp", l.cfg.UDP); err != nil {
			l.closeAll()
			return fmt.Errorf("syslogd: listen udp: %w", err)
		}
	}
	if l.cfg.TCP != "" {
		if l.tcp, err = net.Listen("tcp", l.cfg.TCP); err != nil {
			l.closeAll()
			return fmt.Errorf("syslogd: listen tcp: %w", err)
		}
	}
	if l.cfg.TLS != "" {
		ln, err := net.Listen("tcp", l.cfg.TLS)
		if err != nil {
			l.closeAll()
			return fmt.Errorf("syslogd: listen tls: %w", err)
		}
		l.tls = ln
	}
	return nil
}

func (l *Listener) closeAll() {
	if l.udp != nil {
		l.udp.Close()
	}
	if l.tcp != nil {
		l.tcp.Close()
	}
	if l.tls != nil {
		l.tls.Close()
	}
}

// UDPAddr, TCPAddr and TLSAddr are the bound addresses (nil when not served), valid
// after Listen.
func (l *Listener) UDPAddr() net.Addr {
	if l.udp == nil {
		return nil
	}
	return l.udp.LocalAddr()
}

// TCPAddr is the bound TCP address; see UDPAddr.
func (l *Listener) TCPAddr() net.Addr {
	if l.tcp == nil {
		return nil
	}
	return l.tcp.Addr()
}

// TLSAddr is the bound TLS address; see UDPAddr.
func (l *Listener) TLSAddr() net.Addr {
	if l.tls == nil {
		return nil
	}
	return l.tls.Addr()
}

// Stats returns the counters.
func (l *Listener) Stats() Stats {
	return Stats{Received: l.received.Load(), Stored: l.stored.Load(), Duplicates: l.duplicates.Load(),
		Rejected: l.rejected.Load(), Dropped: l.dropped.Load()}
}

// Serve receives until ctx ends, then closes the sockets and connections, appends the
// batches already read, and returns nil. Listen must have been called.
func (l *Listener) Serve(ctx context.Context) error {
	if l.udp == nil && l.tcp == nil && l.tls == nil {
		return errors.New("syslogd: Serve before Listen")
	}
	var wg sync.WaitGroup
	conns := &connSet{m: map[net.Conn]bool{}}
	if l.udp != nil {
		queue := make(chan events.Event, l.cfg.UDPQueue)
		wg.Go(func() { l.readUDP(ctx, queue) })
		wg.Go(func() { l.batch(ctx, queue, "udp", nil) })
	}
	if l.tcp != nil {
		wg.Go(func() { l.accept(ctx, l.tcp, false, conns, &wg) })
	}
	if l.tls != nil {
		wg.Go(func() { l.accept(ctx, l.tls, true, conns, &wg) })
	}
	l.log.Info("syslog listener started", "udp", l.UDPAddr(), "tcp", l.TCPAddr(), "tls", l.TLSAddr(),
		"client_certificates", l.tlsc != nil && l.tlsc.ClientCAs != nil)
	<-ctx.Done()
	l.closeAll()
	conns.closeAll()
	wg.Wait()
	st := l.Stats()
	l.log.Info("syslog listener stopped", "received", st.Received, "stored", st.Stored, "duplicates", st.Duplicates,
		"rejected", st.Rejected, "dropped", st.Dropped)
	return nil
}

type connSet struct {
	mu     sync.Mutex
	m      map[net.Conn]bool
	closed bool
}

func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.m[c] = true
	return true
}

func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.m {
		c.Close()
	}
}

// decode turns one message into an event, counting it; ok is false for an invalid one,
// which is counted and logged without its content.
func (l *Listener) decode(msg []byte, transport string, from net.Addr) (events.Event, bool) {
	l.received.Add(1)
	ev, err := l.cfg.Decoder.ParseSyslog(msg)
	if err != nil {
		l.rejected.Add(1)
		// decode errors never quote the input.
		l.log.Warn("invalid syslog message", "transport", transport, "from", addrString(from), "bytes", len(msg), "err", err)
		return events.Event{}, false
	}
	return ev, true
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// readUDP reads datagrams (one message each) into queue, dropping what does not fit.
func (l *Listener) readUDP(ctx context.Context, queue chan<- events.Event) {
	defer close(queue)
	buf := make([]byte, 64<<10)
	for {
		n, from, err := l.udp.ReadFrom(buf)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				l.log.Error("syslog udp read", "err", err)
				continue
			}
			return
		}
		ev, ok := l.decode(buf[:n], "udp", from)
		if !ok {
			continue
		}
		select {
		case queue <- ev:
		default:
			if l.dropped.Add(1)%1000 == 1 {
				l.log.Warn("syslog udp queue full: dropping messages", "dropped_total", l.dropped.Load())
			}
		}
	}
}

// accept serves the connections of ln until it is closed.
func (l *Listener) accept(ctx context.Context, ln net.Listener, useTLS bool, conns *connSet, wg *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				l.log.Error("syslog accept", "err", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return
		}
		if !conns.add(c) {
			c.Close()
			return
		}
		wg.Go(func() {
			defer conns.remove(c)
			defer c.Close()
			l.serveConn(ctx, c, useTLS)
		})
	}
}

// serveConn reads the messages of one stream connection. The reader hands each event
// to the connection's batcher over an unbuffered channel, so while a batch is being
// appended the reader holds at most one event and stops reading the socket.
func (l *Listener) serveConn(ctx context.Context, c net.Conn, useTLS bool) {
	transport := "tcp"
	if useTLS {
		transport = "tls"
		tc := tls.Server(c, l.tlsc)
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			l.log.Warn("syslog tls handshake refused", "from", addrString(c.RemoteAddr()), "err", err)
			return
		}
		c = tc
	}
	from := c.RemoteAddr()
	in := make(chan events.Event)
	failed := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.batch(ctx, in, transport, failed)
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 64<<10), decode.MaxFrame+16)
	sc.Split(decode.SplitSyslog)
read:
	for sc.Scan() {
		ev, ok := l.decode(sc.Bytes(), transport, from)
		if !ok {
			continue
		}
		select {
		case in <- ev:
		case <-failed:
			break read
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		l.log.Warn("syslog connection closed", "transport", transport, "from", addrString(from), "err", err)
	}
	close(in)
	<-done
}

// batch appends the events of in in batches of at most BatchSize, each when full or
// FlushEvery after its first event, until in is closed. When the store fails it closes
// failed (if given: a connection is then closed, since what the sender sent is lost)
// and counts the batch as dropped.
func (l *Listener) batch(ctx context.Context, in <-chan events.Event, transport string, failed chan struct{}) {
	buf := make([]events.Event, 0, min(l.cfg.BatchSize, 256)) // grows with the load, not per connection
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() bool {
		if len(buf) == 0 {
			return true
		}
		actx := ctx
		if ctx.Err() != nil { // stopping: still store what was read
			var cancel context.CancelFunc
			actx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
		}
		res, err := l.app.Append(actx, l.cfg.OrgID, buf)
		n := len(buf)
		buf = buf[:0]
		if err != nil {
			l.dropped.Add(uint64(n))
			l.log.Error("syslog events not stored", "transport", transport, "events", n, "err", err)
			return false
		}
		l.stored.Add(uint64(res.Accepted))
		l.duplicates.Add(uint64(res.Duplicates))
		if len(res.Rejected) > 0 {
			l.rejected.Add(uint64(len(res.Rejected)))
			r := res.Rejected[0]
			l.log.Warn("syslog events rejected", "transport", transport, "events", len(res.Rejected), "field", r.Field, "reason", r.Reason)
		}
		return true
	}
	fail := func() {
		if failed != nil {
			close(failed)
			for range in { // the reader stops at its next event
			}
		}
	}
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				timer.Stop()
				flush()
				return
			}
			buf = append(buf, ev)
			if len(buf) == 1 {
				timer.Reset(l.cfg.FlushEvery)
			}
			if len(buf) >= l.cfg.BatchSize {
				timer.Stop()
				if !flush() && failed != nil {
					fail()
					return
				}
			}
		case <-timer.C:
			if !flush() && failed != nil {
				fail()
				return
			}
		}
	}
}
