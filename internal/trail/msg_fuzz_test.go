package trail

import "testing"

// FuzzDecodeSummaryMsg feeds arbitrary stored summary_msg texts to the decoder: it never
// panics, and what it accepts has a key and encodes again.
func FuzzDecodeSummaryMsg(f *testing.F) {
	f.Add(``)
	f.Add(`{"key":"trail.summary.user.create","args":["alice",{"key":"role.admin"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		m := decodeMsg(s)
		if m == nil {
			return
		}
		if m.Key == "" {
			t.Fatal("accepted a message without a key")
		}
		if _, err := encodeMsg(m); err != nil && len(s) <= maxMsgBytes {
			t.Fatalf("decoded %q but cannot encode it again: %v", s, err)
		}
	})
}
