package alert

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/problem"
)

// FuzzRequestValidation feeds arbitrary JSON, as the API decodes it, to the checks of a
// silence and of a workflow change: they never panic, refuse with an invalid-input
// problem, and what they accept keeps the rules (an expiry in the future and within a
// year; a resolution only on a resolved alert, an accepted risk with reason and expiry).
func FuzzRequestValidation(f *testing.F) {
	f.Fuzz(func(t *testing.T, doc []byte) {
		now := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
		var sl SilenceInput
		if json.Unmarshal(doc, &sl) == nil {
			if err := sl.validate(now); err != nil {
				if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Msg == nil {
					t.Fatalf("silence: %v, want an invalid-input problem with its message", err)
				}
			} else if !sl.ExpiresAt.After(now) || sl.ExpiresAt.Sub(now) > MaxSilence || sl.Reason == "" ||
				(sl.Severity != "" && !ValidSeverity(sl.Severity)) || sl.Source+sl.Kind+sl.Severity+sl.Subject == "" {
				t.Fatalf("accepted silence %+v", sl)
			}
		}
		var c Change
		if json.Unmarshal(doc, &c) == nil {
			if err := c.validate(now); err != nil {
				if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Msg == nil {
					t.Fatalf("change: %v, want an invalid-input problem with its message", err)
				}
				return
			}
			switch {
			case !validStatus(c.Status):
				t.Fatalf("accepted status %q", c.Status)
			case c.Status != StatusResolved && (c.Resolution != "" || c.AcceptedUntil != nil):
				t.Fatalf("accepted a resolution of a %s alert", c.Status)
			case c.Status == StatusResolved && c.Resolution == ResolutionRiskAccepted &&
				(c.Reason == "" || c.AcceptedUntil == nil || !c.AcceptedUntil.After(now) || c.AcceptedUntil.Sub(now) > MaxRiskAcceptance):
				t.Fatalf("accepted risk %+v", c)
			}
		}
	})
}
