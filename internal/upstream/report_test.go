package upstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/problem"
)

// now is the region's clock in the decoder tests (the fixtures are of 2026-12-01).
var now = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)

func TestDecodeReportValid(t *testing.T) {
	b, err := os.ReadFile("testdata/reports/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := DecodeReport(bytes.NewReader(b), now)
	if err != nil {
		t.Fatalf("valid.json: %v", err)
	}
	if len(rep.Apps) != 2 || len(rep.Incidents) != 2 || rep.Apps[0].Grade != "B" || *rep.Apps[0].Score != 72 ||
		rep.Apps[1].Score != nil || rep.Apps[1].Codes[0].RevokedAt == nil {
		t.Errorf("decoded %+v", rep)
	}
}

// TestDecodeReportBad reads testdata/reports/bad.txt: each line a malformed report that
// must be refused as invalid (400), naming the field when the line names one.
func TestDecodeReportBad(t *testing.T) {
	f, err := os.Open("testdata/reports/bad.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("bad.txt: malformed line %q", line)
		}
		field, name, body := parts[0], parts[1], parts[2]
		n++
		t.Run(name, func(t *testing.T) {
			_, err := DecodeReport(strings.NewReader(body), now)
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid {
				t.Fatalf("err = %v, want an invalid-input problem", err)
			}
			if pe.Field != field {
				t.Errorf("field = %q, want %q (%s)", pe.Field, field, pe.Message)
			}
		})
	}
	if n < 20 {
		t.Fatalf("bad.txt has %d cases", n)
	}
}

func TestDecodeReportLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"not an object", "[]"},
		{"trailing data", `{"version":1} {}`},
		{"too large", `{"source":"` + strings.Repeat("x", MaxReportSize) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeReport(strings.NewReader(tc.body), now); problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("err = %v, want invalid", err)
			}
		})
	}
}

func TestSignature(t *testing.T) {
	key, err := ParseKey("mgk_" + strings.Repeat("0f", 32))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"report_id":"x"}`)
	sig := Sign(key, body)
	if !VerifySignature(key, body, sig) {
		t.Fatal("a signature does not verify")
	}
	other, _ := ParseKey("mgk_" + strings.Repeat("f0", 32))
	for name, ok := range map[string]bool{
		"other key":       VerifySignature(other, body, sig),
		"other body":      VerifySignature(key, []byte(`{"report_id":"y"}`), sig),
		"no prefix":       VerifySignature(key, body, strings.TrimPrefix(sig, "v1=")),
		"not hex":         VerifySignature(key, body, "v1=zz"),
		"empty":           VerifySignature(key, body, ""),
		"truncated":       VerifySignature(key, body, sig[:len(sig)-2]),
		"other algorithm": VerifySignature(key, body, "v2="+strings.TrimPrefix(sig, "v1=")),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
	for _, bad := range []string{"", "mgk_", "mgt_" + strings.Repeat("0", 64), "mgk_" + strings.Repeat("g", 64), "mgk_" + strings.Repeat("0", 62)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

// FuzzDecodeReport: no input panics the decoder; what it accepts is valid, and
// survives encoding and decoding again unchanged.
func FuzzDecodeReport(f *testing.F) {
	if b, err := os.ReadFile("testdata/reports/valid.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := DecodeReport(bytes.NewReader(data), now)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("error is not a problem: %v", err)
			}
			return
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeReport(bytes.NewReader(b), now)
		if err != nil {
			t.Fatalf("an accepted report does not decode again: %v", err)
		}
		if Digest(again) != Digest(rep) || again.ReportID != rep.ReportID {
			t.Fatal("an accepted report changed through encoding")
		}
	})
}
