package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/delivery"
)

// bodyFunc makes a request body and its content type when the request is sent, so that
// it can use what earlier requests of a scenario created.
type bodyFunc func(t *testing.T) (io.Reader, string)

// apiScenario is one request of an API scenario table, after pocketbase's tests/api.go:
// who sends what, the status (and error code) answered, what the body must and must not
// contain, and hooks run before the request (setup) and after it (state checks, reading
// the answer into the vars of later rows).
type apiScenario struct {
	name      string
	method    string
	url       string // {key} is replaced by vars[key]
	user      string // a seeded user, "token:…" for a bearer token ({key} allowed), "" for none
	body      bodyFunc
	status    int
	errCode   string // the error code of an error answer
	expect    []string
	notExpect []string
	before    func(t *testing.T)
	after     func(t *testing.T, body []byte, h http.Header)
}

// leakMarks must not appear in hospital A's answers: hospital B's software and assets,
// and internal errors.
var leakMarks = []string{vendorBName, productBName, "B-001", "PACS archive B", "goroutine ", ".go:", "sql:", "SQLSTATE"}

// runScenarios sends the rows in order, each as a subtest, and stops at the first that
// fails: later rows build on what earlier ones did.
func (e *testEnv) runScenarios(t *testing.T, vars map[string]string, rows []apiScenario) {
	t.Helper()
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	for _, sc := range rows {
		ok := t.Run(sc.name, func(t *testing.T) {
			if sc.before != nil {
				sc.before(t)
			}
			var rd io.Reader
			var ct string
			if sc.body != nil {
				rd, ct = sc.body(t)
			}
			req, err := http.NewRequest(sc.method, e.URL+expand(sc.url), rd)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(req.URL.String(), "%7B") {
				t.Fatalf("unexpanded variable in %s", sc.url)
			}
			switch user := expand(sc.user); {
			case strings.HasPrefix(user, "token:"):
				req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(user, "token:"))
			case user != "":
				req.Header.Set("Authorization", "Bearer "+e.Tokens[user])
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			code, body, h := do(t, http.DefaultClient, req)
			if sc.errCode != "" {
				wantAPIError(t, code, body, sc.status, sc.errCode)
			} else if code != sc.status {
				t.Fatalf("%s %s: status %d, want %d: %s", sc.method, sc.url, code, sc.status, body)
			}
			for _, s := range sc.expect {
				if !bytes.Contains(body, []byte(s)) {
					t.Errorf("response lacks %q: %s", s, body)
				}
			}
			for _, s := range sc.notExpect {
				if bytes.Contains(body, []byte(s)) {
					t.Errorf("response contains %q: %s", s, body)
				}
			}
			if sc.after != nil && !t.Failed() {
				sc.after(t, body, h)
			}
		})
		if !ok {
			return
		}
	}
}

// jsonBody is a JSON request body of v.
func jsonBody(v any) bodyFunc {
	return func(t *testing.T) (io.Reader, string) {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(j), "application/json"
	}
}

// rawBody is a request body of s with content type ct.
func rawBody(s, ct string) bodyFunc {
	return func(*testing.T) (io.Reader, string) { return strings.NewReader(s), ct }
}

// decode decodes an API answer into a T, failing the test when it does not decode.
func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, body)
	}
	return v
}

// decodes is an after hook that only checks that the answer decodes into a T.
func decodes[T any](t *testing.T, body []byte, _ http.Header) { decode[T](t, body) }

// deliveryBuild is the manifest of delivery ZHMZ-1.0-001 of version 1.0 of product, by
// vendor: the artefact server/app.tar.gz and the SBOM app.cdx.json.
func deliveryBuild(vendor, product string, artefact, sbom []byte) (*delivery.Manifest, error) {
	return delivery.Build(vendor, product, "1.0", "ZHMZ-1.0-001", time.Now(), []delivery.File{
		fileOf("server/app.tar.gz", artefact), fileOf("app.cdx.json", sbom)})
}
