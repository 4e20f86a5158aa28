package appreg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The finding types the registry derives itself, with their severities.
const (
	FindingUnregisteredChannel = "channel.unregistered"          // served through a channel not filed
	FindingForeignSigner       = "channel.foreign_signer"        // signed by a certificate not filed: counterfeit or repackaged
	FindingUnofficialBuild     = "channel.unofficial_build"      // a digest or version not among the official versions
	FindingOutdatedVersion     = "channel.outdated_version"      // an official but superseded version still served
	FindingInconsistent        = "channel.inconsistent_versions" // the channels serve different versions
	FindingCodeExpired         = "authcode.expired"              // an admitted app without a valid code
	FindingContactMissing      = "contacts.missing"              // a contact role not filed
	FindingVuln                = "vuln.open"                     // an open vulnerability in the current version's SBOM
	FindingAlert               = "alert.open"                    // an open alert of another module about the app
)

// derivedTypes are the types deriveFindings decides; findings of other types (an APK
// inspection's, for example) are kept as they are.
var derivedTypes = []string{FindingUnregisteredChannel, FindingForeignSigner, FindingUnofficialBuild, FindingOutdatedVersion,
	FindingInconsistent, FindingCodeExpired, FindingContactMissing, FindingVuln, FindingAlert}

// Finding is something wrong with an app.
type Finding struct {
	ID       int64  `json:"id"`
	AppID    int64  `json:"app_id"`
	Type     string `json:"type"`
	Subject  string `json:"subject"` // a channel, a contact role … ("" for the app as a whole)
	Severity string `json:"severity"`
	Evidence string `json:"evidence"`
	// Message is Evidence as a catalogue message, for the findings the registry derives
	// itself (nil for a tool's evidence).
	Message  *i18n.Message `json:"message,omitempty"`
	Status   string        `json:"status"` // open, fixed
	OpenedAt time.Time     `json:"opened_at"`
	FixedAt  *time.Time    `json:"fixed_at,omitempty"`
}

// Observation is what a channel was seen serving.
type Observation struct {
	ID         int64     `json:"id"`
	AppID      int64     `json:"app_id"`
	Channel    string    `json:"channel"`
	Version    string    `json:"version"`
	SHA256     string    `json:"sha256"`
	Signer     string    `json:"signer"`
	ObservedAt time.Time `json:"observed_at"`
	ReportedBy string    `json:"reported_by"`
}

// Observe records what a channel serves (a crawler, an app-store check, an operator
// reports it), derives the app's findings again and evaluates it. It returns the app's
// open findings.
func (s *Service) Observe(ctx context.Context, a actor.Actor, id int64, o Observation) ([]Finding, error) {
	var err error
	if o.Channel, err = text("channel", o.Channel, 100, true); err != nil {
		return nil, err
	}
	if o.Version, err = text("version", o.Version, 100, false); err != nil {
		return nil, err
	}
	if o.SHA256, err = fingerprint("sha256", o.SHA256); err != nil {
		return nil, err
	}
	if o.Signer, err = fingerprint("signer", o.Signer); err != nil {
		return nil, err
	}
	if o.Version == "" && o.SHA256 == "" && o.Signer == "" {
		return nil, problem.Invalid("version", "an observation names a version, a digest or a signer").WithMsg("app.error.empty_observation")
	}
	now := s.now()
	if o.ObservedAt.IsZero() || o.ObservedAt.After(now) {
		o.ObservedAt = now
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_observations (app_id, channel, version, sha256, signer, observed_at,
			reported_by) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, o.Channel, o.Version, o.SHA256, o.Signer, o.ObservedAt.UTC(), a.Username); err != nil {
			return fmt.Errorf("appreg: observation: %w", err)
		}
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "app.observe", ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s: %s serves %s", ap.Name, o.Channel, describe(o)),
			Msg:     trail.Msg("trail.summary.app.observe", ap.Name, o.Channel, describe(o)), After: o}); err != nil {
			return err
		}
		return s.refresh(ctx, tx, a, ap.ID)
	})
	if err != nil {
		return nil, err
	}
	return s.Findings(ctx, a, id, true)
}

func describe(o Observation) string {
	var parts []string
	if o.Version != "" {
		parts = append(parts, "version "+o.Version)
	}
	if o.SHA256 != "" {
		parts = append(parts, "sha256 "+o.SHA256[:16]+"…")
	}
	if o.Signer != "" {
		parts = append(parts, "signer "+o.Signer[:16]+"…")
	}
	return strings.Join(parts, ", ")
}

// refresh derives the findings of app id again and evaluates it.
func (s *Service) refresh(ctx context.Context, tx *store.Tx, a actor.Actor, id int64) error {
	ap, err := s.get(ctx, tx, actor.System(), id)
	if err != nil {
		return err
	}
	if err := s.fill(ctx, tx, &ap); err != nil {
		return err
	}
	want, err := s.derive(ctx, tx, ap)
	if err != nil {
		return err
	}
	if err := s.sync(ctx, tx, ap, derivedTypes, want); err != nil {
		return err
	}
	_, err = s.evaluate(ctx, tx, a, ap.ID)
	return err
}

// derive computes the findings that hold now of ap from its filing, the latest
// observation of each channel and its codes.
func (s *Service) derive(ctx context.Context, tx *store.Tx, ap App) ([]Finding, error) {
	var out []Finding
	add := func(typ, subject, severity, evidence string, msg i18n.Message) {
		out = append(out, Finding{Type: typ, Subject: subject, Severity: severity, Evidence: evidence, Message: &msg})
	}
	for _, role := range ContactRoles {
		if !slices.ContainsFunc(ap.Contacts, func(c Contact) bool { return c.Role == role }) {
			add(FindingContactMissing, role, "medium", fmt.Sprintf("no %s contact is filed", role),
				i18n.M("app.evidence.contact_missing", i18n.M("app.role."+role)))
		}
	}
	if ap.Status == StatusAdmitted {
		var valid int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM app_codes WHERE app_id = ? AND revoked_at IS NULL AND expires_at > ?`,
			ap.ID, s.now()).Scan(&valid); err != nil {
			return nil, fmt.Errorf("appreg: codes: %w", err)
		}
		if valid == 0 {
			add(FindingCodeExpired, "", "high", "the app is admitted but holds no valid authorization code",
				i18n.M("app.evidence.code_expired"))
		}
	}
	if s.opt.Vulns != nil {
		for _, v := range ap.Versions {
			if !v.Current || v.SupplyVersionID == 0 {
				continue
			}
			var path string
			if err := tx.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, ap.OrgID).Scan(&path); err != nil {
				return nil, fmt.Errorf("appreg: hospital: %w", err)
			}
			vulns, err := s.opt.Vulns.OpenVulns(ctx, path, v.SupplyVersionID)
			if err != nil {
				return nil, err
			}
			for _, vu := range vulns {
				add(FindingVuln, vu.ID+" · "+vu.Package, vu.Severity,
					fmt.Sprintf("%s in %s of version %s (its SBOM in the supply chain)", vu.ID, vu.Package, v.Version),
					i18n.M("app.evidence.vuln", vu.ID, vu.Package, v.Version))
			}
		}
	}
	// The open alerts other modules raised about the app (alert field app = its package)
	// in its hospital or below.
	arows, err := tx.QueryContext(ctx, `SELECT a.id, a.kind, a.severity FROM alerts a JOIN orgs o ON o.id = a.org_id JOIN orgs h ON h.id = ?
		WHERE a.app = ? AND a.source <> 'apps' AND a.status IN ('new', 'investigating') AND `+actor.ContainsSQL("h.path", "o.path")+`
		ORDER BY a.id LIMIT 200`, ap.OrgID, ap.Package)
	if err != nil {
		return nil, fmt.Errorf("appreg: alerts about the app: %w", err)
	}
	for arows.Next() {
		var id int64
		var kind, sev string
		if err := arows.Scan(&id, &kind, &sev); err != nil {
			arows.Close()
			return nil, fmt.Errorf("appreg: alerts about the app: %w", err)
		}
		add(FindingAlert, fmt.Sprintf("%s #%d", kind, id), sev, fmt.Sprintf("alert #%d (%s) about the app is open", id, kind),
			i18n.M("app.evidence.alert", id, kind))
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return nil, fmt.Errorf("appreg: alerts about the app: %w", err)
	}
	signers, digests, versions := map[string]bool{}, map[string]bool{}, map[string]Version{}
	for _, v := range ap.Versions {
		for _, f := range v.Signers {
			signers[f] = true
		}
		if v.SHA256 != "" {
			digests[v.SHA256] = true
		}
		versions[v.Version] = v
	}
	channels := map[string]bool{}
	for _, c := range ap.Channels {
		channels[c.Name] = true
	}
	// The latest observation of each channel.
	rows, err := tx.QueryContext(ctx, `SELECT channel, version, sha256, signer FROM app_observations o
		WHERE app_id = ? AND id = (SELECT MAX(id) FROM app_observations p WHERE p.app_id = o.app_id AND p.channel = o.channel)
		ORDER BY channel`, ap.ID)
	if err != nil {
		return nil, fmt.Errorf("appreg: observations: %w", err)
	}
	var latest []Observation
	for rows.Next() {
		var o Observation
		if err := rows.Scan(&o.Channel, &o.Version, &o.SHA256, &o.Signer); err != nil {
			rows.Close()
			return nil, fmt.Errorf("appreg: observations: %w", err)
		}
		latest = append(latest, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appreg: observations: %w", err)
	}
	served := map[string][]string{} // version → channels
	for _, o := range latest {
		if !channels[o.Channel] {
			add(FindingUnregisteredChannel, o.Channel, "high", fmt.Sprintf("the app is served through %s, a channel not filed", o.Channel),
				i18n.M("app.evidence.unregistered_channel", o.Channel))
		}
		if o.Signer != "" && !signers[o.Signer] {
			add(FindingForeignSigner, o.Channel, "critical",
				fmt.Sprintf("%s serves a build signed by certificate SHA-256 %s, which is not an official signer: counterfeit or repackaged", o.Channel, o.Signer),
				i18n.M("app.evidence.foreign_signer", o.Channel, o.Signer))
			continue // a foreign build's version and digest say nothing more
		}
		v, known := versions[o.Version]
		switch {
		case o.SHA256 != "" && !digests[o.SHA256]:
			add(FindingUnofficialBuild, o.Channel, "high", fmt.Sprintf("%s serves a file (SHA-256 %s) that is not an official version's artifact", o.Channel, o.SHA256),
				i18n.M("app.evidence.unofficial_file", o.Channel, o.SHA256))
		case o.Version != "" && !known:
			add(FindingUnofficialBuild, o.Channel, "high", fmt.Sprintf("%s serves version %s, which is not an official version", o.Channel, o.Version),
				i18n.M("app.evidence.unofficial_version", o.Channel, o.Version))
		case known && !v.Current:
			add(FindingOutdatedVersion, o.Channel, "medium", fmt.Sprintf("%s still serves version %s, superseded by the current official version", o.Channel, o.Version),
				i18n.M("app.evidence.outdated_version", o.Channel, o.Version))
		}
		if o.Version != "" {
			served[o.Version] = append(served[o.Version], o.Channel)
		}
	}
	if len(served) > 1 {
		var parts []string
		for v, chs := range served {
			parts = append(parts, fmt.Sprintf("%s: %s", v, strings.Join(chs, ", ")))
		}
		sort.Strings(parts)
		add(FindingInconsistent, "", "low", "the channels serve different versions — "+strings.Join(parts, "; "),
			i18n.M("app.evidence.inconsistent", strings.Join(parts, "; ")))
	}
	return out, nil
}

// sync makes the open findings of ap with a type in types exactly want: new ones are
// opened (and raise an alert), those no longer in want are fixed; an open finding whose
// evidence changed keeps its opening time.
func (s *Service) sync(ctx context.Context, tx *store.Tx, ap App, types []string, want []Finding) error {
	open, err := findings(ctx, tx, ap.ID, true)
	if err != nil {
		return err
	}
	key := func(f Finding) string { return f.Type + "\x00" + f.Subject }
	wanted := map[string]Finding{}
	for _, f := range want {
		wanted[key(f)] = f
	}
	now := s.now()
	have := map[string]bool{}
	for _, f := range open {
		if !slices.Contains(types, f.Type) {
			continue
		}
		have[key(f)] = true
		w, ok := wanted[key(f)]
		switch {
		case !ok:
			if _, err := tx.ExecContext(ctx, `UPDATE app_findings SET status = 'fixed', fixed_at = ? WHERE id = ?`, now, f.ID); err != nil {
				return fmt.Errorf("appreg: fix finding: %w", err)
			}
		case w.Evidence != f.Evidence || w.Severity != f.Severity || !sameMessage(w.Message, f.Message):
			if _, err := tx.ExecContext(ctx, `UPDATE app_findings SET evidence = ?, severity = ?, message = ? WHERE id = ?`,
				w.Evidence, w.Severity, messageJSON(w.Message), f.ID); err != nil {
				return fmt.Errorf("appreg: update finding: %w", err)
			}
		}
	}
	for _, f := range want {
		if have[key(f)] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_findings (app_id, type, subject, severity, evidence, message, status, opened_at)
			VALUES (?, ?, ?, ?, ?, ?, 'open', ?)`, ap.ID, f.Type, f.Subject, f.Severity, f.Evidence, messageJSON(f.Message), now); err != nil {
			return fmt.Errorf("appreg: open finding: %w", err)
		}
		if f.Severity == "low" || f.Severity == "info" || f.Type == FindingAlert {
			continue // shown with the app and scored; not worth an alert (or one already)
		}
		if err := s.raise(ctx, tx, ap, f.Type, f.Severity, f.Subject, map[string]any{"evidence": f.Evidence}); err != nil {
			return err
		}
	}
	return nil
}

// SetFindings replaces the open findings of ap whose type starts with prefix (e.g. "apk."
// after an inspection) by fs, and evaluates the app again.
func (s *Service) SetFindings(ctx context.Context, a actor.Actor, id int64, prefix string, fs []Finding) error {
	if prefix == "" || slices.ContainsFunc(derivedTypes, func(t string) bool { return strings.HasPrefix(t, prefix) }) {
		return fmt.Errorf("appreg: prefix %q would replace the registry's own findings", prefix)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		open, err := findings(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var types []string
		for _, f := range append(open, fs...) {
			if strings.HasPrefix(f.Type, prefix) && !slices.Contains(types, f.Type) {
				types = append(types, f.Type)
			}
		}
		for _, f := range fs {
			if !strings.HasPrefix(f.Type, prefix) {
				return fmt.Errorf("appreg: finding type %q outside %q", f.Type, prefix)
			}
		}
		if err := s.sync(ctx, tx, ap, types, fs); err != nil {
			return err
		}
		_, err = s.evaluate(ctx, tx, a, id)
		return err
	})
}

func findings(ctx context.Context, q store.Querier, id int64, openOnly bool) ([]Finding, error) {
	cond := ""
	if openOnly {
		cond = " AND status = 'open'"
	}
	rows, err := q.QueryContext(ctx, `SELECT id, app_id, type, subject, severity, evidence, message, status, opened_at, fixed_at
		FROM app_findings WHERE app_id = ?`+cond+` ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("appreg: findings: %w", err)
	}
	defer rows.Close()
	out := []Finding{}
	for rows.Next() {
		var f Finding
		var opened, fixed store.Time
		var msg string
		if err := rows.Scan(&f.ID, &f.AppID, &f.Type, &f.Subject, &f.Severity, &f.Evidence, &msg, &f.Status, &opened, &fixed); err != nil {
			return nil, fmt.Errorf("appreg: findings: %w", err)
		}
		if msg != "" {
			var m i18n.Message
			if json.Unmarshal([]byte(msg), &m) == nil && m.Key != "" {
				f.Message = &m
			}
		}
		f.OpenedAt, f.FixedAt = opened.Time, fixed.Ptr()
		out = append(out, f)
	}
	return out, rows.Err()
}

// Findings lists app id's findings (only the open ones when openOnly).
func (s *Service) Findings(ctx context.Context, a actor.Actor, id int64, openOnly bool) ([]Finding, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	return findings(ctx, s.db, id, openOnly)
}

// Score is one stored evaluation.
type Score struct {
	Score       int             `json:"score"`
	Grade       string          `json:"grade"`
	Details     json.RawMessage `json:"details"`
	EvaluatedAt time.Time       `json:"evaluated_at"`
}

// evaluate scores app id from its open findings, stores the evaluation when it changed,
// sets the rectification deadline of a grade-B app and proposes eviction (an alert) for
// a grade-C app or a critical finding open past its deadline.
func (s *Service) evaluate(ctx context.Context, tx *store.Tx, a actor.Actor, id int64) (Evaluation, error) {
	ap, err := s.get(ctx, tx, actor.System(), id)
	if err != nil {
		return Evaluation{}, err
	}
	open, err := findings(ctx, tx, id, true)
	if err != nil {
		return Evaluation{}, err
	}
	ev := s.scorer.Evaluate(open)
	now := s.now()
	for _, f := range open {
		if f.Severity == "critical" && now.Sub(f.OpenedAt) > s.opt.CriticalDeadline {
			ev.Evict = true
		}
	}
	details, err := json.Marshal(ev.Details)
	if err != nil {
		return Evaluation{}, fmt.Errorf("appreg: score details: %w", err)
	}
	var last Score
	err = tx.QueryRowContext(ctx, `SELECT score, grade, details FROM app_scores WHERE app_id = ? ORDER BY id DESC LIMIT 1`, id).
		Scan(&last.Score, &last.Grade, &last.Details)
	if err != nil || last.Score != ev.Score || last.Grade != ev.Grade || string(last.Details) != string(details) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_scores (app_id, score, grade, details, evaluated_at) VALUES (?, ?, ?, ?, ?)`,
			id, ev.Score, ev.Grade, string(details), now); err != nil {
			return Evaluation{}, fmt.Errorf("appreg: store the score: %w", err)
		}
	}
	rectify := ap.RectifyBy
	admitted := ap.Status == StatusAdmitted
	if ev.Rectify && rectify == nil && admitted {
		t := now.Add(time.Duration(max(ev.RectifyDays, 1)) * 24 * time.Hour)
		rectify = &t
		if err := s.raise(ctx, tx, ap, "app.rectification", "medium", "", map[string]any{"grade": ev.Grade, "score": ev.Score,
			"rectify_by": t.Format(time.DateOnly)}); err != nil {
			return Evaluation{}, err
		}
	} else if !ev.Rectify || !admitted {
		rectify = nil // rectification is ordered to an admitted app
	}
	if _, err := tx.ExecContext(ctx, `UPDATE apps SET score = ?, grade = ?, rectify_by = ? WHERE id = ?`, ev.Score, ev.Grade, rectify, id); err != nil {
		return Evaluation{}, fmt.Errorf("appreg: score: %w", err)
	}
	if ap.Score == nil || *ap.Score != ev.Score {
		old := "none"
		if ap.Score != nil {
			old = fmt.Sprint(*ap.Score)
		}
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "app.score", ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s: score %s → %d (grade %s)", ap.Name, old, ev.Score, ev.Grade),
			Msg:     trail.Msg("trail.summary.app.score", ap.Name, old, ev.Score, ev.Grade)}); err != nil {
			return Evaluation{}, err
		}
	}
	if ev.Evict && ap.Status == StatusAdmitted {
		if err := s.raise(ctx, tx, ap, "app.eviction_proposed", "high", "", map[string]any{"grade": ev.Grade, "score": ev.Score}); err != nil {
			return Evaluation{}, err
		}
	}
	return ev, nil
}

// Scores lists the evaluations of app id, oldest first (its trend).
func (s *Service) Scores(ctx context.Context, a actor.Actor, id int64) ([]Score, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT score, grade, details, evaluated_at FROM app_scores WHERE app_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("appreg: scores: %w", err)
	}
	defer rows.Close()
	out := []Score{}
	for rows.Next() {
		var sc Score
		var details string
		var at store.Time
		if err := rows.Scan(&sc.Score, &sc.Grade, &details, &at); err != nil {
			return nil, fmt.Errorf("appreg: scores: %w", err)
		}
		sc.Details, sc.EvaluatedAt = json.RawMessage(details), at.Time
		out = append(out, sc)
	}
	return out, rows.Err()
}

// raise raises an alert about ap (source "apps", kind the finding type or event).
func (s *Service) raise(ctx context.Context, tx *store.Tx, ap App, kind, severity, subject string, evidence map[string]any) error {
	if s.alerts == nil {
		return nil
	}
	subj := ap.Name
	if subject != "" {
		subj += " · " + subject
	}
	evidence["app_id"] = ap.ID
	if incident(kind, severity) && s.opt.Contacts != nil {
		// Said on the alert: whether its contacts are mailed, and through what.
		if via, err := s.opt.Contacts.MailChannel(ctx, tx, ap.OrgID); err == nil {
			evidence["contacts_mailed_via"] = via
		} else if errors.Is(err, notify.ErrNoMailChannel) {
			evidence["contacts_not_mailed"] = i18n.M("app.evidence.no_mail_channel")
		} else {
			return err
		}
	}
	title := i18n.M("app.alert."+kind, ap.Name, subject)
	if !slices.Contains(derivedTypes, kind) && !strings.HasPrefix(kind, "app.") {
		title = i18n.M("app.alert.finding", ap.Name, kind, subject) // an inspection's finding
	}
	al, created, err := s.alerts.Raise(ctx, tx, alert.Input{OrgID: ap.OrgID, Source: "apps", Kind: kind, Severity: severity,
		Title: title, Subject: subj, App: ap.Package, Evidence: evidence,
		DedupKey: fmt.Sprintf("app:%d:%s:%s", ap.ID, kind, subject)})
	if err != nil {
		return fmt.Errorf("appreg: raise %s: %w", kind, err)
	}
	if !created {
		return nil // the contacts and the regulator heard of it when it was raised
	}
	if incident(kind, severity) {
		if err := s.notifyContacts(ctx, tx, ap, al, title); err != nil {
			return err
		}
	}
	if major(kind, severity) {
		return s.escalate(ctx, tx, ap, al, kind, severity, title, subj)
	}
	return nil
}

// incident reports whether an alert of kind and severity about an app is an incident its
// registered contacts hear of at once: a high or critical finding, or a step of the
// disposal (rectification ordered, eviction proposed, eviction).
func incident(kind, severity string) bool {
	return severity == "high" || severity == "critical" || strings.HasPrefix(kind, "app.")
}

// major reports whether an alert is a major risk escalated to the supervising regulator:
// a critical finding, an eviction proposed, an eviction.
func major(kind, severity string) bool {
	return severity == "critical" || kind == "app.eviction_proposed" || kind == "app.evicted"
}

// notifyContacts mails alert al to the app's registered contacts. A hospital without a
// mail channel is not an error of the raise: it is logged, and the alert stands.
func (s *Service) notifyContacts(ctx context.Context, tx *store.Tx, ap App, al alert.Alert, title i18n.Message) error {
	if s.opt.Contacts == nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT email FROM app_contacts WHERE app_id = ? ORDER BY role, email`, ap.ID)
	if err != nil {
		return fmt.Errorf("appreg: contacts: %w", err)
	}
	var emails []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			rows.Close()
			return fmt.Errorf("appreg: contacts: %w", err)
		}
		if e != "" {
			emails = append(emails, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("appreg: contacts: %w", err)
	}
	if len(emails) == 0 {
		return nil
	}
	via, err := s.opt.Contacts.NotifyContacts(ctx, tx, al, title, emails)
	if err != nil {
		s.opt.Logger.Warn("the contacts of an app could not be notified", "app", ap.ID, "alert", al.ID, "err", err)
		return nil
	}
	s.opt.Logger.Info("the contacts of an app are notified", "app", ap.ID, "alert", al.ID, "via", via, "contacts", len(emails))
	return nil
}

// escalate raises a major risk about an app in the organisation that supervises its
// hospital (the hospital's parent: a region or province), where the regulator's own routes
// and inboxes pick it up. A hospital at the top of the tree has no one to escalate to.
func (s *Service) escalate(ctx context.Context, tx *store.Tx, ap App, al alert.Alert, kind, severity string, title i18n.Message, subj string) error {
	var parent sql.NullInt64
	var hospital string
	if err := tx.QueryRowContext(ctx, `SELECT parent_id, name FROM orgs WHERE id = ?`, ap.OrgID).Scan(&parent, &hospital); err != nil {
		return fmt.Errorf("appreg: escalate: %w", err)
	}
	if !parent.Valid {
		return nil
	}
	_, _, err := s.alerts.Raise(ctx, tx, alert.Input{OrgID: parent.Int64, Source: "apps", Kind: "app.escalated", Severity: severity,
		Title: i18n.M("app.alert.app.escalated", hospital, title), Subject: hospital + " · " + subj, App: ap.Package,
		Evidence: map[string]any{"app_id": ap.ID, "hospital": hospital, "alert_id": al.ID, "kind": kind},
		DedupKey: fmt.Sprintf("app-escalated:%d:%d", ap.ID, al.ID)})
	if err != nil {
		return fmt.Errorf("appreg: escalate %s: %w", kind, err)
	}
	return nil
}

// Verdict is the online verification of an authorization code.
type Verdict struct {
	Valid     bool       `json:"valid"`
	Reason    string     `json:"reason,omitempty"` // why not: signature, expired, revoked, unknown, not admitted
	CodeID    string     `json:"code_id,omitempty"`
	AppID     int64      `json:"app_id,omitempty"`
	App       string     `json:"app,omitempty"`
	Package   string     `json:"package,omitempty"`
	Hospital  string     `json:"hospital,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Verify checks a code online: its signature and dates offline first, then that this
// registry issued it, has not revoked it and the app is still admitted.
func (s *Service) Verify(ctx context.Context, code string) (Verdict, error) {
	if len(code) > 8192 {
		return Verdict{Reason: "malformed"}, nil
	}
	cl, err := s.codes.Verify(strings.TrimSpace(code), s.now())
	if err != nil {
		return Verdict{Reason: err.Error()}, nil
	}
	v := Verdict{CodeID: cl.ID, AppID: cl.AppID, Hospital: cl.Hospital}
	exp := cl.ExpiresAt
	v.ExpiresAt = &exp
	var status string
	var rev store.Time
	var reason string
	err = s.db.QueryRowContext(ctx, `SELECT c.revoked_at, c.revoke_reason, a.status, a.name, a.package FROM app_codes c
		JOIN apps a ON a.id = c.app_id WHERE c.code_id = ? AND c.app_id = ?`, cl.ID, cl.AppID).Scan(&rev, &reason, &status, &v.App, &v.Package)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v.Reason = "unknown: this registry did not issue the code"
		return v, nil
	case err != nil:
		return Verdict{}, fmt.Errorf("appreg: verify: %w", err)
	case rev.Valid:
		v.RevokedAt, v.Reason = rev.Ptr(), "revoked: "+reason
	case status != StatusAdmitted:
		v.Reason = "the app is " + status
	default:
		v.Valid = true
	}
	return v, nil
}

// messageJSON is m as stored in app_findings.message ("" for none).
func messageJSON(m *i18n.Message) string {
	if m == nil {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(b)
}

// sameMessage reports whether a derived message and a stored one say the same.
func sameMessage(a, b *i18n.Message) bool { return messageJSON(a) == messageJSON(b) }
