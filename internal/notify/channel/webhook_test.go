package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink is a loopback webhook receiver that verifies each request the way
// /work/shared/checks/webhook-sink.py and the documentation do: hex HMAC-SHA256 of
// timestamp + "." + body under the shared secret, compared in constant time.
type sink struct {
	secret []byte
	status int

	mu  sync.Mutex
	got []sinkHit
}

type sinkHit struct {
	delivery string
	ts       int64
	signed   bool
	body     WebhookBody
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get(HeaderTimestamp)
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	hit := sinkHit{delivery: r.Header.Get(HeaderDelivery), signed: hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderSignature)))}
	hit.ts, _ = strconv.ParseInt(ts, 10, 64)
	_ = json.Unmarshal(body, &hit.body)
	s.mu.Lock()
	s.got = append(s.got, hit)
	s.mu.Unlock()
	if s.status != 0 {
		w.WriteHeader(s.status)
	}
}

func TestWebhookSignedDelivery(t *testing.T) {
	sk := &sink{secret: []byte("s3cret")}
	srv := httptest.NewServer(sk)
	defer srv.Close()
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	s, err := New(Config{Kind: KindWebhook, URL: srv.URL + "/hook", Secret: "s3cret"}, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	a := Alert{ID: 7, Source: "supply", Kind: "new_vulnerability", Severity: "critical", Title: "CVE-2026-1 in HIS 5.2", URL: "https://mg.example/alerts/7", Count: 1}
	if err := s.Send(context.Background(), Message{Key: "k-1", Alerts: []Alert{a}}); err != nil {
		t.Fatal(err)
	}
	if len(sk.got) != 1 {
		t.Fatalf("%d requests", len(sk.got))
	}
	h := sk.got[0]
	if !h.signed || h.delivery != "k-1" || h.ts != at.Unix() {
		t.Errorf("signed %v, delivery %q, timestamp %d (want %d)", h.signed, h.delivery, h.ts, at.Unix())
	}
	if len(h.body.Alerts) != 1 || h.body.Alerts[0].ID != 7 || h.body.Alerts[0].Title != a.Title || h.body.Alerts[0].URL != a.URL || h.body.Test {
		t.Errorf("body %+v", h.body)
	}

	// Another secret does not verify: the signature covers the secret.
	other, _ := New(Config{Kind: KindWebhook, URL: srv.URL, Secret: "other"}, Options{})
	if err := other.Send(context.Background(), Message{Key: "k-2", Test: true}); err != nil {
		t.Fatal(err)
	}
	if sk.got[1].signed || !sk.got[1].body.Test || sk.got[1].body.Alerts == nil {
		t.Errorf("under another secret: %+v", sk.got[1])
	}
}

func TestWebhookOutcomes(t *testing.T) {
	for _, c := range []struct {
		status        int
		ok, permanent bool
	}{
		{200, true, false}, {204, true, false}, {400, false, true}, {401, false, true}, {404, false, true},
		{408, false, false}, {429, false, false}, {500, false, false}, {503, false, false}, {302, false, false},
	} {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			srv := httptest.NewServer(&sink{status: c.status})
			defer srv.Close()
			s, _ := New(Config{Kind: KindWebhook, URL: srv.URL}, Options{HTTP: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
			err := s.Send(context.Background(), Message{Key: "k"})
			if (err == nil) != c.ok || IsPermanent(err) != c.permanent {
				t.Fatalf("status %d: err %v (permanent %v)", c.status, err, IsPermanent(err))
			}
		})
	}
	// A receiver that is not there: retried, and the error does not quote the URL.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook?access_token=tok-secret"
	srv.Close()
	s, _ := New(Config{Kind: KindWebhook, URL: url}, Options{})
	err := s.Send(context.Background(), Message{Key: "k"})
	if err == nil || IsPermanent(err) || strings.Contains(err.Error(), "tok-secret") {
		t.Fatalf("closed receiver: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://hooks.example/x": true, "http://127.0.0.1:9/h": true, "": false, "ftp://h/x": false,
		"/relative": false, "http://": false, "https://user:pw@h/x": false, "http://[::1": false, "javascript:alert(1)": false,
	} {
		if err := CheckURL(raw); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v", raw, err)
		}
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example/x", "http://[::1]:80/", "%zz", "http://a b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := CheckURL(raw)
		if err != nil && len(raw) > 40 && strings.Contains(err.Error(), raw) {
			t.Fatalf("the error quotes the URL: %v", err)
		}
		if err == nil {
			if _, err := New(Config{Kind: KindWebhook, URL: raw}, Options{}); err != nil {
				t.Fatalf("CheckURL accepts what New refuses: %v", err)
			}
		}
	})
}
