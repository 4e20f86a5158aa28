package channel

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestParseReply: the vendors' reply shapes are read, anything else is refused.
func TestParseReply(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		code    int
		wantErr bool
	}{
		{"wecom ok", `{"errcode":0,"errmsg":"ok"}`, 0, false},
		{"dingtalk limit", `{"status":1111,"wait":5,"errcode":130101,"errmsg":"send too fast"}`, 130101, false},
		{"feishu", `{"code":19021,"data":{},"msg":"sign match fail"}`, 19021, false},
		{"feishu legacy", `{"StatusCode":0,"StatusMessage":"success"}`, 0, false},
		{"negative", `{"errcode":-1,"errmsg":"系统繁忙"}`, -1, false},
		{"html", `<html>502</html>`, 0, true},
		{"empty", ``, 0, true},
		{"array", `[1,2]`, 0, true},
		{"no code", `{"msg":"hi"}`, 0, true},
		{"float code", `{"code":1.5}`, 0, true},
		{"huge code", `{"errcode":99999999999999999999}`, 0, true},
		{"numeric string code", `{"errcode":"45009"}`, 45009, false},
		{"text code", `{"errcode":"busy"}`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseReply([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && r.Code != tc.code {
				t.Errorf("code %d, want %d", r.Code, tc.code)
			}
		})
	}
}

// FuzzParseReply: no reply makes the parser panic, and an accepted reply's message is
// one line of valid UTF-8, at most 200 runes.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{`{"errcode":0,"errmsg":"ok"}`, `{"code":11232,"msg":"frequency limited"}`, `{"StatusCode":0}`, `null`, `{"errcode":1e3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReply(b)
		if err != nil {
			return
		}
		if !utf8.ValidString(r.Msg) || utf8.RuneCountInString(r.Msg) > 200 || strings.ContainsAny(r.Msg, "\r\n") {
			t.Errorf("message %q", r.Msg)
		}
	})
}
