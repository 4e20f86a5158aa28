package trail_test

import (
	"bytes"
	"testing"

	"github.com/medguard/medguard/internal/trail"
)

// FuzzParseCheckpoints feeds arbitrary checkpoint files to the parser: it must never
// panic, and what it accepts must be well formed and survive a round trip.
func FuzzParseCheckpoints(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cps, err := trail.ParseCheckpoints(bytes.NewReader(b))
		if err != nil {
			if cps != nil {
				t.Fatal("checkpoints returned with an error")
			}
			return
		}
		if len(cps) == 0 {
			t.Fatal("no checkpoint and no error")
		}
		for _, c := range cps {
			if c.Format != trail.CheckpointFormat || c.Seq < 0 || len(c.Hash) != 64 {
				t.Fatalf("accepted a malformed checkpoint: %+v", c)
			}
			again, err := trail.ParseCheckpoint(c.MarshalLine())
			if err != nil || again.Signature != c.Signature || again.Seq != c.Seq {
				t.Fatalf("round trip: %+v %v", again, err)
			}
		}
	})
}
