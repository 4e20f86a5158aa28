// Package risksource reads, for the risk register, the records of the other modules a
// risk can be raised from — alerts, supply-chain vulnerability findings, patient-data
// scans, alert cases and internet-hospital apps — each as the acting person sees it, and
// suggests the risk's category, rating, title and description (as catalogue messages, so
// that the register writes them in the asking person's language).
package risksource

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/supply"
)

// Mux returns the readers of every module a risk can come from (another hospital's
// record is not found).
func Mux(al *alert.Service, sup *supply.Service, dlp *dlpsvc.Service, apps *appreg.Service) risk.SourceMux {
	return risk.SourceMux{
		risk.ModuleAlert:    risk.AlertSource{Alerts: al},
		risk.ModuleFinding:  findingSource{sup},
		risk.ModuleDLPScan:  scanSource{dlp},
		risk.ModuleCase:     caseSource{al},
		risk.ModuleApp:      appSource{apps},
		risk.ModuleDelivery: deliverySource{sup},
	}
}

// rating is the suggested likelihood × impact on the default 5 × 5 matrix by severity.
func rating(severity string) (int, int) {
	switch strings.ToLower(severity) {
	case "critical":
		return 4, 5
	case "high":
		return 4, 4
	case "medium", "moderate":
		return 3, 3
	case "low":
		return 2, 2
	}
	return 2, 2
}

type findingSource struct{ s *supply.Service }

func (f findingSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	fd, err := f.s.Finding(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := rating(fd.Severity)
	fixed := cmp.Or(fd.FixedIn, "—")
	title := i18n.M("risk.from.finding", fd.VulnID, fd.ProductName, fd.Version)
	desc := i18n.M("risk.from.finding_description", fd.VulnID, fd.Severity, fd.Package, fd.PkgVersion, fd.ProductName, fd.Version, fixed)
	return risk.SourceFacts{OrgID: fd.OrgID, Category: "supply_chain", Likelihood: l, Impact: i,
		Title:       fmt.Sprintf("%s in %s %s", fd.VulnID, fd.ProductName, fd.Version),
		Description: fmt.Sprintf("%s (%s) affects %s %s of %s %s; fixed in %s", fd.VulnID, fd.Severity, fd.Package, fd.PkgVersion, fd.ProductName, fd.Version, fixed),
		TitleMsg:    &title, DescriptionMsg: &desc,
		Vulnerability: fd.VulnID + " · " + fd.Package + " " + fd.PkgVersion}, nil
}

type scanSource struct{ s *dlpsvc.Service }

func (f scanSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	sc, err := f.s.Scan(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := 2, 3
	switch {
	case sc.HighestLevel >= 4 && sc.IdentifiesPerson:
		l, i = 4, 5
	case sc.HighestLevel >= 3:
		l, i = 3, 4
	}
	title := i18n.M("risk.from.scan", sc.ID, sc.Source)
	desc := i18n.M("risk.from.scan_description", sc.ID, sc.Source, sc.Findings, sc.HighestLevel)
	return risk.SourceFacts{OrgID: sc.OrgID, Category: "data_leak", Likelihood: l, Impact: i,
		Title:       fmt.Sprintf("Patient data found by scan %d (%s)", sc.ID, sc.Source),
		Description: fmt.Sprintf("scan %d of %s found %d findings, highest level %d", sc.ID, sc.Source, sc.Findings, sc.HighestLevel),
		TitleMsg:    &title, DescriptionMsg: &desc}, nil
}

type caseSource struct{ s *alert.Service }

func (f caseSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	c, err := f.s.Case(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := rating(c.Severity)
	return risk.SourceFacts{OrgID: c.OrgID, Category: "access", Likelihood: l, Impact: i, Title: c.Title, Description: c.Title}, nil
}

type appSource struct{ s *appreg.Service }

func (f appSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	ap, err := f.s.App(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := 2, 3
	switch ap.Grade {
	case "C":
		l, i = 4, 4
	case "B":
		l, i = 3, 3
	}
	score := "–"
	if ap.Score != nil {
		score = fmt.Sprintf("%d (%s)", *ap.Score, ap.Grade)
	}
	title := i18n.M("risk.from.app", ap.Name, ap.Package)
	desc := i18n.M("risk.from.app_description", ap.ID, ap.Package, i18n.M("app.status."+ap.Status), score)
	return risk.SourceFacts{OrgID: ap.OrgID, Category: "app", Likelihood: l, Impact: i,
		Title:       fmt.Sprintf("Internet-hospital app %s (%s)", ap.Name, ap.Package),
		Description: fmt.Sprintf("app %d %s, status %s, score %s", ap.ID, ap.Package, ap.Status, score),
		TitleMsg:    &title, DescriptionMsg: &desc}, nil
}

type deliverySource struct{ s *supply.Service }

func (f deliverySource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	d, err := f.s.Delivery(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := 2, 3
	if !d.OK {
		l, i = 4, 4 // a delivery that failed its integrity check is not what the vendor signed
	}
	title := i18n.M("risk.from.delivery", d.DeliveryRef, d.ProductName, d.Version)
	desc := i18n.M("risk.from.delivery_description", d.DeliveryRef, d.ProductName, d.Version, d.VendorName, len(d.Problems))
	return risk.SourceFacts{OrgID: d.OrgID, Category: "supply_chain", Likelihood: l, Impact: i,
		Title:       fmt.Sprintf("Delivery %s of %s %s", d.DeliveryRef, d.ProductName, d.Version),
		Description: fmt.Sprintf("delivery %s of %s %s from %s: %d problems", d.DeliveryRef, d.ProductName, d.Version, d.VendorName, len(d.Problems)),
		TitleMsg:    &title, DescriptionMsg: &desc, Vulnerability: d.DeliveryRef}, nil
}
