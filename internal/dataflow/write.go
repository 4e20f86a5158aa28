package dataflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// text checks a required or optional text field (problem.Text).
var text = problem.Text

// date parses an optional YYYY-MM-DD field.
func date(field, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, problem.NotDate(field)
	}
	return &t, nil
}

// checked is an Input checked and normalised: the flow it would make.
func check(in Input) (Flow, error) {
	var f Flow
	var err error
	f.OrgID = in.OrgID
	if f.Name, err = text("name", in.Name, 200, true); err != nil {
		return Flow{}, err
	}
	if f.RecipientName, err = text("recipient_name", in.RecipientName, 200, true); err != nil {
		return Flow{}, err
	}
	if f.RecipientKind = strings.TrimSpace(in.RecipientKind); !slices.Contains(RecipientKinds, f.RecipientKind) {
		return Flow{}, problem.OneOf("recipient_kind", RecipientKinds...)
	}
	if len(in.Categories) == 0 {
		return Flow{}, problem.Required("categories")
	}
	seen := map[string]bool{}
	for _, c := range in.Categories {
		if !slices.Contains(Categories, c.Category) {
			return Flow{}, problem.OneOf("categories", Categories...)
		}
		if c.Level < 1 || c.Level > 5 {
			return Flow{}, problem.Invalid("categories", "a level is from 1 to 5").WithMsg("dataflow.error.level")
		}
		if seen[c.Category] {
			return Flow{}, problem.Invalid("categories", "category %s is given twice", c.Category).WithMsg("dataflow.error.category_twice")
		}
		seen[c.Category] = true
		f.Categories = append(f.Categories, c)
	}
	slices.SortFunc(f.Categories, func(a, b Category) int {
		return slices.Index(Categories, a.Category) - slices.Index(Categories, b.Category)
	})
	f.Level = levelOf(f.Categories)
	if f.Purpose, err = text("purpose", in.Purpose, 2000, true); err != nil {
		return Flow{}, err
	}
	if f.LegalBasis = strings.TrimSpace(in.LegalBasis); !slices.Contains(LegalBases, f.LegalBasis) {
		return Flow{}, problem.OneOf("legal_basis", LegalBases...)
	}
	if f.AgreementRef, err = text("agreement_ref", in.AgreementRef, 200, false); err != nil {
		return Flow{}, err
	}
	if f.AgreementSigned, err = date("agreement_signed", in.AgreementSigned); err != nil {
		return Flow{}, err
	}
	if f.AgreementExpires, err = date("agreement_expires", in.AgreementExpires); err != nil {
		return Flow{}, err
	}
	if f.AgreementRef == "" && (f.AgreementSigned != nil || f.AgreementExpires != nil) {
		return Flow{}, problem.Invalid("agreement_ref", "dates of an agreement need its reference").WithMsg("dataflow.error.agreement_ref")
	}
	if f.AgreementSigned != nil && f.AgreementExpires != nil && f.AgreementExpires.Before(*f.AgreementSigned) {
		return Flow{}, problem.Invalid("agreement_expires", "the agreement expires before it was signed").WithMsg("dataflow.error.agreement_dates")
	}
	if f.Deident = cmpOr(strings.TrimSpace(in.Deident), DeidentNone); !slices.Contains(Deidents, f.Deident) {
		return Flow{}, problem.OneOf("deidentification", Deidents...)
	}
	if f.DeidentNote, err = text("deidentification_note", in.DeidentNote, 2000, false); err != nil {
		return Flow{}, err
	}
	if f.Deident != DeidentNone && f.DeidentNote == "" {
		return Flow{}, problem.Invalid("deidentification_note", "say how the data is de-identified").WithMsg("dataflow.error.deident_note")
	}
	if f.Transfer = cmpOr(strings.TrimSpace(in.Transfer), TransferNone); !slices.Contains(Transfers, f.Transfer) {
		return Flow{}, problem.OneOf("transfer", Transfers...)
	}
	for _, x := range []struct {
		field string
		v     *string
		src   string
	}{{"frequency", &f.Frequency, in.Frequency}, {"volume", &f.Volume, in.Volume}, {"retention", &f.Retention, in.Retention}} {
		if *x.v, err = text(x.field, x.src, 200, false); err != nil {
			return Flow{}, err
		}
	}
	if f.Status = cmpOr(strings.TrimSpace(in.Status), StatusActive); f.Status != StatusActive && f.Status != StatusSuspended {
		return Flow{}, problem.OneOf("status", StatusActive, StatusSuspended)
	}
	f.SourceAssetIDs = []int64{}
	for _, id := range in.SourceAssetIDs {
		if !slices.Contains(f.SourceAssetIDs, id) {
			f.SourceAssetIDs = append(f.SourceAssetIDs, id)
		}
	}
	slices.Sort(f.SourceAssetIDs)
	if len(f.SourceAssetIDs) == 0 {
		return Flow{}, problem.Required("source_asset_ids")
	}
	return f, nil
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// checkOrg checks that the flow's organisation is a hospital or department a sees and
// that its source systems are assets of it (or of an organisation above or below it).
func checkOrg(ctx context.Context, tx *store.Tx, a actor.Actor, f Flow) error {
	o, err := org.Visible(ctx, tx, a, f.OrgID)
	if err != nil {
		return err
	}
	if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
		return problem.Invalid("org_id", "a data flow belongs to a hospital or a department").WithMsg("dataflow.error.org_kind")
	}
	cond, arg := a.SeesSQL("ao.path")
	args := []any{o.ID}
	for _, id := range f.SourceAssetIDs {
		args = append(args, id)
	}
	args = append(args, arg)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets s JOIN orgs ao ON ao.id = s.org_id JOIN orgs ro ON ro.id = ?
		WHERE s.id IN (`+store.Placeholders(len(f.SourceAssetIDs))+`) AND `+cond+` AND (`+
		actor.ContainsSQL("ro.path", "ao.path")+` OR `+actor.ContainsSQL("ao.path", "ro.path")+`)`, args...).Scan(&n); err != nil {
		return fmt.Errorf("dataflow: assets: %w", err)
	}
	if n != len(f.SourceAssetIDs) {
		return problem.Invalid("source_asset_ids", "names an asset that is not this hospital's").WithMsg("dataflow.error.asset")
	}
	return nil
}

// links writes the categories and sources of flow id.
func links(ctx context.Context, tx *store.Tx, id int64, f Flow) error {
	for _, q := range []string{`DELETE FROM dataflow_categories WHERE flow_id = ?`, `DELETE FROM dataflow_sources WHERE flow_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("dataflow: links: %w", err)
		}
	}
	for _, c := range f.Categories {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dataflow_categories (flow_id, category, level) VALUES (?, ?, ?)`, id, c.Category, c.Level); err != nil {
			return fmt.Errorf("dataflow: categories: %w", err)
		}
	}
	for _, aid := range f.SourceAssetIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dataflow_sources (flow_id, asset_id) VALUES (?, ?)`, id, aid); err != nil {
			return fmt.Errorf("dataflow: sources: %w", err)
		}
	}
	return nil
}

// create stores a checked flow in tx.
func (s *Service) create(ctx context.Context, tx *store.Tx, a actor.Actor, f Flow) (int64, error) {
	if err := checkOrg(ctx, tx, a, f); err != nil {
		return 0, err
	}
	now := s.now()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO dataflows (org_id, name, recipient_name, recipient_kind, level, purpose,
		legal_basis, agreement_ref, agreement_signed, agreement_expires, deident, deident_note, transfer, frequency, volume,
		retention, status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.OrgID, f.Name, f.RecipientName, f.RecipientKind, f.Level, f.Purpose, f.LegalBasis, f.AgreementRef, f.AgreementSigned,
		f.AgreementExpires, f.Deident, f.DeidentNote, f.Transfer, f.Frequency, f.Volume, f.Retention, f.Status, a.Username, now, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("dataflow: create: %w", err)
	}
	if err := links(ctx, tx, id, f); err != nil {
		return 0, err
	}
	f.ID = id
	f.Deficiencies = Evaluate(f, now)
	_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "dataflow.create", ObjectType: "dataflow", ObjectID: itoa(id), OrgID: f.OrgID,
		Summary: fmt.Sprintf("data flow %d %s to %s (%s, level %d) registered", id, f.Name, f.RecipientName, f.RecipientKind, f.Level),
		Msg:     trail.Msg("trail.summary.dataflow.create", id, f.Name, f.RecipientName, i18n.M("dataflow.kind."+f.RecipientKind), f.Level),
		After:   f.Input()})
	return id, err
}

// Create registers a flow and, when it is deficient, raises its risk.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Flow, error) {
	f, err := check(in)
	if err != nil {
		return Flow{}, err
	}
	var id int64
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err = s.create(ctx, tx, a, f)
		return err
	}); err != nil {
		return Flow{}, err
	}
	return s.saved(ctx, a, id, in.Lang)
}

// Update rewrites flow id from in; an ended flow is not edited (a new flow is registered
// instead). A deficient flow raises or updates its risk.
func (s *Service) Update(ctx context.Context, a actor.Actor, id int64, in Input) (Flow, error) {
	f, err := check(in)
	if err != nil {
		return Flow{}, err
	}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if before.Status == StatusEnded {
			return problem.Conflict("the data flow has ended").WithMsg("dataflow.error.ended")
		}
		if f.OrgID == 0 {
			f.OrgID = before.OrgID
		}
		if f.OrgID != before.OrgID {
			return problem.Invalid("org_id", "a data flow does not move to another organisation").WithMsg("dataflow.error.org_move")
		}
		if err := checkOrg(ctx, tx, a, f); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dataflows SET name = ?, recipient_name = ?, recipient_kind = ?, level = ?, purpose = ?,
			legal_basis = ?, agreement_ref = ?, agreement_signed = ?, agreement_expires = ?, deident = ?, deident_note = ?, transfer = ?,
			frequency = ?, volume = ?, retention = ?, status = ?, updated_at = ? WHERE id = ?`,
			f.Name, f.RecipientName, f.RecipientKind, f.Level, f.Purpose, f.LegalBasis, f.AgreementRef, f.AgreementSigned, f.AgreementExpires,
			f.Deident, f.DeidentNote, f.Transfer, f.Frequency, f.Volume, f.Retention, f.Status, s.now(), id); err != nil {
			return fmt.Errorf("dataflow: update %d: %w", id, err)
		}
		if err := links(ctx, tx, id, f); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "dataflow.update", ObjectType: "dataflow", ObjectID: itoa(id), OrgID: f.OrgID,
			Summary: fmt.Sprintf("data flow %d %s to %s updated", id, f.Name, f.RecipientName),
			Msg:     trail.Msg("trail.summary.dataflow.update", id, f.Name, f.RecipientName),
			Before:  before.Input(), After: f.Input()})
		return err
	}); err != nil {
		return Flow{}, err
	}
	return s.saved(ctx, a, id, in.Lang)
}

// End ends flow id, with the record of the data's destruction at the recipient when in
// gives one (By, At and Verification together). An ended flow without one may be given
// it later by End again; a flow whose destruction is recorded is closed for good.
func (s *Service) End(ctx context.Context, a actor.Actor, id int64, in EndInput) (Flow, error) {
	var d *Destruction
	by, err := text("destroyed_by", in.By, 200, false)
	if err != nil {
		return Flow{}, err
	}
	verif, err := text("verification", in.Verification, 2000, false)
	if err != nil {
		return Flow{}, err
	}
	at, err := date("destroyed_at", in.At)
	if err != nil {
		return Flow{}, err
	}
	if by != "" || verif != "" || at != nil {
		switch {
		case by == "":
			return Flow{}, problem.Required("destroyed_by")
		case at == nil:
			return Flow{}, problem.Required("destroyed_at")
		case verif == "":
			return Flow{}, problem.Required("verification")
		}
		if at.After(s.now()) {
			return Flow{}, problem.Invalid("destroyed_at", "is in the future").WithMsg("dataflow.error.future")
		}
		d = &Destruction{By: by, At: *at, Verification: verif}
	}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		f, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if f.Status == StatusEnded && (f.Destruction != nil || d == nil) {
			return problem.Conflict("the data flow has ended").WithMsg("dataflow.error.ended")
		}
		now := s.now()
		ended := now
		if f.EndedAt != nil {
			ended = *f.EndedAt
		}
		var dBy, dVer string
		var dAt *time.Time
		if d != nil {
			dBy, dAt, dVer = d.By, &d.At, d.Verification
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dataflows SET status = 'ended', ended_at = ?, destroyed_by = ?, destroyed_at = ?,
			destruction_verification = ?, updated_at = ? WHERE id = ?`, ended, dBy, dAt, dVer, now, id); err != nil {
			return fmt.Errorf("dataflow: end %d: %w", id, err)
		}
		ev := trail.Event{Action: "dataflow.end", ObjectType: "dataflow", ObjectID: itoa(id), OrgID: f.OrgID,
			Summary: fmt.Sprintf("data flow %d %s to %s ended without a destruction record", id, f.Name, f.RecipientName),
			Msg:     trail.Msg("trail.summary.dataflow.end", id, f.Name, f.RecipientName),
			Before:  map[string]any{"status": f.Status}, After: map[string]any{"status": StatusEnded}}
		if d != nil {
			ev.Action = "dataflow.destroyed"
			ev.Summary = fmt.Sprintf("data flow %d %s to %s ended, data destroyed on %s by %s (%s)", id, f.Name, f.RecipientName,
				d.At.Format(time.DateOnly), d.By, d.Verification)
			ev.Msg = trail.Msg("trail.summary.dataflow.destroyed", id, f.Name, f.RecipientName, d.At.Format(time.DateOnly), d.By)
			ev.After = map[string]any{"status": StatusEnded, "destruction": d}
		}
		_, err = s.trail.Append(ctx, tx, a, ev)
		return err
	}); err != nil {
		return Flow{}, err
	}
	return s.saved(ctx, a, id, in.Lang)
}

// saved reads flow id after a change and, when it is deficient, raises or updates its
// risk (in lang) and keeps what it was raised for (Sweep raises again only on a
// change). A flow no longer deficient leaves its risk to its owner, who closes it
// once the fix is confirmed.
func (s *Service) saved(ctx context.Context, a actor.Actor, id int64, lang string) (Flow, error) {
	f, err := s.Flow(ctx, a, id)
	if err != nil {
		return Flow{}, err
	}
	if f.Deficient() && s.opt.Risks != nil {
		if _, _, err := s.opt.Risks.FromSource(ctx, a, risk.SourceInput{Module: Module, ID: id, Lang: lang}); err != nil {
			return f, fmt.Errorf("dataflow: risk of flow %d: %w", id, err)
		}
	}
	if f.Deficient() && s.opt.Risks == nil {
		return f, nil // no risk raised: Sweep raises it once a register is set
	}
	return f, s.setRaised(ctx, s.db, id, strings.Join(f.Deficiencies, ","))
}
