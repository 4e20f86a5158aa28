package syslogd_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/syslogd"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// Messages of the tests: RFC 5424 with a JSON payload and RFC 3164 with key=value pairs.
const (
	msg5424 = `<134>1 2026-02-28T08:15:30Z emr01 EMR - - - {"id":"e-%d","account":"u2","action":"view","patient_id":"P%d"}`
	msg3164 = `<38>Feb 28 08:15:30 his01 HIS[2211]: id=h-%d account=u1 action=login_failure outcome=failure source_ip=10.9.9.9`
)

type world struct {
	svc   *events.Service
	node  org.Node
	a     actor.Actor
	store *store.DB
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := org.NewService(db, tl).Create(context.Background(), actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, events.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	svc, err := events.New(db, events.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return &world{svc: svc, node: n, store: db, a: actor.Actor{Username: "u", Role: "auditor", OrgID: n.ID, OrgPath: n.Path}}
}

// syncBuffer is a log sink safe for the listener's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a listener on loopback until the test ends, and returns it with its log.
func start(t *testing.T, app syslogd.Appender, c syslogd.Config) (*syslogd.Listener, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := syslogd.New(app, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return l, logs
}

// waitFor polls until cond holds; it fails the test after a generous limit (a hang, not
// a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 3000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func storedIDs(t *testing.T, w *world) []string {
	t.Helper()
	list, err := w.svc.List(context.Background(), w.a, events.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range list {
		ids = append(ids, e.System+"/"+e.ID)
	}
	sort.Strings(ids)
	return ids
}

// TestListenerStoresUDPAndTCP: RFC 5424 (JSON) and RFC 3164 (key=value) messages sent
// over UDP, and over TCP in both framings mixed on one connection, are stored for the
// configured organisation, and the counters say so.
func TestListenerStoresUDPAndTCP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		l, _ := start(t, w.svc, syslogd.Config{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", OrgID: w.node.ID, FlushEvery: 20 * time.Millisecond})

		u, err := net.Dial("udp", l.UDPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		for i := 1; i <= 2; i++ {
			fmt.Fprintf(u, msg5424, i, i)
		}
		fmt.Fprintf(u, msg3164, 1)
		waitFor(t, "the UDP messages", func() bool { return l.Stats().Stored == 3 })

		c, err := net.Dial("tcp", l.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var stream bytes.Buffer
		for i := 3; i <= 4; i++ { // newline framing
			fmt.Fprintf(&stream, msg5424+"\n", i, i)
		}
		for i := 2; i <= 3; i++ { // octet counting
			m := fmt.Sprintf(msg3164, i)
			fmt.Fprintf(&stream, "%d %s", len(m), m)
		}
		fmt.Fprintf(&stream, msg5424+"\n", 1, 1) // a duplicate of a UDP message
		if _, err := c.Write(stream.Bytes()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the TCP messages", func() bool { return l.Stats().Stored == 7 && l.Stats().Duplicates == 1 })
		want := []string{"EMR/e-1", "EMR/e-2", "EMR/e-3", "EMR/e-4", "HIS/h-1", "HIS/h-2", "HIS/h-3"}
		if got := storedIDs(t, w); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("stored %v, want %v", got, want)
		}
		if st := l.Stats(); st != (syslogd.Stats{Received: 8, Stored: 7, Duplicates: 1}) {
			t.Errorf("stats = %+v", st)
		}
	})
}

// TestListenerInvalidMessage: an invalid message is counted as rejected, not stored, and
// the log names neither it nor the patient id it holds; the connection goes on.
func TestListenerInvalidMessage(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	l, logs := start(t, w.svc, syslogd.Config{TCP: "127.0.0.1:0", OrgID: w.node.ID, FlushEvery: 20 * time.Millisecond})
	c, err := net.Dial("tcp", l.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "<134>1 not-a-time emr01 EMR - - - patient_id=SECRET-PATIENT-77\n")
	fmt.Fprint(c, `<38>Feb 28 08:15:30 his01 HIS: account=u1 action=view colour=SECRET-PATIENT-78`+"\n")
	fmt.Fprintf(c, msg5424+"\n", 1, 1)
	waitFor(t, "the valid message", func() bool { return l.Stats().Stored == 1 })
	if st := l.Stats(); st != (syslogd.Stats{Received: 3, Stored: 1, Rejected: 2}) {
		t.Errorf("stats = %+v", st)
	}
	if got := storedIDs(t, w); len(got) != 1 || got[0] != "EMR/e-1" {
		t.Errorf("stored %v", got)
	}
	log := logs.String()
	if !strings.Contains(log, "invalid syslog message") {
		t.Errorf("log does not report the invalid message:\n%s", log)
	}
	if strings.Contains(log, "SECRET-PATIENT") || strings.Contains(log, "not-a-time") {
		t.Errorf("log holds the message content:\n%s", log)
	}
}

// slowAppender blocks every Append until release is closed, telling entered when it is
// called.
type slowAppender struct {
	next    syslogd.Appender
	entered chan int
	release chan struct{}
}

func (s *slowAppender) Append(ctx context.Context, orgID int64, evs []events.Event) (events.Result, error) {
	select {
	case s.entered <- len(evs):
	default:
	}
	<-s.release
	return s.next.Append(ctx, orgID, evs)
}

// TestListenerTCPBackPressure: while Append is blocked, the listener stops reading the
// connection once the next batch is full — it holds the batch being appended, a full one
// and one message — so the sender's writes block (the kernel buffers fill) instead of the
// listener queueing without bound. Once Append returns, reading resumes.
func TestListenerTCPBackPressure(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	slow := &slowAppender{next: w.svc, entered: make(chan int, 1), release: make(chan struct{})}
	const batch = 10
	l, _ := start(t, slow, syslogd.Config{TCP: "127.0.0.1:0", OrgID: w.node.ID, BatchSize: batch})
	c, err := net.Dial("tcp", l.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Far more than the loopback socket buffers hold.
	var stream bytes.Buffer
	for i := 0; stream.Len() < 64<<20; i++ {
		fmt.Fprintf(&stream, msg5424+"\n", i, i)
	}
	if _, err := c.Write(stream.Bytes()[:4096]); err != nil { // the first batch and more
		t.Fatal(err)
	}
	<-slow.entered
	// The write cannot complete while the listener does not read: it ends at the deadline.
	// (With an unbounded queue it completes, and the test fails.)
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	n, err := c.Write(stream.Bytes()[4096:])
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write of %d bytes while Append blocks: n=%d err=%v, want a timeout", stream.Len(), n, err)
	}
	if got := l.Stats().Received; got > 2*batch+1 {
		t.Errorf("received %d messages while Append blocks, want at most two batches (%d each) and one more", got, batch)
	}
	close(slow.release)
	c.SetWriteDeadline(time.Time{})
	waitFor(t, "reading to resume", func() bool { return l.Stats().Stored > batch+1 })
}

// TestListenerBatchFillsDuringAppend: while one Append is in flight, the next batch of
// the connection fills up to BatchSize — even past FlushEvery — so that a slow commit
// leads to bigger batches, not more commits; nothing read is lost.
func TestListenerBatchFillsDuringAppend(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	slow := &slowAppender{next: w.svc, entered: make(chan int, 1), release: make(chan struct{})}
	rec := &batchSizes{next: slow}
	const batch, total = 10, 25
	l, _ := start(t, rec, syslogd.Config{TCP: "127.0.0.1:0", OrgID: w.node.ID, BatchSize: batch, FlushEvery: time.Millisecond})
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(slow.release) }) }) // before the listener stops, if the test fails
	c, err := net.Dial("tcp", l.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var stream bytes.Buffer
	for i := range total {
		fmt.Fprintf(&stream, msg5424+"\n", i, i)
	}
	if _, err := c.Write(stream.Bytes()); err != nil {
		t.Fatal(err)
	}
	if n := <-slow.entered; n != batch {
		t.Fatalf("first batch of %d events, want %d", n, batch)
	}
	// The first batch is blocked: the next fills (2×batch read, one more in hand).
	waitFor(t, "the next batch to fill", func() bool { return l.Stats().Received == 2*batch+1 })
	release.Do(func() { close(slow.release) })
	waitFor(t, "the events to be stored", func() bool { return l.Stats().Stored == total })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sizes) < 2 || rec.sizes[0] != batch || rec.sizes[1] != batch {
		t.Errorf("batches %v, want two full batches of %d first", rec.sizes, batch)
	}
}

// batchSizes records the size of every batch appended, then appends it.
type batchSizes struct {
	next  syslogd.Appender
	mu    sync.Mutex
	sizes []int
}

func (b *batchSizes) Append(ctx context.Context, orgID int64, evs []events.Event) (events.Result, error) {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(evs))
	b.mu.Unlock()
	return b.next.Append(ctx, orgID, evs)
}

// TestListenerDefaultBatch: a stream connection's backlog is appended in batches of
// 5,000 events by default (1,000-event batches cost a quarter more CPU an event on
// SQLite); the rest when the connection closes.
func TestListenerDefaultBatch(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	rec := &batchSizes{next: w.svc}
	l, _ := start(t, rec, syslogd.Config{TCP: "127.0.0.1:0", OrgID: w.node.ID, FlushEvery: time.Hour})
	c, err := net.Dial("tcp", l.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	for i := range 5010 {
		fmt.Fprintf(&stream, msg5424+"\n", i, i)
	}
	if _, err := c.Write(stream.Bytes()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitFor(t, "the events to be stored", func() bool { return l.Stats().Stored == 5010 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if fmt.Sprint(rec.sizes) != "[5000 10]" {
		t.Errorf("batches %v, want [5000 10]", rec.sizes)
	}
}

// certs writes a CA, a server certificate for 127.0.0.1 and a client certificate signed
// by the CA into dir, returning the CA pool and the client certificate.
func certs(t *testing.T, dir string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	writePEM := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth)
	kb, _ := x509.MarshalECPrivateKey(srvKey)
	writePEM("ca.pem", "CERTIFICATE", caDER)
	writePEM("server.pem", "CERTIFICATE", srvDER)
	writePEM("server.key", "EC PRIVATE KEY", kb)
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
}

// TestListenerTLS: over TLS (RFC 5425 octet counting) a client with a certificate
// from the client CA is served; one without a certificate is refused and nothing of it
// is read; without a client CA any client is served.
func TestListenerTLS(t *testing.T) {
	dir := t.TempDir()
	pool, clientCert := certs(t, dir)
	send := func(t *testing.T, addr string, cert *tls.Certificate, id int) error {
		cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		m := fmt.Sprintf(msg5424, id, id)
		if _, err := fmt.Fprintf(c, "%d %s", len(m), m); err != nil {
			return err
		}
		// The server refuses a client without a certificate after the client's side of
		// the handshake (TLS 1.3): the refusal shows on the next read. A served client
		// reads nothing until it closes its side.
		c.CloseWrite()
		_, err = c.Read(make([]byte, 1))
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	for _, c := range []struct {
		name     string
		clientCA bool
	}{{"client CA", true}, {"no client CA", false}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, storetest.Open(t, store.SQLite))
			cfg := syslogd.Config{TLS: "127.0.0.1:0", CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server.key"),
				OrgID: w.node.ID, FlushEvery: 20 * time.Millisecond}
			if c.clientCA {
				cfg.ClientCAFile = filepath.Join(dir, "ca.pem")
			}
			l, _ := start(t, w.svc, cfg)
			addr := l.TLSAddr().String()
			if err := send(t, addr, &clientCert, 1); err != nil {
				t.Fatalf("client with certificate: %v", err)
			}
			waitFor(t, "the message", func() bool { return l.Stats().Stored == 1 })
			err := send(t, addr, nil, 2)
			if c.clientCA {
				if err == nil {
					t.Fatal("client without certificate served")
				}
				if st := l.Stats(); st.Received != 1 || st.Stored != 1 {
					t.Errorf("stats = %+v, want only the first message", st)
				}
			} else {
				if err != nil {
					t.Fatalf("client without certificate, no client CA: %v", err)
				}
				waitFor(t, "the second message", func() bool { return l.Stats().Stored == 2 })
			}
		})
	}
}

// TestListenerUDPDropsWhenQueueFull: UDP cannot push back, so while Append is blocked the
// listener keeps one batch and a queue of UDPQueue messages and drops and counts the rest.
func TestListenerUDPDropsWhenQueueFull(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	slow := &slowAppender{next: w.svc, entered: make(chan int, 1), release: make(chan struct{})}
	l, _ := start(t, slow, syslogd.Config{UDP: "127.0.0.1:0", OrgID: w.node.ID, BatchSize: 1, UDPQueue: 2})
	u, err := net.Dial("udp", l.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	fmt.Fprintf(u, msg5424, 0, 0)
	<-slow.entered // the first message is in the blocked batch
	const n = 10
	for i := 1; i < n; i++ {
		fmt.Fprintf(u, msg5424, i, i)
	}
	waitFor(t, "the datagrams", func() bool { return l.Stats().Received == n })
	if st := l.Stats(); st.Dropped != n-3 {
		t.Errorf("stats = %+v, want %d dropped (one in the batch, two queued)", st, n-3)
	}
	close(slow.release)
	waitFor(t, "the kept messages", func() bool { return l.Stats().Stored == 3 })
}
