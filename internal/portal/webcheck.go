// Package portal checks the transport security and security headers of a web portal —
// the H5 portal of an internet hospital: HTTPS with a certificate that verifies for the
// host and is not about to expire, TLS 1.2 or newer, plain HTTP redirected to HTTPS, and
// the headers that keep a patient's browser safe (HSTS, a content security policy,
// framing forbidden, no MIME sniffing, session cookies Secure and HttpOnly, no server
// version disclosed). It makes two requests (the page over HTTPS, the same host over
// plain HTTP) and reads at most a small part of the body.
package portal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The finding types, as the app evaluation model names them.
const (
	TypeTLS    = "web.tls"
	TypeHeader = "web.header"
)

// Finding is one problem found, with the check that found it.
type Finding struct {
	Type     string `json:"type"`  // web.tls or web.header
	Check    string `json:"check"` // e.g. "certificate", "hsts"
	Severity string `json:"severity"`
	Evidence string `json:"evidence"`
}

// TLSInfo is what the TLS handshake showed.
type TLSInfo struct {
	Version     string    `json:"version"`
	CipherSuite string    `json:"cipher_suite"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotAfter    time.Time `json:"not_after"`
	// Verified: the chain verifies against the trusted roots for the host.
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

// Report is the result of a check.
type Report struct {
	URL       string            `json:"url"`
	Status    int               `json:"status"`
	TLS       *TLSInfo          `json:"tls,omitempty"`
	Headers   map[string]string `json:"headers"`
	Redirects bool              `json:"http_redirects_to_https"`
	Findings  []Finding         `json:"findings"`
	CheckedAt time.Time         `json:"checked_at"`
}

// Options configures a check.
type Options struct {
	// RootCAs are the trusted roots (nil: the system's).
	RootCAs *x509.CertPool
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// ExpiryWarning is how close to its expiry a certificate is a finding (default 30 days).
	ExpiryWarning time.Duration
	// PlainURL is where plain HTTP is asked (default: the portal's address with http://
	// and the default port). An address with its own port has no default plain
	// counterpart: without PlainURL its redirect is not checked.
	PlainURL string
	Now      func() time.Time
}

// ErrURL is returned for a portal address that cannot be checked.
var ErrURL = errors.New("portal: the address must be an http(s) URL with a host")

// maxBody is how much of a response body is read.
const maxBody = 64 << 10

// versionInServer matches a Server header that discloses a version (nginx/1.18.0).
var versionInServer = regexp.MustCompile(`\d+\.\d+`)

// Check checks the portal at raw.
func Check(ctx context.Context, raw string, opt Options) (*Report, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, ErrURL
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.ExpiryWarning <= 0 {
		opt.ExpiryWarning = 30 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	rep := &Report{URL: u.String(), Headers: map[string]string{}, CheckedAt: opt.Now().UTC()}
	add := func(typ, check, severity, format string, args ...any) {
		rep.Findings = append(rep.Findings, Finding{Type: typ, Check: check, Severity: severity, Evidence: fmt.Sprintf(format, args...)})
	}
	secure := *u
	secure.Scheme = "https"
	plain := *u
	plain.Scheme = "http"
	if u.Scheme == "http" {
		add(TypeTLS, "https", "high", "the portal is filed with a plain HTTP address: %s", u.String())
	}
	checkPlain := u.Port() == "" || opt.PlainURL != ""
	if opt.PlainURL != "" {
		p, err := url.Parse(opt.PlainURL)
		if err != nil || p.Scheme != "http" || p.Host == "" {
			return nil, ErrURL
		}
		plain = *p
	}

	// 1. HTTPS: the handshake as a browser would judge it, then the headers.
	var info TLSInfo
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10,
		VerifyConnection: func(cs tls.ConnectionState) error {
			info = describe(cs)
			if len(cs.PeerCertificates) == 0 {
				info.Error = "no certificate"
				return nil
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: opt.RootCAs, Intermediates: inter,
				DNSName: hostOnly(secure.Host), CurrentTime: opt.Now()})
			info.Verified = err == nil
			if err != nil {
				info.Error = err.Error()
			}
			return nil
		}}, Proxy: nil, DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := get(ctx, client, secure.String())
	if err != nil {
		add(TypeTLS, "https", "high", "no HTTPS answer from %s: %v", secure.Host, err)
	} else {
		rep.Status = resp.StatusCode
		rep.TLS = &info
		judgeTLS(info, opt, add)
		judgeHeaders(resp, rep, add)
	}

	// 2. Plain HTTP must only send the browser to HTTPS.
	if !checkPlain {
		return rep, nil
	}
	if presp, err := get(ctx, &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, plain.String()); err == nil {
		loc, _ := url.Parse(presp.Header.Get("Location"))
		rep.Redirects = presp.StatusCode >= 300 && presp.StatusCode < 400 && loc != nil && loc.Scheme == "https"
		if !rep.Redirects {
			add(TypeTLS, "http-redirect", "medium", "plain HTTP at %s answers %d instead of redirecting to HTTPS", plain.Host, presp.StatusCode)
		}
	}
	return rep, nil
}

// get fetches url and reads at most maxBody of the body.
func get(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "medguard-portalcheck/1")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	return resp, nil
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func describe(cs tls.ConnectionState) TLSInfo {
	info := TLSInfo{Version: tls.VersionName(cs.Version), CipherSuite: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) > 0 {
		c := cs.PeerCertificates[0]
		info.Subject, info.Issuer, info.NotAfter = c.Subject.String(), c.Issuer.String(), c.NotAfter.UTC()
	}
	return info
}

func judgeTLS(info TLSInfo, opt Options, add func(typ, check, severity, format string, args ...any)) {
	switch info.Version {
	case "TLS 1.0", "TLS 1.1", "SSLv3":
		add(TypeTLS, "version", "high", "the server negotiates %s; TLS 1.2 or newer is required", info.Version)
	}
	if !info.Verified {
		add(TypeTLS, "certificate", "high", "the certificate does not verify: %s", info.Error)
	} else if left := info.NotAfter.Sub(opt.Now()); left < opt.ExpiryWarning {
		add(TypeTLS, "certificate-expiry", "medium", "the certificate expires on %s (in %d days)", info.NotAfter.Format(time.DateOnly),
			int(left.Hours()/24))
	}
}

func judgeHeaders(resp *http.Response, rep *Report, add func(typ, check, severity, format string, args ...any)) {
	h := resp.Header
	for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
		"Referrer-Policy", "Server"} {
		if v := h.Get(k); v != "" {
			rep.Headers[k] = v
		}
	}
	if hsts := h.Get("Strict-Transport-Security"); hsts == "" {
		add(TypeHeader, "hsts", "medium", "no Strict-Transport-Security header")
	} else if age := maxAge(hsts); age < 180*24*3600 {
		add(TypeHeader, "hsts", "low", "Strict-Transport-Security max-age is %d s, under 180 days", age)
	}
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		add(TypeHeader, "csp", "medium", "no Content-Security-Policy header")
	}
	if h.Get("X-Frame-Options") == "" && !strings.Contains(csp, "frame-ancestors") {
		add(TypeHeader, "framing", "medium", "neither X-Frame-Options nor a frame-ancestors policy: the portal can be framed (clickjacking)")
	}
	if !strings.EqualFold(strings.TrimSpace(h.Get("X-Content-Type-Options")), "nosniff") {
		add(TypeHeader, "nosniff", "low", "no X-Content-Type-Options: nosniff")
	}
	if s := h.Get("Server"); versionInServer.MatchString(s) {
		add(TypeHeader, "server-version", "low", "the Server header discloses a version: %s", s)
	}
	for _, c := range resp.Cookies() {
		if !c.Secure || !c.HttpOnly {
			var miss []string
			if !c.Secure {
				miss = append(miss, "Secure")
			}
			if !c.HttpOnly {
				miss = append(miss, "HttpOnly")
			}
			add(TypeHeader, "cookie", "medium", "cookie %s is set without %s", c.Name, strings.Join(miss, " and "))
		}
	}
}

// maxAge reads the max-age directive of an HSTS header (0 when absent or bad).
func maxAge(v string) int {
	for _, d := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(d), "=")
		if ok && strings.EqualFold(k, "max-age") {
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err == nil && n >= 0 {
				return n
			}
			return 0
		}
	}
	return 0
}
