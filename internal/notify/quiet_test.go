package notify

import "testing"

func TestParseQuietHours(t *testing.T) {
	for _, c := range []struct {
		in         string
		start, end int
		ok         bool
	}{
		{"22:00-07:00", 22 * 60, 7 * 60, true}, {"12:30-14:00", 12*60 + 30, 14 * 60, true}, {" 00:00 - 23:59 ", 0, 23*60 + 59, true},
		{"22:00", 0, 0, false}, {"22:00-22:00", 0, 0, false}, {"24:00-07:00", 0, 0, false}, {"22:60-07:00", 0, 0, false},
		{"7:00-8:00", 0, 0, false}, {"22:00-07:0x", 0, 0, false}, {"", 0, 0, false}, {"-", 0, 0, false}, {"２２:00-07:00", 0, 0, false},
	} {
		s, e, err := ParseQuietHours(c.in)
		if (err == nil) != c.ok || (c.ok && (s != c.start || e != c.end)) {
			t.Errorf("ParseQuietHours(%q) = %d, %d, %v", c.in, s, e, err)
		}
		if c.ok && FormatQuietHours(s, e) != FormatQuietHours(c.start, c.end) {
			t.Errorf("FormatQuietHours(%d, %d) = %q", s, e, FormatQuietHours(s, e))
		}
	}
}

func FuzzParseQuietHours(f *testing.F) {
	f.Add("22:00-07:00")
	f.Add("12:30-14:00")
	f.Fuzz(func(t *testing.T, in string) {
		s, e, err := ParseQuietHours(in)
		if err != nil {
			return
		}
		if s < 0 || s >= 24*60 || e < 0 || e >= 24*60 || s == e {
			t.Fatalf("ParseQuietHours(%q) = %d, %d", in, s, e)
		}
		s2, e2, err := ParseQuietHours(FormatQuietHours(s, e))
		if err != nil || s2 != s || e2 != e {
			t.Fatalf("round trip of %q: %d %d %v", in, s2, e2, err)
		}
	})
}
