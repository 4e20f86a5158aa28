package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
)

// The names of the automatic checks.
const (
	CheckMFAAdmins          = "mfa.admins"
	CheckEventsRetention    = "events.retention"
	CheckTrailChain         = "trail.chain"
	CheckVulnSLA            = "vuln.sla"
	CheckDLPScans           = "dlp.scans"
	CheckIncidentClocks     = "incident.clocks"
	CheckTrainingCompletion = "training.completion"
	CheckDeliveryVerified   = "delivery.verified"
	CheckDataflowRegister   = "dataflow.register"
	CheckPolicyReviews      = "policy.reviews"
)

// MinRetention is the retention of audit events the check events.retention asks for:
// six months, counted as the longest six calendar months (events.MinRetention, 184 days).
const MinRetention = events.MinRetention

// The data sources of the checks, each a small interface the platform's services meet.
type (
	// MFAPolicy tells whether an organisation requires MFA (org.Service).
	MFAPolicy interface {
		RequiresMFA(ctx context.Context, orgID int64) (bool, error)
	}
	// RetentionSetting is the configured retention of audit events (events.Service).
	RetentionSetting interface{ Retention() time.Duration }
	// FindingLister lists supply-chain findings as an actor sees them (supply.Service).
	FindingLister interface {
		Findings(ctx context.Context, a actor.Actor, q supply.FindingQuery) (supply.FindingPage, error)
	}
	// SLAReader gives the SLA in hours by severity at an organisation (alert.Service).
	SLAReader interface {
		SLA(ctx context.Context, a actor.Actor, orgID int64) (map[string]int, error)
	}
	// TrainingSource counts required and completed trainings of an organisation.
	TrainingSource interface {
		Completion(ctx context.Context, orgID int64) (required, done int, err error)
	}
	// DataflowSource counts registered outbound data flows and those lacking an
	// agreement, encryption or de-identification their level needs.
	DataflowSource interface {
		Deficient(ctx context.Context, orgID int64) (total, deficient int, err error)
	}
	// PolicySource counts policy documents and those whose review is overdue.
	PolicySource interface {
		OverdueReviews(ctx context.Context, orgID int64, now time.Time) (total, overdue int, err error)
	}
)

// Sources are the data sources of the automatic checks. A nil source makes its check
// "not available" (never passing).
type Sources struct {
	DB        *store.DB
	Trail     *trail.Log
	MFA       MFAPolicy
	Events    RetentionSetting
	Findings  FindingLister
	SLA       SLAReader
	Training  TrainingSource
	Dataflows DataflowSource
	Policies  PolicySource
}

// DefaultChecks returns the ten automatic checks on src.
func DefaultChecks(src Sources) []Check {
	return []Check{
		MFAAdmins(src.DB, src.MFA),
		EventsRetention(src.DB, src.Events),
		TrailChain(src.DB, src.Trail),
		VulnSLA(src.DB, src.Findings, src.SLA),
		DLPScans(src.DB),
		IncidentClocks(src.DB),
		DeliveryVerified(src.DB),
		TrainingCompletion(src.Training),
		DataflowRegister(src.Dataflows),
		PolicyReviews(src.Policies),
	}
}

// checkFunc is a Check made of a name and a function.
type checkFunc struct {
	name string
	run  func(ctx context.Context, sc Scope) (Result, error)
}

func (c checkFunc) Name() string                                      { return c.name }
func (c checkFunc) Run(ctx context.Context, sc Scope) (Result, error) { return c.run(ctx, sc) }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// MFAAdmins is mfa.admins: every active administrator and security officer of the
// organisation (and below) has MFA enrolled, and the organisation's policy enforces it.
func MFAAdmins(db *store.DB, policy MFAPolicy) Check {
	return checkFunc{CheckMFAAdmins, func(ctx context.Context, sc Scope) (Result, error) {
		if policy == nil {
			return unavailable(CheckMFAAdmins), nil
		}
		cond, arg := sc.Actor().SeesSQL("o.path")
		rows, err := db.QueryContext(ctx, `SELECT u.id, u.mfa_enabled FROM users u JOIN orgs o ON o.id = u.org_id
			WHERE u.role IN ('admin', 'security_officer') AND NOT u.disabled AND `+cond+` ORDER BY u.id`, arg)
		if err != nil {
			return Result{}, fmt.Errorf("assess: mfa.admins: %w", err)
		}
		defer rows.Close()
		admins, without := 0, 0
		var links []Link
		for rows.Next() {
			var id int64
			var mfa bool
			if err := rows.Scan(&id, &mfa); err != nil {
				return Result{}, fmt.Errorf("assess: mfa.admins: %w", err)
			}
			admins++
			if !mfa {
				without++
				links = append(links, Link{Module: "user", ID: id})
			}
		}
		if err := rows.Err(); err != nil {
			return Result{}, fmt.Errorf("assess: mfa.admins: %w", err)
		}
		enforced, err := policy.RequiresMFA(ctx, sc.OrgID)
		if err != nil {
			return Result{}, fmt.Errorf("assess: mfa.admins: %w", err)
		}
		r := Result{Figures: map[string]int{"admins": admins, "without_mfa": without, "enforced": b2i(enforced)}, Links: links}
		switch {
		case without > 0:
			r.Message = i18n.M("assess.check.mfa.missing", without, admins)
		case !enforced:
			r.Message = i18n.M("assess.check.mfa.not_enforced", admins)
		default:
			r.Pass, r.Message = true, i18n.M("assess.check.mfa.pass", admins)
		}
		return r, nil
	}}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// EventsRetention is events.retention: audit events are kept at least MinRetention and,
// where events exist, none that should still be kept is gone — the oldest event held
// is not younger than the oldest seen at the previous run while that one is still
// within the retention period.
func EventsRetention(db *store.DB, setting RetentionSetting) Check {
	return checkFunc{CheckEventsRetention, func(ctx context.Context, sc Scope) (Result, error) {
		if setting == nil {
			return unavailable(CheckEventsRetention), nil
		}
		days := int(setting.Retention() / (24 * time.Hour))
		cond, arg := sc.Actor().SeesSQL("o.path")
		var n int
		var oldest store.Time
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(e.time) FROM events e JOIN orgs o ON o.id = e.org_id WHERE `+cond,
			arg).Scan(&n, &oldest); err != nil {
			return Result{}, fmt.Errorf("assess: events.retention: %w", err)
		}
		r := Result{Figures: map[string]int{"retention_days": days, "events": n}}
		if oldest.Valid {
			r.Figures["oldest"] = int(oldest.Time.Unix())
		}
		if last, ok := sc.Last["oldest"]; ok && sc.Last["events"] > 0 {
			prev := time.Unix(int64(last), 0).UTC()
			// The previous oldest event is still within the six months, yet it or the
			// events after it are gone.
			if !prev.Before(sc.Now.Add(-MinRetention)) && (!oldest.Valid || oldest.Time.After(prev)) {
				now := "—"
				if oldest.Valid {
					now = day(oldest.Time)
				}
				r.Figures["purged_early"] = 1
				r.Message = i18n.M("assess.check.retention.purged", day(prev), now)
				return r, nil
			}
		}
		switch {
		case setting.Retention() < MinRetention:
			r.Message = i18n.M("assess.check.retention.short", days)
		case !oldest.Valid:
			r.Pass, r.Message = true, i18n.M("assess.check.retention.pass_empty", days)
		default:
			r.Pass, r.Message = true, i18n.M("assess.check.retention.pass", days, n, day(oldest.Time))
		}
		return r, nil
	}}
}

// TrailChain is trail.chain: the trail's hash chain verifies from the first entry to
// the head.
func TrailChain(db *store.DB, tl *trail.Log) Check {
	return checkFunc{CheckTrailChain, func(ctx context.Context, sc Scope) (Result, error) {
		if tl == nil {
			return unavailable(CheckTrailChain), nil
		}
		rep, err := tl.Verify(ctx, db)
		if err != nil {
			return Result{}, fmt.Errorf("assess: trail.chain: %w", err)
		}
		r := Result{Figures: map[string]int{"entries": int(rep.Entries), "head": int(rep.HeadSeq)}}
		if !rep.OK {
			r.Figures["bad_seq"] = int(rep.BadSeq)
			r.Message = i18n.M("assess.check.trail.broken", rep.BadSeq)
			r.Links = []Link{{Module: "trail", ID: rep.BadSeq}}
			return r, nil
		}
		r.Pass, r.Message = true, i18n.M("assess.check.trail.pass", rep.Entries)
		return r, nil
	}}
}

// VulnSLA is vuln.sla: no open critical supply-chain finding on a version that runs on
// a system of MLPS level 3 or above (the assessed system, for a system's assessment)
// is older than the critical SLA of the organisation's alert inbox.
func VulnSLA(db *store.DB, findings FindingLister, sla SLAReader) Check {
	return checkFunc{CheckVulnSLA, func(ctx context.Context, sc Scope) (Result, error) {
		if findings == nil || sla == nil {
			return unavailable(CheckVulnSLA), nil
		}
		a := sc.Actor()
		hours, err := sla.SLA(ctx, a, sc.OrgID)
		if err != nil {
			return Result{}, fmt.Errorf("assess: vuln.sla: %w", err)
		}
		limit := hours["critical"]
		graded := map[int64]bool{} // version → runs on a level-3 system in scope
		isGraded := func(versionID int64) (bool, error) {
			if g, ok := graded[versionID]; ok {
				return g, nil
			}
			q, args := `SELECT COUNT(*) FROM version_assets va JOIN assets s ON s.id = va.asset_id WHERE va.version_id = ? AND s.mlps_level >= 3`, []any{versionID}
			if sc.AssetID != 0 {
				q, args = q+` AND s.id = ?`, append(args, sc.AssetID)
			}
			var n int
			if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				return false, fmt.Errorf("assess: vuln.sla: %w", err)
			}
			graded[versionID] = n > 0
			return n > 0, nil
		}
		open, overdue := 0, 0
		var links []Link
		for offset := 0; ; offset += 500 {
			page, err := findings.Findings(ctx, a, supply.FindingQuery{Severity: "critical", State: supply.StateOpen, Limit: 500, Offset: offset})
			if err != nil {
				return Result{}, fmt.Errorf("assess: vuln.sla: %w", err)
			}
			for _, f := range page.Items {
				ok, err := isGraded(f.VersionID)
				if err != nil {
					return Result{}, err
				}
				if !ok {
					continue
				}
				open++
				if limit > 0 && sc.Now.Sub(f.FirstSeen) > time.Duration(limit)*time.Hour {
					overdue++
					links = append(links, Link{Module: "finding", ID: f.ID})
				}
			}
			if len(page.Items) < 500 {
				break
			}
		}
		r := Result{Figures: map[string]int{"critical_open": open, "overdue": overdue, "sla_hours": limit}, Links: links}
		if overdue > 0 {
			r.Message = i18n.M("assess.check.vuln.overdue", overdue, limit)
			return r, nil
		}
		r.Pass, r.Message = true, i18n.M("assess.check.vuln.pass", open, limit)
		return r, nil
	}}
}

// DLPScans is dlp.scans: at least one patient-data scan (of a text, an upload or a
// path job — not an outbound file check) finished in the period.
func DLPScans(db *store.DB) Check {
	return checkFunc{CheckDLPScans, func(ctx context.Context, sc Scope) (Result, error) {
		cond, arg := sc.Actor().SeesSQL("o.path")
		ids, err := store.Collect(ctx, db, func(s store.Scanner) (int64, error) {
			var id int64
			return id, s.Scan(&id)
		}, `SELECT s.id FROM dlp_scans s JOIN orgs o ON o.id = s.org_id WHERE s.status = 'done' AND s.kind <> 'check'
			AND s.created_at >= ? AND s.created_at <= ? AND `+cond+` ORDER BY s.id DESC`, sc.From, sc.Now, arg)
		if err != nil {
			return Result{}, fmt.Errorf("assess: dlp.scans: %w", err)
		}
		r := Result{Figures: map[string]int{"scans": len(ids)}}
		for _, id := range ids {
			r.Links = append(r.Links, Link{Module: "dlp_scan", ID: id})
		}
		if len(ids) == 0 {
			r.Message = i18n.M("assess.check.dlp.none", day(sc.From), day(sc.Now))
			return r, nil
		}
		r.Pass, r.Message = true, i18n.M("assess.check.dlp.pass", len(ids), day(sc.From), day(sc.Now))
		return r, nil
	}}
}

// IncidentClocks is incident.clocks: every incident detected in the period whose level
// must be reported was reported before its deadline (and passed on before the pass-on
// deadline, where there is one); a clock still running and not yet due is no failure.
func IncidentClocks(db *store.DB) Check {
	return checkFunc{CheckIncidentClocks, func(ctx context.Context, sc Scope) (Result, error) {
		cond, arg := sc.Actor().SeesSQL("o.path")
		type clock struct {
			id                       int64
			due, at, passDue, passAt store.Time
		}
		list, err := store.Collect(ctx, db, func(s store.Scanner) (clock, error) {
			var c clock
			return c, s.Scan(&c.id, &c.due, &c.at, &c.passDue, &c.passAt)
		}, `SELECT i.id, i.report_due, i.reported_at, i.pass_on_due, i.passed_on_at FROM incidents i JOIN orgs o ON o.id = i.org_id
			WHERE i.report_due IS NOT NULL AND i.detected_at >= ? AND i.detected_at <= ? AND `+cond+` ORDER BY i.id`, sc.From, sc.Now, arg)
		if err != nil {
			return Result{}, fmt.Errorf("assess: incident.clocks: %w", err)
		}
		late := func(due, at store.Time) bool {
			if !due.Valid {
				return false
			}
			if at.Valid {
				return at.Time.After(due.Time)
			}
			return sc.Now.After(due.Time)
		}
		r := Result{Figures: map[string]int{"reportable": len(list)}}
		var lateLinks, all []Link
		for _, c := range list {
			all = append(all, Link{Module: "incident", ID: c.id})
			if late(c.due, c.at) || late(c.passDue, c.passAt) {
				lateLinks = append(lateLinks, Link{Module: "incident", ID: c.id})
			}
		}
		r.Figures["late"] = len(lateLinks)
		if len(lateLinks) > 0 {
			r.Links, r.Message = lateLinks, i18n.M("assess.check.incident.late", len(lateLinks), len(list))
			return r, nil
		}
		r.Pass, r.Links, r.Message = true, all, i18n.M("assess.check.incident.pass", len(list))
		return r, nil
	}}
}

// DeliveryVerified is delivery.verified: every product version that went live in the
// period (passed a go-live gate) had a delivery verified before, and the last delivery
// verified before going live passed its integrity check.
func DeliveryVerified(db *store.DB) Check {
	return checkFunc{CheckDeliveryVerified, func(ctx context.Context, sc Scope) (Result, error) {
		cond, arg := sc.Actor().SeesSQL("o.path")
		q, args := `SELECT gr.version_id, MIN(gr.evaluated_at) FROM gate_results gr JOIN gates g ON g.id = gr.gate_id
			JOIN product_versions pv ON pv.id = gr.version_id JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id
			WHERE g.stage = 'go_live' AND gr.passed AND `+cond, []any{arg}
		if sc.AssetID != 0 {
			q, args = q+` AND EXISTS (SELECT 1 FROM version_assets va WHERE va.version_id = gr.version_id AND va.asset_id = ?)`, append(args, sc.AssetID)
		}
		type live struct {
			version int64
			at      store.Time
		}
		lives, err := store.Collect(ctx, db, func(s store.Scanner) (live, error) {
			var l live
			return l, s.Scan(&l.version, &l.at)
		}, q+` GROUP BY gr.version_id ORDER BY gr.version_id`, args...)
		if err != nil {
			return Result{}, fmt.Errorf("assess: delivery.verified: %w", err)
		}
		wentLive, bad := 0, 0
		var links, badLinks []Link
		for _, l := range lives {
			if l.at.Time.Before(sc.From) || l.at.Time.After(sc.Now) {
				continue
			}
			wentLive++
			var id int64
			var ok bool
			err := db.QueryRowContext(ctx, `SELECT id, ok FROM deliveries WHERE version_id = ? AND verified_at <= ?
				ORDER BY verified_at DESC, id DESC LIMIT 1`, l.version, l.at.Time).Scan(&id, &ok)
			switch {
			case err == nil && ok:
				links = append(links, Link{Module: "delivery", ID: id})
			case err == nil:
				bad++
				badLinks = append(badLinks, Link{Module: "delivery", ID: id})
			case errors.Is(err, sql.ErrNoRows):
				bad++
				badLinks = append(badLinks, Link{Module: "version", ID: l.version})
			default:
				return Result{}, fmt.Errorf("assess: delivery.verified: %w", err)
			}
		}
		r := Result{Figures: map[string]int{"went_live": wentLive, "unverified": bad}}
		if bad > 0 {
			r.Links, r.Message = badLinks, i18n.M("assess.check.delivery.unverified", bad, wentLive)
			return r, nil
		}
		r.Pass, r.Links, r.Message = true, links, i18n.M("assess.check.delivery.pass", wentLive)
		return r, nil
	}}
}

// TrainingCompletion is training.completion: every required training is completed.
func TrainingCompletion(src TrainingSource) Check {
	return checkFunc{CheckTrainingCompletion, func(ctx context.Context, sc Scope) (Result, error) {
		if src == nil {
			return unavailable(CheckTrainingCompletion), nil
		}
		required, done, err := src.Completion(ctx, sc.OrgID)
		if err != nil {
			return Result{}, fmt.Errorf("assess: training.completion: %w", err)
		}
		r := Result{Figures: map[string]int{"required": required, "done": done}}
		if done < required {
			r.Message = i18n.M("assess.check.training.missing", required-done, required)
			return r, nil
		}
		r.Pass, r.Message = true, i18n.M("assess.check.training.pass", done, required)
		return r, nil
	}}
}

// DataflowRegister is dataflow.register: no registered outbound data flow lacks the
// agreement, encryption or de-identification its level needs.
func DataflowRegister(src DataflowSource) Check {
	return checkFunc{CheckDataflowRegister, func(ctx context.Context, sc Scope) (Result, error) {
		if src == nil {
			return unavailable(CheckDataflowRegister), nil
		}
		total, deficient, err := src.Deficient(ctx, sc.OrgID)
		if err != nil {
			return Result{}, fmt.Errorf("assess: dataflow.register: %w", err)
		}
		r := Result{Figures: map[string]int{"flows": total, "deficient": deficient}}
		if deficient > 0 {
			r.Message = i18n.M("assess.check.dataflow.deficient", deficient, total)
			return r, nil
		}
		r.Pass, r.Message = true, i18n.M("assess.check.dataflow.pass", total)
		return r, nil
	}}
}

// PolicyReviews is policy.reviews: no policy document's review is overdue.
func PolicyReviews(src PolicySource) Check {
	return checkFunc{CheckPolicyReviews, func(ctx context.Context, sc Scope) (Result, error) {
		if src == nil {
			return unavailable(CheckPolicyReviews), nil
		}
		total, overdue, err := src.OverdueReviews(ctx, sc.OrgID, sc.Now)
		if err != nil {
			return Result{}, fmt.Errorf("assess: policy.reviews: %w", err)
		}
		r := Result{Figures: map[string]int{"policies": total, "overdue": overdue}}
		if overdue > 0 {
			r.Message = i18n.M("assess.check.policy.overdue", overdue, total)
			return r, nil
		}
		r.Pass, r.Message = true, i18n.M("assess.check.policy.pass", total)
		return r, nil
	}}
}
