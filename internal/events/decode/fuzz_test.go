package decode

import (
	"bytes"
	"errors"
	"testing"

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
// return frames that are part of it.
func FuzzSplitSyslog(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
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
