package portal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// portal starts a loopback HTTPS server answering with headers h (and maxTLS as its
// highest version when not 0), and a plain HTTP server answering with plain.
func portal(t *testing.T, h http.Header, maxTLS uint16, plain http.HandlerFunc) (*httptest.Server, *httptest.Server, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range h {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		_, _ = w.Write([]byte("<html>portal</html>"))
	}))
	if maxTLS != 0 {
		srv.TLS = &tls.Config{MaxVersion: maxTLS, MinVersion: tls.VersionTLS10}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pl := httptest.NewServer(plain)
	t.Cleanup(pl.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv, pl, roots
}

func redirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "https://"+r.Host+r.URL.Path, http.StatusMovedPermanently)
}

func checks(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Type+"/"+f.Check)
	}
	slices.Sort(out)
	return out
}

// TestCheck: a well-configured portal has no finding; a careless one has one per
// missing protection; an untrusted or expiring certificate, TLS 1.0 and a plain HTTP
// portal are TLS findings. Every server is on loopback.
func TestCheck(t *testing.T) {
	good := http.Header{"Strict-Transport-Security": {"max-age=31536000; includeSubDomains"},
		"Content-Security-Policy": {"default-src 'self'; frame-ancestors 'none'"}, "X-Content-Type-Options": {"nosniff"},
		"Set-Cookie": {"sid=1; Secure; HttpOnly; SameSite=Lax"}, "Server": {"nginx"}}
	bad := http.Header{"Set-Cookie": {"sid=1; Path=/"}, "Server": {"nginx/1.18.0"}, "Strict-Transport-Security": {"max-age=600"}}
	ctx := context.Background()

	t.Run("good", func(t *testing.T) {
		srv, pl, roots := portal(t, good, 0, redirect)
		rep, err := Check(ctx, srv.URL+"/portal", Options{RootCAs: roots, PlainURL: pl.URL + "/portal"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) != 0 || !rep.TLS.Verified || !rep.Redirects || rep.TLS.Version != "TLS 1.3" {
			t.Fatalf("findings %v, tls %+v, redirects %v", checks(rep), rep.TLS, rep.Redirects)
		}
	})
	t.Run("careless", func(t *testing.T) {
		srv, pl, roots := portal(t, bad, 0, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("plain")) })
		rep, err := Check(ctx, srv.URL, Options{RootCAs: roots, PlainURL: pl.URL})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"web.header/cookie", "web.header/csp", "web.header/framing", "web.header/hsts", "web.header/nosniff",
			"web.header/server-version", "web.tls/http-redirect"}
		if got := checks(rep); !slices.Equal(got, want) {
			t.Fatalf("findings %v, want %v", got, want)
		}
		for _, f := range rep.Findings {
			if f.Check == "cookie" && !strings.Contains(f.Evidence, "Secure and HttpOnly") {
				t.Errorf("cookie evidence %q", f.Evidence)
			}
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv, _, _ := portal(t, good, 0, redirect)
		rep, err := Check(ctx, srv.URL, Options{RootCAs: x509.NewCertPool()})
		if err != nil {
			t.Fatal(err)
		}
		if got := checks(rep); !slices.Equal(got, []string{"web.tls/certificate"}) || rep.TLS.Verified {
			t.Fatalf("findings %v", got)
		}
	})
	t.Run("expiring certificate", func(t *testing.T) {
		srv, _, roots := portal(t, good, 0, redirect)
		notAfter := srv.Certificate().NotAfter
		rep, err := Check(ctx, srv.URL, Options{RootCAs: roots, Now: func() time.Time { return notAfter.Add(-10 * 24 * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		if got := checks(rep); !slices.Equal(got, []string{"web.tls/certificate-expiry"}) {
			t.Fatalf("findings %v", got)
		}
	})
	t.Run("TLS 1.0", func(t *testing.T) {
		srv, _, roots := portal(t, good, tls.VersionTLS10, redirect)
		rep, err := Check(ctx, srv.URL, Options{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		if got := checks(rep); !slices.Equal(got, []string{"web.tls/version"}) {
			t.Fatalf("findings %v (tls %+v)", got, rep.TLS)
		}
	})
	t.Run("plain HTTP address", func(t *testing.T) {
		_, pl, _ := portal(t, good, 0, redirect)
		rep, err := Check(ctx, pl.URL, Options{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if got := checks(rep); !slices.Contains(got, "web.tls/https") {
			t.Fatalf("findings %v", got)
		}
	})
	for _, u := range []string{"", "ftp://example.com", "https://", "javascript:alert(1)", "https://user:pw@example.com/"} {
		if _, err := Check(ctx, u, Options{}); !errors.Is(err, ErrURL) {
			t.Errorf("Check(%q) = %v, want ErrURL", u, err)
		}
	}
}

// FuzzMaxAge: the HSTS header comes from the checked server; reading it never panics
// and never returns a negative age.
func FuzzMaxAge(f *testing.F) {
	f.Add("max-age=31536000; includeSubDomains")
	f.Fuzz(func(t *testing.T, v string) {
		if n := maxAge(v); n < 0 {
			t.Fatalf("maxAge(%q) = %d", v, n)
		}
	})
}
