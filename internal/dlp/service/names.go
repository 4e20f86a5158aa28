package dlpsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Patient data in names. A file named after a patient (张三_110105194912310021.docx), a
// text labelled with a patient's ID or a job over a folder named after one carries the
// patient's identifiers in its name. Names and paths therefore go through the same
// detection as contents: what the organisation's detectors find in them is stored and
// shown masked (the scan's source, every file's path), and each finding in a file's
// path is a finding of that file, with field FieldPath, its raw value sealed like any
// other and opened only by Reveal. The scan's source is the first part of its files'
// paths (the name of a text or upload, the root of a job), so its raw values are
// revealed through the findings of its files.

// FieldPath is the field of a finding in the name or path of a file rather than in its
// contents; its offsets are byte offsets into the unmasked path.
const FieldPath = "(path)"

// maskName returns name with every finding of sc in it replaced by its masked
// preview, and the findings.
func maskName(sc *dlp.Scanner, name string) (string, []dlp.Finding) {
	fs := sc.Scan([]byte(name))
	if len(fs) == 0 {
		return name, nil
	}
	var b strings.Builder
	last := 0
	kept := fs[:0]
	for _, f := range fs {
		if f.Start < last || f.End > len(name) || f.Start > f.End {
			continue // overlaps the previous finding: already masked
		}
		f.Line = 0 // not a line of the contents
		b.WriteString(name[last:f.Start])
		b.WriteString(f.Preview)
		last = f.End
		kept = append(kept, f)
	}
	b.WriteString(name[last:])
	return b.String(), kept
}

// withName masks u's path and adds the findings in it to u's, ahead of those of the
// contents: they count as findings of the file and take part in its verdict (an ID in
// the name and a diagnosis in the text identify a person). It does nothing the second
// time.
func (u *unitResult) withName(sc *dlp.Scanner) {
	if u.named {
		return
	}
	u.named = true
	masked, pf := maskName(sc, u.path)
	if len(pf) == 0 {
		return
	}
	raw := u.path
	u.path = masked
	all := make([]dlp.Finding, 0, len(pf)+len(u.findings))
	all = append(append(all, pf...), u.findings...)
	fields := make([]string, 0, len(all))
	raws := make([][]byte, 0, len(all))
	for _, f := range pf {
		fields = append(fields, FieldPath)
		raws = append(raws, []byte(raw[f.Start:f.End]))
	}
	fields, raws = append(fields, u.fields...), append(raws, u.raws...)
	// The verdict of the contents may count more findings than are kept; the
	// findings of the name are added to it.
	v := dlp.Verdict(all)
	counts := maps.Clone(u.verdict.CountsByType)
	if counts == nil {
		counts = map[string]int{}
	}
	for k, n := range dlp.Verdict(pf).CountsByType {
		counts[k] += n
	}
	u.verdict = dlp.FileVerdict{CountsByType: counts, HighestLevel: max(u.verdict.HighestLevel, v.HighestLevel),
		IdentifiesPerson: u.verdict.IdentifiesPerson || v.IdentifiesPerson}
	u.total += len(pf)
	if len(all) > MaxStoredFindingsPerFile {
		all, fields, raws = all[:MaxStoredFindingsPerFile], fields[:MaxStoredFindingsPerFile], raws[:MaxStoredFindingsPerFile]
	}
	u.findings, u.fields, u.raws = all, fields, raws
}

// MaskStoredNames masks the names of the scans stored before names were masked (see
// migration 0013): each scan's source and its files' paths are masked with the
// detectors of its organisation, and what they find in a path is stored as findings of
// the file, sealed (unless the scan is older than the raw-value retention) and counted
// in the file's and the scan's totals. Each scan is converted in its own transaction,
// with a trail entry; it returns how many scans it converted. It is safe to run again
// and from several nodes at once.
func (s *Service) MaskStoredNames(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM dlp_scans WHERE NOT names_masked ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("dlp: scans to mask: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("dlp: scans to mask: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("dlp: scans to mask: %w", err)
	}
	n := 0
	for _, id := range ids {
		done, err := s.maskScanNames(ctx, id)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// UnmaskedScans returns how many scans MaskStoredNames has yet to convert.
func (s *Service) UnmaskedScans(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_scans WHERE NOT names_masked`).Scan(&n); err != nil {
		return 0, fmt.Errorf("dlp: scans to mask: %w", err)
	}
	return n, nil
}

// maskScanNames converts scan id (see MaskStoredNames); done is false when another
// process converted it first.
func (s *Service) maskScanNames(ctx context.Context, id int64) (done bool, err error) {
	sl, err := s.seal()
	if err != nil {
		return false, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE dlp_scans SET names_masked = TRUE WHERE id = ? AND NOT names_masked`, id)
		if err != nil {
			return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil
		}
		done = true
		var sc Scan
		var counts string
		if err := tx.QueryRowContext(ctx, `SELECT org_id, kind, source, created_at, findings, highest_level, identifies_person, counts
			FROM dlp_scans WHERE id = ?`, id).Scan(&sc.OrgID, &sc.Kind, &sc.Source, &sc.CreatedAt, &sc.Findings, &sc.HighestLevel,
			&sc.IdentifiesPerson, &counts); err != nil {
			return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
		}
		if err := json.Unmarshal([]byte(counts), &sc.CountsByType); err != nil || sc.CountsByType == nil {
			sc.CountsByType = map[string]int{}
		}
		o, err := org.Visible(ctx, tx, actor.System(), sc.OrgID)
		if err != nil {
			return err
		}
		pol, err := policyAt(ctx, tx, o)
		if err != nil {
			return err
		}
		engine, err := s.scanner(pol.Custom)
		if err != nil {
			return err
		}
		keep := s.opt.RawRetention <= 0 || !sc.CreatedAt.Before(s.now().Add(-s.opt.RawRetention))
		type file struct {
			id                int64
			path, counts      string
			findings, highest int
			identifies        bool
		}
		var files []file
		frows, err := tx.QueryContext(ctx, `SELECT id, path, counts, findings, highest_level, identifies_person FROM dlp_files
			WHERE scan_id = ? ORDER BY id`, id)
		if err != nil {
			return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
		}
		for frows.Next() {
			var f file
			if err := frows.Scan(&f.id, &f.path, &f.counts, &f.findings, &f.highest, &f.identifies); err != nil {
				frows.Close()
				return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
			}
			files = append(files, f)
		}
		frows.Close()
		if err := frows.Err(); err != nil {
			return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
		}
		added := 0
		for _, f := range files {
			masked, pf := maskName(engine, f.path)
			if len(pf) == 0 {
				continue
			}
			u := unitResult{findings: pf}
			for _, x := range pf {
				u.fields = append(u.fields, FieldPath)
				var raw []byte
				if keep {
					raw = []byte(f.path[x.Start:x.End])
				}
				u.raws = append(u.raws, raw)
			}
			if err := insertFindings(ctx, tx, sl, id, f.id, u.findings, u.fields, u.raws); err != nil {
				return err
			}
			fc := map[string]int{}
			if err := json.Unmarshal([]byte(f.counts), &fc); err != nil || fc == nil {
				fc = map[string]int{}
			}
			v := dlp.Verdict(pf)
			for k, n := range v.CountsByType {
				fc[k] += n
				sc.CountsByType[k] += n
			}
			cj, err := json.Marshal(fc)
			if err != nil {
				return fmt.Errorf("dlp: encode counts: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE dlp_files SET path = ?, findings = ?, counts = ?, highest_level = ? WHERE id = ?`,
				validText(masked), f.findings+len(pf), string(cj), max(f.highest, v.HighestLevel), f.id); err != nil {
				return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
			}
			added += len(pf)
			sc.HighestLevel = max(sc.HighestLevel, v.HighestLevel)
		}
		source, sf := maskName(engine, sc.Source)
		if added == 0 && len(sf) == 0 {
			return nil
		}
		cj, err := json.Marshal(sc.CountsByType)
		if err != nil {
			return fmt.Errorf("dlp: encode counts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dlp_scans SET source = ?, findings = ?, counts = ?, highest_level = ? WHERE id = ?`,
			validText(source), sc.Findings+added, string(cj), sc.HighestLevel, id); err != nil {
			return fmt.Errorf("dlp: mask names of scan %d: %w", id, err)
		}
		_, err = s.trail.Append(ctx, tx, actor.System(), trail.Event{Action: "dlp.names_masked", ObjectType: "dlp_scan",
			ObjectID: idString(id), OrgID: sc.OrgID,
			Summary: fmt.Sprintf("masked the names of %s %q: %d findings in file paths", sc.Kind, trailName(source), added),
			Msg:     trail.Msg("trail.summary.dlp.names_masked", kindWord(sc.Kind), trailName(source), added),
			After:   map[string]any{"id": id, "source": trailName(source), "path_findings": added}})
		return err
	})
	return done, err
}
