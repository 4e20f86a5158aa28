package auth

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestThrottleDelays(t *testing.T) {
	t.Parallel()
	th := newThrottle(3, time.Second, time.Minute, time.Hour, 100)
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var got []time.Duration
	for range 10 {
		ok, d := th.take("k", now)
		if !ok {
			t.Fatalf("refused at %v", now)
		}
		got = append(got, d)
		if d > 0 {
			if ok, _ := th.take("k", now.Add(d-time.Nanosecond)); ok {
				t.Fatalf("let through %v into a wait of %v", d-time.Nanosecond, d)
			}
		}
		now = now.Add(d)
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, time.Minute, time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays = %v, want %v", got, want)
		}
	}
	// Refused attempts are not counted: the wait does not grow while hammered.
	if th.m["k"].n != 10 {
		t.Fatalf("count = %d, want 10", th.m["k"].n)
	}
	// A refund below the free attempts lifts the wait; clear forgets the key.
	for range 8 {
		th.refund("k")
	}
	if th.waiting("k", now.Add(-time.Second)) {
		t.Fatal("still waiting with 2 attempts counted")
	}
	th.clear("k")
	if th.len() != 0 {
		t.Fatal("clear kept the key")
	}
}

// TestThrottleBounded: a wide attack cannot grow the table past its size, and the keys
// it forgets first are those that impose no wait.
func TestThrottleBounded(t *testing.T) {
	t.Parallel()
	const size = 1000
	th := newThrottle(2, time.Minute, time.Hour, time.Hour, size)
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// The guessed account's key waits.
	th.take("victim", now)
	th.take("victim", now)
	if !th.waiting("victim", now) {
		t.Fatal("victim not waiting after 2 failures")
	}
	for i := range 50 * size {
		th.take("spray"+strconv.Itoa(i), now)
		if th.len() > size {
			t.Fatalf("%d keys held, more than %d", th.len(), size)
		}
	}
	if !th.waiting("victim", now) {
		t.Fatal("the waiting key was forgotten before keys that impose no wait")
	}
	// Even when every key waits, the table stays bounded.
	for i := range 3 * size {
		k := "busy" + strconv.Itoa(i)
		th.take(k, now)
		th.take(k, now)
		if th.len() > size {
			t.Fatalf("%d keys held, more than %d", th.len(), size)
		}
	}
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"", "?"},
		{"not an address", "?not an address"},
		{strings.Repeat("x", 100), "?" + strings.Repeat("x", 64)},
	} {
		if got := addressKey(tc.in); got != tc.want {
			t.Errorf("addressKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if pairKey(strings.Repeat("n", 100), "a") != strings.Repeat("n", 64)+"\x00a" {
		t.Error("pairKey does not cut long names")
	}
}

func FuzzAddressKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "::ffff:10.0.0.1", "fe80::1%eth0", "", "[::1]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := addressKey(s)
		if k == "" || len(k) > 65 || addressKey(s) != k {
			t.Fatalf("addressKey(%q) = %q", s, k)
		}
	})
}
