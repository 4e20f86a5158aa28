package decode

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/events"
)

// checkDecoded holds for every decoder: an error wraps ErrInvalid or ErrUnsupported, and
// an accepted event names an action of the events package and keeps its raw text.
func checkDecoded(t *testing.T, evs []events.Event, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error wraps neither ErrInvalid nor ErrUnsupported: %v", err)
		}
		return
	}
	if len(evs) == 0 {
		t.Fatal("no error and no event")
	}
	valid := map[string]bool{}
	for _, a := range events.Actions() {
		valid[a] = true
	}
	for _, ev := range evs {
		if !valid[ev.Action] || ev.Raw == "" || ev.ID == "" || ev.Account == "" || ev.Time.IsZero() {
			t.Fatalf("accepted an incomplete event: action %q, raw %d bytes, id %q, account set %v, time zero %v",
				ev.Action, len(ev.Raw), ev.ID, ev.Account != "", ev.Time.IsZero())
		}
	}
}

func FuzzDecodeDICOM(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodeDICOM(data)
		checkDecoded(t, evs, err)
	})
}

func FuzzParseSyslog(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := receiver.ParseSyslog(line)
		var evs []events.Event
		if err == nil {
			evs = []events.Event{ev}
		}
		checkDecoded(t, evs, err)
	})
}

func FuzzDecodeFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodeFHIR(data)
		checkDecoded(t, evs, err)
	})
}

// FuzzSplitSyslog: the split functions never panic, always advance within the input and
// return frames that are part of it; indexLineEnd finds what bytes.IndexAny finds.
func FuzzSplitSyslog(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := indexLineEnd(data), bytes.IndexAny(data, "\n\x00"); got != want {
			t.Fatalf("indexLineEnd = %d, bytes.IndexAny = %d", got, want)
		}
		for _, split := range []func([]byte, bool) (int, []byte, error){SplitSyslog, SplitOctetCounting, SplitNewline} {
			for _, atEOF := range []bool{false, true} {
				adv, tok, err := split(data, atEOF)
				if err != nil {
					continue
				}
				if adv < 0 || adv > len(data) || len(tok) > len(data) {
					t.Fatalf("advance %d, token %d bytes, input %d bytes", adv, len(tok), len(data))
				}
				if tok != nil && !bytes.Contains(data[:adv], tok) {
					t.Fatal("token is not part of the consumed input")
				}
			}
		}
	})
}

// FuzzParseSyslogSame is the differential check of the rewritten syslog decoder: every
// line decodes to the same event as with the decoder before the rewrite
// (refParseSyslog), or fails with the same error. (A line whose RFC 5424 structured data
// names one field in two SD elements is left out: both decoders read the elements in
// map order, so which value wins differs from run to run in each.)
func FuzzParseSyslogSame(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.Count(line, []byte("[")) > 1 && bytes.Contains(line, []byte("@")) {
			return
		}
		want, werr := receiver.refParseSyslog(bytes.Clone(line))
		got, err := receiver.ParseSyslog(line)
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("error %v, before the rewrite %v", err, werr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("event (-before +now):\n%s", diff)
		}
	})
}
