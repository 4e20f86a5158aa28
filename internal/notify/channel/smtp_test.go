package channel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// selfSignedTLS returns a server TLS configuration with a certificate for 127.0.0.1 and
// localhost, made for this test.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// mailServer is a real SMTP server (github.com/emersion/go-smtp) on loopback that takes
// AUTH PLAIN for one user and keeps every message it accepts.
type mailServer struct {
	addr string
	mu   sync.Mutex
	auth []authTry // every AUTH attempt
	got  []receivedMail
}

type authTry struct {
	user  string
	ok    bool
	inTLS bool
}

type receivedMail struct {
	from string
	to   []string
	data []byte
}

type mailSession struct {
	srv    *mailServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		_, inTLS := s.conn.TLSConnectionState()
		ok := username == "alerts@hospital.example" && password == "correct horse"
		s.srv.mu.Lock()
		s.srv.auth = append(s.srv.auth, authTry{user: username, ok: ok, inTLS: inTLS})
		s.srv.mu.Unlock()
		if !ok {
			return smtp.ErrAuthFailed // 535 5.7.8, as RFC 4954 says
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, receivedMail{from: s.from, to: s.to, data: b})
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// startMailServer starts the server: startTLS offers STARTTLS on a plain listener,
// implicit serves TLS from the first byte, neither serves plain SMTP only.
func startMailServer(t *testing.T, startTLS, implicit bool) *mailServer {
	t.Helper()
	ms := &mailServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{srv: ms, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := selfSignedTLS(t)
	switch {
	case implicit:
		l = tls.NewListener(l, cfg)
	case startTLS:
		srv.TLSConfig = cfg
	}
	ms.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ms
}

func (ms *mailServer) snapshot() ([]authTry, []receivedMail) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]authTry(nil), ms.auth...), append([]receivedMail(nil), ms.got...)
}

// parsedMail is a received message's decoded subject, Message-ID and plain and HTML parts.
type parsedMail struct {
	subject, messageID, plain, html string
}

func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var p parsedMail
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	p.messageID = msg.Header.Get("Message-ID")
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = part // quoted-printable is decoded by the multipart reader
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, part)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.plain = string(b)
		case "text/html":
			p.html = string(b)
		}
	}
	return p
}

func smtpConfig(url string, startTLS bool, password string) Config {
	return Config{
		Kind: KindSMTP, URL: url, StartTLS: startTLS,
		Username: "alerts@hospital.example", Secret: password,
		From: "medguard <alerts@hospital.example>",
		To:   []string{"soc@hospital.example", "ciso@hospital.example"},
		// The test server's certificate is made by the test; nothing else trusts it.
		InsecureSkipVerify: true,
	}
}

// TestSMTPStartTLSAndAuthPlainDeliver: over smtp:// with STARTTLS required, the sender
// upgrades the connection, authenticates with PLAIN inside TLS, and the server receives
// one mail for both recipients, in the message's language, listing every alert.
func TestSMTPStartTLSAndAuthPlainDeliver(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, true, false)
	s, err := New(smtpConfig("smtp://"+ms.addr, true, "correct horse"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	alerts := sampleAlerts(5)
	if err := s.Send(context.Background(), Message{Key: "d-42", Lang: "zh-CN", Alerts: alerts}); err != nil {
		t.Fatalf("send: %v", err)
	}
	auth, got := ms.snapshot()
	if len(auth) != 1 || !auth[0].ok || !auth[0].inTLS {
		t.Errorf("AUTH attempts %+v, want one successful attempt inside TLS", auth)
	}
	if len(got) != 1 {
		t.Fatalf("server received %d mails, want 1", len(got))
	}
	if got[0].from != "alerts@hospital.example" || strings.Join(got[0].to, ",") != "soc@hospital.example,ciso@hospital.example" {
		t.Errorf("envelope from %q to %v", got[0].from, got[0].to)
	}
	p := parseMail(t, got[0].data)
	if p.subject != "[medguard] 5 条告警" {
		t.Errorf("subject %q", p.subject)
	}
	if p.messageID != "<d-42@medguard>" {
		t.Errorf("Message-ID %q, want one made from the delivery key", p.messageID)
	}
	for _, a := range alerts {
		for _, part := range []string{p.plain, p.html} {
			if !strings.Contains(part, a.URL) || len(missingIDs(part, []Alert{a})) > 0 || !strings.Contains(part, "严重") {
				t.Errorf("alert %d not listed in\n%s", a.ID, part)
			}
		}
	}
}

// TestSMTPImplicitTLS: smtps:// speaks TLS from the first byte.
func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, true)
	s, err := New(smtpConfig("smtps://"+ms.addr, false, "correct horse"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Key: "t-1", Lang: "en", Test: true}); err != nil {
		t.Fatalf("send: %v", err)
	}
	_, got := ms.snapshot()
	if len(got) != 1 {
		t.Fatalf("server received %d mails, want 1", len(got))
	}
	p := parseMail(t, got[0].data)
	if p.subject != "[medguard] Test message" || !strings.Contains(p.plain, "This is a test message") {
		t.Errorf("subject %q, body\n%s", p.subject, p.plain)
	}
}

// TestSMTPWrongPasswordIsPermanent: the server's 535 is final; the dispatcher must not
// retry a bad password.
func TestSMTPWrongPasswordIsPermanent(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, true, false)
	s, err := New(smtpConfig("smtp://"+ms.addr, true, "wrong"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{Key: "d-1", Lang: "en", Alerts: sampleAlerts(1)})
	if err == nil || !IsPermanent(err) {
		t.Fatalf("got %v, want a permanent error", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error repeats the password: %v", err)
	}
	if _, got := ms.snapshot(); len(got) != 0 {
		t.Errorf("the server received %d mails", len(got))
	}
}

// TestSMTPRequiredStartTLSMissing: when STARTTLS is required and the server does not
// offer it, nothing is sent, not even the password.
func TestSMTPRequiredStartTLSMissing(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, false)
	s, err := New(smtpConfig("smtp://"+ms.addr, true, "correct horse"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Key: "d-1", Lang: "en", Alerts: sampleAlerts(1)}); err == nil {
		t.Fatal("sent without the required STARTTLS")
	}
	if auth, got := ms.snapshot(); len(auth) != 0 || len(got) != 0 {
		t.Errorf("AUTH attempts %v, mails %d: want none", auth, len(got))
	}
}

// TestSMTPNoPasswordInClear: without TLS on offer (and STARTTLS not required), the sender
// refuses PLAIN and LOGIN instead of sending the password in clear.
func TestSMTPNoPasswordInClear(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, false)
	s, err := New(smtpConfig("smtp://"+ms.addr, false, "correct horse"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Key: "d-1", Lang: "en", Alerts: sampleAlerts(1)}); err == nil {
		t.Fatal("authenticated over a clear-text connection")
	}
	if auth, _ := ms.snapshot(); len(auth) != 0 {
		t.Errorf("AUTH attempts %v: the password crossed in clear", auth)
	}
}

func TestSMTPConfigChecks(t *testing.T) {
	t.Parallel()
	base := smtpConfig("smtp://mail.example:587", true, "pw")
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"http url", func(c *Config) { c.URL = "http://mail.example" }},
		{"no host", func(c *Config) { c.URL = "smtp://" }},
		{"bad port", func(c *Config) { c.URL = "smtp://mail.example:99999" }},
		{"password in url", func(c *Config) { c.URL = "smtp://u:secretpw@mail.example" }},
		{"bad from", func(c *Config) { c.From = "not an address" }},
		{"no recipient", func(c *Config) { c.To = nil }},
		{"bad recipient", func(c *Config) { c.To = []string{"soc@hospital.example", "nope"} }},
	}
	if _, err := New(base, Options{}); err != nil {
		t.Fatalf("base config: %v", err)
	}
	for _, tc := range cases {
		cfg := base
		tc.edit(&cfg)
		_, err := New(cfg, Options{})
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: the error repeats the password: %v", tc.name, err)
		}
	}
}
