package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// bodyTypes returns a fresh value of every JSON request body the API decodes.
func bodyTypes() map[string]any {
	return map[string]any{
		"asset.Input":     &asset.Input{},
		"org.Input":       &org.Input{},
		"auth.UserInput":  &auth.UserInput{},
		"auth.UserUpdate": &auth.UserUpdate{},
		"password":        &passwordRequest{},
		"token":           &tokenRequest{},
		"locale":          &localeRequest{},
		"retire":          &retireRequest{},
	}
}

// FuzzJSONBodies feeds arbitrary bytes to the decoder of every JSON request body: it
// must never panic, and every failure must be a client-safe problem that does not echo
// the body back.
func FuzzJSONBodies(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"name":"HIS","kind":"server","zone":"internal","org_id":1}`, `[]`, `null`, `"x"`, `{"tags":["a","b"]}`,
		`{"mlps_level":"3"}`, `{"org_id":1e400}`, `{"unknown":1}`, `{} {}`, `{"a":`, "\xff\xfe{}", strings.Repeat("[", 10000),
		`{"password":"x","password":"y"}`, `{"expires_in_days":-1,"scope":"write"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, dst := range bodyTypes() {
			err := decodeJSONFrom(bytes.NewReader(body), dst)
			if err == nil {
				continue
			}
			pe, ok := problem.As(err)
			if !ok {
				t.Fatalf("%s: error is not a problem: %v", name, err)
			}
			if pe.Kind != problem.KindInvalid {
				t.Fatalf("%s: problem kind %v, want invalid", name, pe.Kind)
			}
			if len(body) > 24 && strings.Contains(pe.Message, string(body)) {
				t.Fatalf("%s: message echoes the body: %q", name, pe.Message)
			}
		}
	})
}

func TestDecodeJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, code string }{
		{"empty", ``, "bad_json"},
		{"array", `[]`, "bad_json"},
		{"unknown field", `{"name":"a","nope":1}`, "bad_json"},
		{"trailing", `{"name":"a"} {"name":"b"}`, "bad_json"},
		{"wrong type", `{"name":1}`, "bad_json"},
		{"too big", `{"name":"` + strings.Repeat("a", maxJSONBody) + `"}`, "body_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in org.Input
			err := decodeJSONFrom(strings.NewReader(tc.body), &in)
			pe, ok := problem.As(err)
			if !ok || pe.Code != tc.code {
				t.Fatalf("decode %s: %v, want code %s", tc.name, err, tc.code)
			}
		})
	}
	var in org.Input
	if err := decodeJSONFrom(strings.NewReader(`{"name":"ICU","kind":"department","parent_id":3}`), &in); err != nil || in.Name != "ICU" || in.ParentID != 3 {
		t.Fatalf("good body: %v %+v", err, in)
	}
}
