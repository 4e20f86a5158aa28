package appreg

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/portal"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// PortalURLs are the addresses of app ap that a web check may fetch: the portal of an H5
// app and the channels' addresses. Only filed addresses are fetched, so that the check
// cannot be pointed at anything else on the hospital's network.
func PortalURLs(ap App) []string {
	var out []string
	if ap.Platform == PlatformH5 {
		out = append(out, ap.Package)
	}
	for _, c := range ap.Channels {
		if c.URL != "" && !slices.Contains(out, c.URL) {
			out = append(out, c.URL)
		}
	}
	return out
}

// AddWebCheck makes the findings of a web check of one of app id's filed addresses its
// "web.*" findings for that address (replacing those of the address's previous check)
// and evaluates the app again.
func (s *Service) AddWebCheck(ctx context.Context, a actor.Actor, id int64, rep *portal.Report) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := s.fill(ctx, tx, &ap); err != nil {
			return err
		}
		if !slices.Contains(PortalURLs(ap), rep.URL) {
			return problem.Invalid("url", "only the app's filed portal and channel addresses are checked").WithMsg("app.error.url_not_filed")
		}
		// The findings of this address: subject "address · check".
		var fs []Finding
		for _, f := range rep.Findings {
			fs = append(fs, Finding{Type: f.Type, Subject: rep.URL + " · " + f.Check, Severity: f.Severity, Evidence: f.Evidence})
		}
		open, err := findings(ctx, tx, id, true)
		if err != nil {
			return err
		}
		// Only this address's web findings are replaced.
		var keep []Finding
		for _, f := range open {
			if (f.Type == portal.TypeTLS || f.Type == portal.TypeHeader) && !strings.HasPrefix(f.Subject, rep.URL+" · ") {
				keep = append(keep, f)
			}
		}
		if err := s.sync(ctx, tx, ap, []string{portal.TypeTLS, portal.TypeHeader}, append(keep, fs...)); err != nil {
			return err
		}
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "app.webcheck", ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s: %s checked, %d findings", ap.Name, rep.URL, len(fs)),
			Msg:     trail.Msg("trail.summary.app.webcheck", ap.Name, rep.URL, len(fs))}); err != nil {
			return err
		}
		_, err = s.evaluate(ctx, tx, a, id)
		return err
	})
}
