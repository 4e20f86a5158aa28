package dlpsvc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Revealed is the raw value of one finding, answered only by Reveal.
type Revealed struct {
	FindingID int64  `json:"finding_id"`
	ScanID    int64  `json:"scan_id"`
	Type      string `json:"type"`
	Path      string `json:"path"`
	Value     string `json:"value"`
}

// errRevealDenied is the problem of a reveal by a role that may not reveal.
var errRevealDenied = problem.Forbidden("your role may not reveal raw values").WithCode("permission_denied")

// Finding returns stored finding id if a sees its scan.
func (s *Service) Finding(ctx context.Context, a actor.Actor, id int64) (Finding, error) {
	cond, arg := a.SeesSQL("o.path")
	f, err := scanFinding(s.db.QueryRowContext(ctx, `SELECT `+findingColumns+` FROM dlp_findings f
		JOIN dlp_files fi ON fi.id = f.file_id JOIN dlp_scans s ON s.id = f.scan_id JOIN orgs o ON o.id = s.org_id
		WHERE f.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Finding{}, problem.NotFound("finding")
	}
	if err != nil {
		return Finding{}, fmt.Errorf("dlp: read finding %d: %w", id, err)
	}
	return f, nil
}

// MaxRevealReason bounds the reason given for a reveal, in characters.
const MaxRevealReason = 500

// revealReason checks the reason given for a reveal and returns it trimmed.
func revealReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", problem.Invalid("reason", "a reason for revealing the raw value is required").WithCode("dlp_reveal_reason_required")
	case utf8.RuneCountInString(reason) > MaxRevealReason:
		return "", problem.Invalid("reason", "the reason is longer than %d characters", MaxRevealReason).WithCode("dlp_reveal_reason_too_long")
	case !utf8.ValidString(reason):
		return "", problem.Invalid("reason", "the reason is not valid UTF-8").WithMsg("dlp.error.msg.reason_not_utf8")
	}
	return reason, nil
}

// Reveal opens the sealed raw value of finding id for a, who must see the finding's
// organisation, hold the reveal permission (Options.MayReveal) and give a reason (at
// most MaxRevealReason characters). Every reveal is appended to the trail (who, why,
// scan, finding, type — never the value) in the same transaction that reads the value,
// so no value is shown without its trail entry.
func (s *Service) Reveal(ctx context.Context, a actor.Actor, id int64, reason string) (Revealed, error) {
	if s.opt.MayReveal == nil || !s.opt.MayReveal(a.Role) {
		return Revealed{}, errRevealDenied
	}
	var out Revealed
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		cond, arg := a.SeesSQL("o.path")
		var sealed []byte
		var orgID int64
		err := tx.QueryRowContext(ctx, `SELECT f.id, f.scan_id, f.type, fi.path, f.sealed, s.org_id FROM dlp_findings f
			JOIN dlp_files fi ON fi.id = f.file_id JOIN dlp_scans s ON s.id = f.scan_id JOIN orgs o ON o.id = s.org_id
			WHERE f.id = ? AND `+cond, id, arg).Scan(&out.FindingID, &out.ScanID, &out.Type, &out.Path, &sealed, &orgID)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("finding")
		}
		if err != nil {
			return fmt.Errorf("dlp: read finding %d: %w", id, err)
		}
		// The reason is checked once the finding is known to be a's: another
		// organisation's finding is not found, with or without a reason.
		if reason, err = revealReason(reason); err != nil {
			return err
		}
		if sealed == nil {
			return problem.Conflict("the raw value of this finding is no longer kept").WithCode("dlp_raw_purged")
		}
		sl, err := s.seal()
		if err != nil {
			return err
		}
		v, err := sl.Open(out.ScanID, out.Type, sealed)
		if err != nil {
			return err
		}
		out.Value = string(v)
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "dlp.reveal", ObjectType: "dlp_finding", ObjectID: idString(id),
			OrgID: orgID, Summary: fmt.Sprintf("revealed a %s of scan %d; reason: %s", out.Type, out.ScanID, reason),
			Msg:   trail.Msg("trail.summary.dlp.reveal", typeWord(out.Type), out.ScanID, reason),
			After: map[string]any{"scan_id": out.ScanID, "finding_id": id, "type": out.Type, "reason": reason}})
		return err
	})
	if err != nil {
		return Revealed{}, err
	}
	return out, nil
}

// PurgeExpired drops the sealed raw values of scans created longer ago than the
// retention (Options.RawRetention); it returns how many it dropped. Masked findings stay.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	if s.opt.RawRetention <= 0 {
		return 0, nil
	}
	cutoff := s.now().Add(-s.opt.RawRetention).UTC()
	res, err := s.db.ExecContext(ctx, `UPDATE dlp_findings SET sealed = NULL WHERE sealed IS NOT NULL AND scan_id IN
		(SELECT id FROM dlp_scans WHERE created_at < ?)`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("dlp: purge raw values: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
