package risk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// link links risk id to src (once).
func (s *Service) link(ctx context.Context, tx *store.Tx, a actor.Actor, id int64, src Source) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_sources (risk_id, module, source_id, linked_by, linked_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (risk_id, module, source_id) DO NOTHING`, id, src.Module, src.ID, a.Username, s.now()); err != nil {
		return fmt.Errorf("risk: link: %w", err)
	}
	return nil
}

// SourceReader reads the facts of a record of another module that a risk comes from
// (joined in internal/app over the alert inbox, the supply chain, the privacy cases, the
// app registry, deliveries …). It reads as actor a sees: a record a does not see is
// problem.NotFound. An unknown module is problem.Invalid.
type SourceReader interface {
	Source(ctx context.Context, a actor.Actor, module string, id int64) (SourceFacts, error)
}

// SourceFacts is what a source says of the risk it suggests: the organisation it
// belongs to, a title and description, and a suggested category, rating, threat,
// vulnerability and assets. Likelihood and Impact are on the service's matrix (0: the
// matrix's middle step).
type SourceFacts struct {
	OrgID         int64
	Title         string
	Description   string
	Category      string
	Threat        string
	Vulnerability string
	Likelihood    int
	Impact        int
	AssetIDs      []int64
	// TitleMsg and DescriptionMsg, optional, are Title and Description as catalogue
	// messages: FromSource writes them in the language the person asks in.
	TitleMsg       *i18n.Message
	DescriptionMsg *i18n.Message
}

// The modules a risk can come from.
const (
	ModuleAlert    = "alert"    // an alert of the inbox (package alert)
	ModuleFinding  = "finding"  // a supply-chain vulnerability finding
	ModuleDLPScan  = "dlp_scan" // a patient-data scan
	ModuleCase     = "case"     // a privacy case (a case of the alert inbox)
	ModuleApp      = "app"      // an internet-hospital app (package appreg)
	ModuleDelivery = "delivery" // a software delivery (package supply)
	// Compliance records (issue 17).
	ModuleSelfCheck  = "selfcheck"   // a periodic self-check with issues (package policy)
	ModuleDataflow   = "dataflow"    // a deficient outbound data flow (package dataflow)
	ModuleAssessItem = "assess_item" // a gap of a compliance assessment (package assess)
)

// Modules lists the modules FromSource accepts.
var Modules = []string{ModuleAlert, ModuleFinding, ModuleDLPScan, ModuleCase, ModuleApp, ModuleDelivery, ModuleSelfCheck,
	ModuleDataflow, ModuleAssessItem}

// SourceMux is a SourceReader that hands each module to its own reader (the integrator
// fills it: SourceMux{ModuleAlert: AlertSource{Alerts: alertService}, …}). A module
// without a reader is problem.Invalid.
type SourceMux map[string]SourceReader

// Source implements SourceReader.
func (m SourceMux) Source(ctx context.Context, a actor.Actor, module string, id int64) (SourceFacts, error) {
	r, ok := m[module]
	if !ok {
		return SourceFacts{}, problem.Invalid("module", "risks are not raised from this kind of record").WithMsg("risk.error.source_module")
	}
	return r.Source(ctx, a, module, id)
}

// AlertGetter reads an alert as an actor sees it (alert.Service).
type AlertGetter interface {
	Get(ctx context.Context, a actor.Actor, id int64) (alert.Alert, error)
}

// AlertSource reads the facts of an alert of the inbox: its organisation, title and
// asset; the category from its source (supply → supply_chain, dlp → data_leak, apps →
// app …); likelihood and impact from its severity on the default 5 × 5 scale (critical
// 4 × 5, high 4 × 4, medium 3 × 3, low 2 × 2, info 1 × 2) — FromSource brings them
// within the service's matrix.
type AlertSource struct {
	Alerts AlertGetter
}

// Source implements SourceReader for module "alert".
func (s AlertSource) Source(ctx context.Context, a actor.Actor, module string, id int64) (SourceFacts, error) {
	al, err := s.Alerts.Get(ctx, a, id)
	if err != nil {
		return SourceFacts{}, err
	}
	f := SourceFacts{OrgID: al.OrgID, Title: al.Title, Category: "other", TitleMsg: al.TitleMsg,
		Description: fmt.Sprintf("%s alert %d (%s, %s): %s", al.Source, al.ID, al.Kind, al.Severity, al.Title)}
	if al.TitleMsg != nil {
		m := i18n.M("risk.from.alert", i18n.M("alert.source."+al.Source), al.ID, i18n.M("alert.severity."+al.Severity), *al.TitleMsg)
		f.DescriptionMsg = &m
	}
	switch al.Source {
	case "supply":
		f.Category = "supply_chain"
		f.Vulnerability = al.Subject
	case "dlp":
		f.Category = "data_leak"
	case "apps":
		f.Category = "app"
	case "monitor", "detect":
		f.Category = "access"
	}
	rating := map[string][2]int{alert.SeverityCritical: {4, 5}, alert.SeverityHigh: {4, 4}, alert.SeverityMedium: {3, 3},
		alert.SeverityLow: {2, 2}, alert.SeverityInfo: {1, 2}}[al.Severity]
	f.Likelihood, f.Impact = rating[0], rating[1]
	if al.AssetID != 0 {
		f.AssetIDs = []int64{al.AssetID}
	}
	return f, nil
}

// SourceInput asks for a risk from a source record. Owner, optional, owns a new risk.
type SourceInput struct {
	Module string `json:"module"`
	ID     int64  `json:"id"`
	Owner  string `json:"owner"`
	// Lang is the language a new risk's title and description are written in, when the
	// source gives them as catalogue messages ("": zh-CN).
	Lang string `json:"lang,omitempty"`
}

// FromSource raises a risk from a record of another module in one action, or updates
// the open risk already linked to it: a rating (inherent or current) below what the
// source suggests rises to it — also after treatment lowered it, since the person asks
// for the source's view — a higher one stays, and the source's assets are added. created
// tells which. The risk links to the source; RisksOf is the way back.
func (s *Service) FromSource(ctx context.Context, a actor.Actor, in SourceInput) (r Risk, created bool, err error) {
	if !slices.Contains(Modules, in.Module) {
		return Risk{}, false, problem.OneOf("module", Modules...)
	}
	if in.ID <= 0 {
		return Risk{}, false, problem.NotFound(in.Module)
	}
	if s.opt.Sources == nil {
		return Risk{}, false, errors.New("risk: no source reader configured")
	}
	f, err := s.opt.Sources.Source(ctx, a, in.Module, in.ID)
	if err != nil {
		return Risk{}, false, err
	}
	f = s.fit(f)
	lang := in.Lang
	if lang != i18n.EN {
		lang = i18n.ZhCN
	}
	if f.TitleMsg != nil && s.cat.Has(lang, f.TitleMsg.Key) {
		f.Title = s.cat.Render(lang, *f.TitleMsg)
	}
	if f.DescriptionMsg != nil && s.cat.Has(lang, f.DescriptionMsg.Key) {
		f.Description = s.cat.Render(lang, *f.DescriptionMsg)
	}
	src := Source{Module: in.Module, ID: in.ID}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cond, arg := a.SeesSQL("o.path")
		err := tx.QueryRowContext(ctx, `SELECT r.id FROM risk_sources rs JOIN risks r ON r.id = rs.risk_id JOIN orgs o ON o.id = r.org_id
			WHERE rs.module = ? AND rs.source_id = ? AND r.status <> 'closed' AND `+cond+` ORDER BY r.id LIMIT 1`,
			in.Module, in.ID, arg).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			ri, err := s.check(ctx, a, Input{OrgID: f.OrgID, Title: f.Title, Description: f.Description, Category: f.Category,
				Threat: f.Threat, Vulnerability: f.Vulnerability, AssetIDs: f.AssetIDs, InherentLikelihood: f.Likelihood,
				InherentImpact: f.Impact, Owner: in.Owner})
			if err != nil {
				return err
			}
			created = true
			id, err = s.create(ctx, tx, a, ri, []Source{src})
			return err
		}
		if err != nil {
			return fmt.Errorf("risk: from source: %w", err)
		}
		before, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		ri := before.Input()
		if m := s.m; m.Score(f.Likelihood, f.Impact) > before.Score || m.Rank(m.Level(f.Likelihood, f.Impact)) > m.Rank(before.Level) {
			ri.Likelihood, ri.Impact = f.Likelihood, f.Impact
		}
		if m := s.m; m.Score(f.Likelihood, f.Impact) > before.InherentScore || m.Rank(m.Level(f.Likelihood, f.Impact)) > m.Rank(before.InherentLevel) {
			ri.InherentLikelihood, ri.InherentImpact = f.Likelihood, f.Impact
		}
		for _, aid := range f.AssetIDs {
			if !slices.Contains(ri.AssetIDs, aid) {
				ri.AssetIDs = append(ri.AssetIDs, aid)
			}
		}
		slices.Sort(ri.AssetIDs)
		return s.update(ctx, tx, a, before, ri, "risk.from_source")
	})
	if err != nil {
		return Risk{}, false, err
	}
	r, err = s.Risk(ctx, a, id)
	return r, created, err
}

// fit brings a source's suggestion within the service's matrix and categories.
func (s *Service) fit(f SourceFacts) SourceFacts {
	clamp := func(v, n int) int {
		if v <= 0 {
			return (n + 1) / 2
		}
		return min(v, n)
	}
	f.Likelihood, f.Impact = clamp(f.Likelihood, len(s.m.Likelihood)), clamp(f.Impact, len(s.m.Impact))
	if !slices.Contains(Categories, f.Category) {
		f.Category = "other"
	}
	if r := []rune(strings.TrimSpace(f.Title)); len(r) > 200 {
		f.Title = string(r[:200])
	}
	if r := []rune(f.Description); len(r) > 10000 {
		f.Description = string(r[:10000])
	}
	return f
}

// Input is what a person would write to leave r as it is: the form of an edit.
func (r Risk) Input() Input {
	return Input{OrgID: r.OrgID, Title: r.Title, Description: r.Description, Category: r.Category, Threat: r.Threat,
		Vulnerability: r.Vulnerability, AssetIDs: slices.Clone(r.AssetIDs), InherentLikelihood: r.InherentLikelihood,
		InherentImpact: r.InherentImpact, Likelihood: r.Likelihood, Impact: r.Impact, Owner: r.Owner, Treatment: r.Treatment}
}

// RisksOf lists the risks a sees that are linked to record id of module: the back-link
// a source's page shows, open ones first.
func (s *Service) RisksOf(ctx context.Context, a actor.Actor, module string, id int64) ([]Risk, error) {
	cond, arg := a.SeesSQL("o.path")
	out, err := store.Collect(ctx, s.db, scanRisk, `SELECT `+riskColumns+` FROM risk_sources rs JOIN risks r ON r.id = rs.risk_id
		JOIN orgs o ON o.id = r.org_id WHERE rs.module = ? AND rs.source_id = ? AND `+cond+`
		ORDER BY CASE WHEN r.status = 'closed' THEN 1 ELSE 0 END, r.level_rank DESC, r.id`, module, id, arg)
	if err != nil {
		return nil, fmt.Errorf("risk: risks of %s %d: %w", module, id, err)
	}
	if out == nil {
		out = []Risk{}
	}
	if err := s.links(ctx, s.db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// LinkSource links risk riskID to a record of another module by hand (a second alert
// about the same risk); the source must be one a sees.
func (s *Service) LinkSource(ctx context.Context, a actor.Actor, riskID int64, src Source) (Risk, error) {
	if !slices.Contains(Modules, src.Module) {
		return Risk{}, problem.OneOf("module", Modules...)
	}
	if s.opt.Sources == nil {
		return Risk{}, errors.New("risk: no source reader configured")
	}
	f, err := s.opt.Sources.Source(ctx, a, src.Module, src.ID)
	if err != nil {
		return Risk{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.get(ctx, tx, a, riskID)
		if err != nil {
			return err
		}
		if f.OrgID != r.OrgID {
			return problem.Invalid("module", "the record belongs to another organisation").WithMsg("risk.error.source_org")
		}
		if err := s.link(ctx, tx, a, riskID, src); err != nil {
			return err
		}
		return s.record(ctx, tx, a, r, "risk.link", fmt.Sprintf("risk %d %s linked to %s %d", r.ID, r.Title, src.Module, src.ID),
			trail.Msg("trail.summary.risk.link", r.ID, r.Title, i18n.M("risk.source."+src.Module), src.ID), nil, src)
	})
	if err != nil {
		return Risk{}, err
	}
	return s.Risk(ctx, a, riskID)
}
