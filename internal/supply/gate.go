package supply

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/medguard/medguard/internal/i18n"
	"sort"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Stages are the points of a product's life a gate guards (采购、上线、更新、运营).
var Stages = []string{"procurement", "go_live", "update", "operation"}

// Rules are the conditions of a gate policy. A zero Rules passes everything.
type Rules struct {
	RequireSBOM           bool   `json:"require_sbom"`
	MaxSeverity           string `json:"block_severity"`            // block open findings at or above this severity ("" = no limit)
	DenyLicences          bool   `json:"block_denied_licences"`     // block components whose licence verdict is denied
	BlockReviewLicences   bool   `json:"block_review_licences"`     // also block licences still to be reviewed or unknown
	RequireDelivery       bool   `json:"require_delivery_verified"` // the version's latest delivery passed its integrity check
	RequireVendorApproved bool   `json:"require_vendor_approved"`   // the product's vendor is approved (self-built software passes)
	// AllowUncovered lets a gate with a severity rule pass although some components could
	// not be checked against advisory data (no purl, an ecosystem the database holds no
	// advisory for, a version that cannot be compared). By default such a gate fails.
	AllowUncovered bool `json:"allow_uncovered"`
	// UnknownSeverity says what the severity rule does with an open finding whose
	// severity is unknown (no CVSS and no rated alias): "fail" (the default, also when
	// empty) blocks it as if it reached the threshold; "ignore" lets it pass.
	UnknownSeverity string `json:"unknown_severity,omitempty"`
}

// Values of Rules.UnknownSeverity.
const (
	UnknownFail   = "fail"
	UnknownIgnore = "ignore"
)

// Gate is a named gate policy of an organisation.
type Gate struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	Name      string    `json:"name"`
	Stage     string    `json:"stage"`
	Rules     Rules     `json:"rules"`
	BuiltIn   bool      `json:"built_in"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BuiltinGates are the gates every organisation has until it defines its own of the
// same name.
func BuiltinGates() []Gate {
	return []Gate{
		{Name: "procurement", Stage: "procurement", BuiltIn: true, Rules: Rules{RequireSBOM: true, MaxSeverity: "critical",
			DenyLicences: true, RequireVendorApproved: true}},
		{Name: "go-live", Stage: "go_live", BuiltIn: true, Rules: Rules{RequireSBOM: true, MaxSeverity: "high",
			DenyLicences: true, RequireDelivery: true, RequireVendorApproved: true}},
		{Name: "update", Stage: "update", BuiltIn: true, Rules: Rules{RequireSBOM: true, MaxSeverity: "high",
			DenyLicences: true, RequireDelivery: true}},
	}
}

func (r Rules) validate() error {
	if r.MaxSeverity != "" && (severityRank(r.MaxSeverity) < 2) {
		return problem.Invalid("block_severity", "must be one of critical, high, medium, low, or empty").WithMsg("error.msg.one_of_or_empty", "critical, high, medium, low")
	}
	if r.UnknownSeverity != "" && r.UnknownSeverity != UnknownFail && r.UnknownSeverity != UnknownIgnore {
		return problem.Invalid("unknown_severity", "must be fail, ignore, or empty (fail)").WithMsg("supply.error.msg.unknown_severity")
	}
	return nil
}

// GateFinding is a vulnerability finding as a gate sees it.
type GateFinding struct {
	PURL     string `json:"purl"`
	VulnID   string `json:"id"`
	Severity string `json:"severity"`
	State    string `json:"state"`
}

// GateLicence is a component's licence verdict as a gate sees it.
type GateLicence struct {
	Component string `json:"component"`
	License   string `json:"license"`
	Verdict   string `json:"verdict"`
}

// GateInput is everything a gate looks at.
type GateInput struct {
	HasSBOM          bool
	Findings         []GateFinding
	Licences         []GateLicence
	DeliveryVerified bool
	HasVendor        bool
	VendorApproved   bool
	// Coverage says which components could be checked at all; a zero value (no
	// components) covers everything.
	Coverage Coverage
}

// GateReason is one rule a gate failed.
type GateReason struct {
	Rule    string `json:"rule"`
	Message string `json:"message"` // English, for the API and old clients
	// Msg is Message as a catalogue key and arguments, so that pages show it in the
	// reader's language. Verdicts stored before it existed have none.
	Msg   *i18n.Message `json:"msg,omitempty"`
	Items []string      `json:"items,omitempty"`
	// ItemMsgs are Items as catalogue messages, one each in the same order; verdicts
	// stored before they existed have none.
	ItemMsgs []i18n.Message `json:"item_msgs,omitempty"`
}

func msg(key string, args ...any) *i18n.Message {
	m := i18n.M(key, args...)
	return &m
}

func severityMsg(sev string) i18n.Message { return i18n.M("supply.severity." + sev) }

// GateVerdict is the outcome of evaluating a gate.
type GateVerdict struct {
	Gate    string       `json:"gate"`
	Stage   string       `json:"stage"`
	Passed  bool         `json:"passed"`
	Reasons []GateReason `json:"reasons"`
}

// maxItems caps the items listed under one failed rule.
const maxItems = 20

// Evaluate applies the rules to in. Accepted and false-positive findings, and fixed ones,
// never block.
func (g Gate) Evaluate(in GateInput) GateVerdict {
	v := GateVerdict{Gate: g.Name, Stage: g.Stage, Reasons: []GateReason{}}
	r := g.Rules
	if r.RequireSBOM && !in.HasSBOM {
		v.Reasons = append(v.Reasons, GateReason{Rule: "require_sbom", Message: "no SBOM was supplied",
			Msg: msg("supply.reason.require_sbom")})
	}
	if r.MaxSeverity != "" {
		limit := severityRank(r.MaxSeverity)
		var items itemList
		unknown := 0
		for _, f := range in.Findings {
			if f.State != StateOpen {
				continue
			}
			sev := f.Severity
			if sev == "" {
				sev = "unknown"
			}
			if sev == "unknown" {
				// Unknown is not "below every threshold": it blocks unless the policy says
				// to ignore it.
				if r.UnknownSeverity == UnknownIgnore {
					continue
				}
				unknown++
			} else if severityRank(sev) < limit {
				continue
			}
			items.add(f.VulnID+" ("+sev+") in "+f.PURL, i18n.M("supply.item.finding", f.VulnID, severityMsg(sev), f.PURL))
		}
		if n := items.Len(); n > 0 {
			text := fmt.Sprintf("%d open vulnerabilities at or above %s without an accepted exception", n, r.MaxSeverity)
			m := msg("supply.reason.block_severity", n, severityMsg(r.MaxSeverity))
			if unknown > 0 {
				text += fmt.Sprintf(" (%d of unknown severity)", unknown)
				m = msg("supply.reason.block_severity_unknown", n, severityMsg(r.MaxSeverity), unknown)
			}
			v.Reasons = append(v.Reasons, items.reason(GateReason{Rule: "block_severity", Message: text, Msg: m}, true))
		}
		// A gate that judges vulnerabilities cannot pass on components it could not check.
		if c := in.Coverage; in.HasSBOM && !c.Complete() && !r.AllowUncovered {
			var items itemList
			items.texts, items.msgs = c.gaps(), c.gapMsgs()
			for _, p := range c.NotComparableItems {
				items.add(p+": version cannot be compared", i18n.M("supply.item.not_comparable", p))
			}
			if extra := c.NotComparable - len(c.NotComparableItems); extra > 0 {
				items.add(fmt.Sprintf("… and %d more with a version that cannot be compared", extra), i18n.M("supply.item.not_comparable_more", extra))
			}
			text := fmt.Sprintf("%d of %d components could not be checked against advisory data", c.NotCovered, c.Components)
			m := msg("supply.reason.coverage", c.NotCovered, c.Components)
			if len(c.EcosystemsWithoutData) > 0 {
				eco := strings.Join(c.EcosystemsWithoutData, ", ")
				text += " (no advisories for " + eco + ")"
				m = msg("supply.reason.coverage_ecosystems", c.NotCovered, c.Components, eco)
			}
			v.Reasons = append(v.Reasons, items.reason(GateReason{Rule: "coverage", Message: text, Msg: m}, false))
		}
	}
	if r.DenyLicences || r.BlockReviewLicences {
		var denied, review itemList
		for _, l := range in.Licences {
			switch licence.Verdict(l.Verdict) {
			case licence.VerdictDenied:
				denied.add(l.Component+" ("+l.License+")", i18n.M("supply.item.licence", l.Component, l.License))
			case licence.VerdictReview, licence.VerdictUnknown:
				m := i18n.M("supply.item.licence", l.Component, l.License)
				if l.License == "" {
					m = i18n.M("supply.item.licence_none", l.Component)
				}
				review.add(l.Component+" ("+orNone(l.License)+")", m)
			}
		}
		if n := denied.Len(); r.DenyLicences && n > 0 {
			v.Reasons = append(v.Reasons, denied.reason(GateReason{Rule: "block_denied_licences",
				Message: fmt.Sprintf("%d components under a denied licence", n),
				Msg:     msg("supply.reason.block_denied_licences", n)}, false))
		}
		if n := review.Len(); r.BlockReviewLicences && n > 0 {
			v.Reasons = append(v.Reasons, review.reason(GateReason{Rule: "block_review_licences",
				Message: fmt.Sprintf("%d components whose licence needs review or is unknown", n),
				Msg:     msg("supply.reason.block_review_licences", n)}, false))
		}
	}
	if r.RequireDelivery && !in.DeliveryVerified {
		v.Reasons = append(v.Reasons, GateReason{Rule: "require_delivery_verified", Message: "no delivery of this version passed its integrity check",
			Msg: msg("supply.reason.require_delivery_verified")})
	}
	if r.RequireVendorApproved && in.HasVendor && !in.VendorApproved {
		v.Reasons = append(v.Reasons, GateReason{Rule: "require_vendor_approved", Message: "the vendor is not approved",
			Msg: msg("supply.reason.require_vendor_approved")})
	}
	v.Passed = len(v.Reasons) == 0
	return v
}

func orNone(s string) string {
	if s == "" {
		return "none declared"
	}
	return s
}

// itemList is the items listed under a failed rule: each in English (for the API) and as
// a catalogue message (for pages), kept in step.
type itemList struct {
	texts []string
	msgs  []i18n.Message
}

func (l *itemList) add(text string, m i18n.Message) {
	l.texts = append(l.texts, text)
	l.msgs = append(l.msgs, m)
}

// Len, Less and Swap sort the items by their English text.
func (l *itemList) Len() int           { return len(l.texts) }
func (l *itemList) Less(i, j int) bool { return l.texts[i] < l.texts[j] }
func (l *itemList) Swap(i, j int) {
	l.texts[i], l.texts[j] = l.texts[j], l.texts[i]
	l.msgs[i], l.msgs[j] = l.msgs[j], l.msgs[i]
}

// reason sets r's items, sorted by their English text if sorted, and capped at maxItems
// with a last item saying how many more there are.
func (l *itemList) reason(r GateReason, sorted bool) GateReason {
	if sorted {
		sort.Stable(l)
	}
	texts, msgs := l.texts, l.msgs
	if len(texts) > maxItems {
		more := len(texts) - maxItems
		texts = append(texts[:maxItems:maxItems], fmt.Sprintf("… and %d more", more))
		msgs = append(msgs[:maxItems:maxItems], i18n.M("supply.item.more", more))
	}
	r.Items, r.ItemMsgs = texts, msgs
	return r
}

// Gates lists the gates available to organisation orgID: its own and its ancestors'
// (nearest first), then the built-in ones not overridden.
func (s *Service) Gates(ctx context.Context, a actor.Actor, orgID int64) ([]Gate, error) {
	o, err := org.Visible(ctx, s.db, a, orgID)
	if err != nil {
		return nil, err
	}
	path := o.Path
	rows, err := s.db.QueryContext(ctx, `SELECT g.id, g.org_id, g.name, g.stage, g.rules, g.built_in, g.created_at, g.updated_at
		FROM gates g JOIN orgs o ON o.id = g.org_id WHERE `+actor.ContainsSQL("o.path", "?")+` ORDER BY LENGTH(o.path) DESC, g.name`, path)
	if err != nil {
		return nil, fmt.Errorf("supply: list gates: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	builtinIDs := map[string]int64{}
	out := []Gate{}
	for rows.Next() {
		var g Gate
		var rules string
		if err := rows.Scan(&g.ID, &g.OrgID, &g.Name, &g.Stage, &rules, &g.BuiltIn, &g.CreatedAt, &g.UpdatedAt); err != nil {
			return nil, fmt.Errorf("supply: list gates: %w", err)
		}
		if g.BuiltIn {
			// The row of a built-in gate only gives results an id; an organisation's own
			// gate of the same name, here or above, wins over it.
			if g.OrgID == orgID {
				builtinIDs[g.Name] = g.ID
			}
			continue
		}
		if seen[g.Name] {
			continue
		}
		if err := json.Unmarshal([]byte(rules), &g.Rules); err != nil {
			return nil, fmt.Errorf("supply: gate %d rules: %w", g.ID, err)
		}
		g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
		seen[g.Name] = true
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supply: list gates: %w", err)
	}
	for _, g := range BuiltinGates() {
		if !seen[g.Name] {
			g.OrgID, g.ID = orgID, builtinIDs[g.Name]
			out = append(out, g)
		}
	}
	return out, nil
}

// GateNamed returns the gate called name available to organisation orgID.
func (s *Service) GateNamed(ctx context.Context, a actor.Actor, orgID int64, name string) (Gate, error) {
	gs, err := s.Gates(ctx, a, orgID)
	if err != nil {
		return Gate{}, err
	}
	for _, g := range gs {
		if g.Name == name {
			return g, nil
		}
	}
	return Gate{}, problem.NotFound("gate")
}

// GateDefinition is what SaveGate accepts: a gate of an organisation and its rules.
type GateDefinition struct {
	OrgID int64  `json:"org_id"`
	Name  string `json:"name"`
	Stage string `json:"stage"`
	Rules Rules  `json:"rules"`
}

// SaveGate creates or replaces the gate named in.Name of organisation in.OrgID.
func (s *Service) SaveGate(ctx context.Context, a actor.Actor, in GateDefinition) (Gate, error) {
	var err error
	if in.Name, err = text("name", in.Name, 60, true); err != nil {
		return Gate{}, err
	}
	if strings.ContainsAny(in.Name, " \t/") {
		return Gate{}, problem.Invalid("name", "may not contain spaces or slashes").WithMsg("supply.error.msg.no_spaces_slashes")
	}
	ok := false
	for _, st := range Stages {
		ok = ok || st == in.Stage
	}
	if !ok {
		return Gate{}, problem.OneOf("stage", "procurement", "go_live", "update", "operation")
	}
	if err := in.Rules.validate(); err != nil {
		return Gate{}, err
	}
	rules, _ := json.Marshal(in.Rules)
	var out Gate
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := org.Visible(ctx, tx, a, in.OrgID); err != nil {
			return err
		}
		now := s.stamp()
		var id int64
		var created time.Time
		err = tx.QueryRowContext(ctx, `SELECT id, created_at FROM gates WHERE org_id = ? AND name = ?`, in.OrgID, in.Name).Scan(&id, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = now
			err = tx.QueryRowContext(ctx, `INSERT INTO gates (org_id, name, stage, rules, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.Name, in.Stage, string(rules), now, now).Scan(&id)
		case err == nil:
			_, err = tx.ExecContext(ctx, `UPDATE gates SET stage = ?, rules = ?, built_in = FALSE, updated_at = ? WHERE id = ?`,
				in.Stage, string(rules), now, id)
		}
		if err != nil {
			return fmt.Errorf("supply: save gate: %w", err)
		}
		out = Gate{ID: id, OrgID: in.OrgID, Name: in.Name, Stage: in.Stage, Rules: in.Rules, CreatedAt: created.UTC(), UpdatedAt: now}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "gate.save", ObjectType: "gate", ObjectID: idString(id),
			OrgID: in.OrgID, Summary: in.Name + " (" + in.Stage + ")",
			Msg: trail.Msg("trail.summary.gate.save", gateWord(in.Name), stageWord(in.Stage)), After: out})
		return err
	})
	return out, err
}

// GateResult is a stored evaluation of a gate on a product version.
type GateResult struct {
	ID          int64       `json:"id"`
	VersionID   int64       `json:"version_id"`
	Verdict     GateVerdict `json:"verdict"`
	EvaluatedBy string      `json:"evaluated_by"`
	EvaluatedAt time.Time   `json:"evaluated_at"`
}

// versionGateInput gathers what a gate looks at for a stored version.
func (s *Service) versionGateInput(ctx context.Context, q store.Querier, v Version) (GateInput, error) {
	in := GateInput{HasSBOM: v.SBOMID != 0, HasVendor: v.VendorID != 0}
	now := s.stamp()
	rows, err := q.QueryContext(ctx, `SELECT f.purl, f.vuln_id, f.severity, `+stateExpr+` FROM findings f`+joinDecision+`
		WHERE f.version_id = ?`, now, v.ID)
	if err != nil {
		return in, fmt.Errorf("supply: gate findings: %w", err)
	}
	for rows.Next() {
		var f GateFinding
		if err := rows.Scan(&f.PURL, &f.VulnID, &f.Severity, &f.State); err != nil {
			rows.Close()
			return in, fmt.Errorf("supply: gate findings: %w", err)
		}
		in.Findings = append(in.Findings, f)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT CASE WHEN c.purl <> '' THEN c.purl ELSE c.name END, c.license, c.license_verdict
		FROM components c WHERE c.sbom_id = ? AND c.license_verdict <> 'allowed'`, v.SBOMID)
	if err != nil {
		return in, fmt.Errorf("supply: gate licences: %w", err)
	}
	for rows.Next() {
		var l GateLicence
		if err := rows.Scan(&l.Component, &l.License, &l.Verdict); err != nil {
			rows.Close()
			return in, fmt.Errorf("supply: gate licences: %w", err)
		}
		in.Licences = append(in.Licences, l)
	}
	rows.Close()
	var ok sql.NullBool
	if err := q.QueryRowContext(ctx, `SELECT ok FROM deliveries WHERE version_id = ? ORDER BY verified_at DESC, id DESC LIMIT 1`,
		v.ID).Scan(&ok); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("supply: gate delivery: %w", err)
	}
	in.DeliveryVerified = ok.Valid && ok.Bool
	if in.Coverage, err = s.versionCoverage(ctx, q, v.SBOMID); err != nil {
		return in, err
	}
	if v.VendorID != 0 {
		if err := q.QueryRowContext(ctx, `SELECT approved FROM vendors WHERE id = ?`, v.VendorID).Scan(&in.VendorApproved); err != nil {
			return in, fmt.Errorf("supply: gate vendor: %w", err)
		}
	}
	return in, nil
}

// EvaluateGate evaluates the gate called name on version id and stores the result.
func (s *Service) EvaluateGate(ctx context.Context, a actor.Actor, versionID int64, name string) (GateResult, error) {
	v, err := getVersion(ctx, s.db, a, versionID)
	if err != nil {
		return GateResult{}, err
	}
	g, err := s.GateNamed(ctx, a, v.OrgID, name)
	if err != nil {
		return GateResult{}, err
	}
	var out GateResult
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.versionGateInput(ctx, tx, v)
		if err != nil {
			return err
		}
		verdict := g.Evaluate(in)
		gateID := g.ID
		if g.BuiltIn && gateID == 0 {
			// A built-in gate gets a row for the organisation the first time it is used,
			// so that results refer to a row; a concurrent first use finds the other's.
			now := s.stamp()
			rules, _ := json.Marshal(g.Rules)
			if _, err := tx.ExecContext(ctx, `INSERT INTO gates (org_id, name, stage, rules, built_in, created_at, updated_at)
				VALUES (?, ?, ?, ?, TRUE, ?, ?) ON CONFLICT (org_id, name) DO NOTHING`, v.OrgID, g.Name, g.Stage, string(rules),
				now, now); err != nil {
				return fmt.Errorf("supply: store built-in gate: %w", err)
			}
			if err := tx.QueryRowContext(ctx, `SELECT id FROM gates WHERE org_id = ? AND name = ?`, v.OrgID, g.Name).Scan(&gateID); err != nil {
				return fmt.Errorf("supply: store built-in gate: %w", err)
			}
		}
		reasons, _ := json.Marshal(verdict)
		out = GateResult{VersionID: versionID, Verdict: verdict, EvaluatedBy: a.Username, EvaluatedAt: s.stamp()}
		if err := tx.QueryRowContext(ctx, `INSERT INTO gate_results (gate_id, version_id, passed, reasons, evaluated_by, evaluated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, gateID, versionID, verdict.Passed, string(reasons), a.Username,
			out.EvaluatedAt).Scan(&out.ID); err != nil {
			return fmt.Errorf("supply: store gate result: %w", err)
		}
		result := "passed"
		if !verdict.Passed {
			result = "failed"
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "gate.evaluate", ObjectType: "product_version",
			ObjectID: idString(versionID), OrgID: v.OrgID,
			Summary: fmt.Sprintf("%s %s: gate %s %s", v.ProductName, v.Version, g.Name, result),
			Msg:     gateResultMsg(v.ProductName, v.Version, g.Name, verdict.Passed), After: verdict})
		return err
	})
	return out, err
}

// GateResults lists the latest result of each gate evaluated on version id.
func (s *Service) GateResults(ctx context.Context, a actor.Actor, versionID int64) ([]GateResult, error) {
	if _, err := getVersion(ctx, s.db, a, versionID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.version_id, r.reasons, r.evaluated_by, r.evaluated_at
		FROM gate_results r WHERE r.version_id = ? AND r.id = (SELECT MAX(r2.id) FROM gate_results r2
			WHERE r2.version_id = r.version_id AND r2.gate_id = r.gate_id) ORDER BY r.id`, versionID)
	if err != nil {
		return nil, fmt.Errorf("supply: gate results: %w", err)
	}
	defer rows.Close()
	out := []GateResult{}
	for rows.Next() {
		var r GateResult
		var verdict string
		if err := rows.Scan(&r.ID, &r.VersionID, &verdict, &r.EvaluatedBy, &r.EvaluatedAt); err != nil {
			return nil, fmt.Errorf("supply: gate results: %w", err)
		}
		if err := json.Unmarshal([]byte(verdict), &r.Verdict); err != nil {
			return nil, fmt.Errorf("supply: gate result %d: %w", r.ID, err)
		}
		r.EvaluatedAt = r.EvaluatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// CheckResult is the outcome of checking an SBOM without storing it.
type CheckResult struct {
	Report   ImportReport   `json:"report"`
	Findings []CheckFinding `json:"findings"`
	Licences []GateLicence  `json:"licences"`
	Verdict  *GateVerdict   `json:"gate,omitempty"`
	// Coverage repeats Report.Coverage: how many components could be checked at all.
	Coverage Coverage `json:"coverage"`
}

// CheckFinding is one (component, vulnerability) pair found by Check.
type CheckFinding struct {
	PURL      string   `json:"purl"`
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases"`
	Summary   string   `json:"summary"`
	Severity  string   `json:"severity"`
	Score     float64  `json:"score"`
	Ecosystem string   `json:"ecosystem"`
	Package   string   `json:"package"`
	Version   string   `json:"version"`
	Fixed     []string `json:"fixed_versions"`
}

// Check matches an SBOM document against the vulnerability database and policy, and
// evaluates gate g on it when g is not nil, without storing anything. A supplier's CI
// runs this through `medguard sbom check`. The delivery rule of a gate cannot be met by
// a bare SBOM and is skipped; a vendor rule is skipped likewise.
func (s *Service) Check(ctx context.Context, data []byte, policy licence.Policy, g *Gate) (CheckResult, error) {
	an, err := s.analyse(ctx, data, policy)
	if err != nil {
		return CheckResult{}, err
	}
	res := CheckResult{Report: an.report, Findings: []CheckFinding{}, Licences: []GateLicence{}, Coverage: an.report.Coverage}
	in := GateInput{HasSBOM: true, Coverage: an.report.Coverage}
	seen := map[string]bool{}
	for i, hs := range an.matches {
		c := an.comps[i]
		for _, h := range hs {
			// The same package may be listed twice in one document; report a pair once.
			k := c.PURL + "\x00" + h.vulnID
			if seen[k] {
				continue
			}
			seen[k] = true
			m := an.vulnMeta[h.vulnID]
			level := m.Severity.Level
			if level == "" {
				level = "unknown"
			}
			aliases := m.Aliases
			if aliases == nil {
				aliases = []string{}
			}
			res.Findings = append(res.Findings, CheckFinding{PURL: c.PURL, ID: h.vulnID, Aliases: aliases, Summary: m.Summary,
				Severity: level, Score: m.Severity.Score, Ecosystem: c.Ecosystem, Package: c.Package, Version: c.PkgVersion,
				Fixed: h.fixed})
			in.Findings = append(in.Findings, GateFinding{PURL: c.PURL, VulnID: h.vulnID, Severity: level, State: StateOpen})
		}
		if c.LicenseVerdict != string(licence.VerdictAllowed) {
			name := c.PURL
			if name == "" {
				name = c.Name
			}
			l := GateLicence{Component: name, License: c.License, Verdict: c.LicenseVerdict}
			res.Licences = append(res.Licences, l)
			in.Licences = append(in.Licences, l)
		}
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		if res.Findings[i].PURL != res.Findings[j].PURL {
			return res.Findings[i].PURL < res.Findings[j].PURL
		}
		return res.Findings[i].ID < res.Findings[j].ID
	})
	if g != nil {
		gg := *g
		gg.Rules.RequireDelivery, gg.Rules.RequireVendorApproved = false, false
		v := gg.Evaluate(in)
		res.Verdict = &v
		res.Report.Gate = &GateVerdictView{Name: g.Name, Passed: v.Passed}
	}
	return res, nil
}
