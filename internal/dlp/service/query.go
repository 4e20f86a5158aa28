package dlpsvc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
)

// ScanQuery filters and pages the scan history.
type ScanQuery struct {
	Kind     string // text, upload, job, check; "" = all
	Status   string // queued, running, done, failed; "" = all
	Decision string // allow, alert, block; "" = all
	Limit    int    // default 50, at most 500
	Offset   int
}

// Page is one page of a list and the total number of matching rows.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

const scanColumns = `s.id, s.org_id, o.name, s.kind, s.source, s.status, s.created_by, s.created_at, s.started_at,
	s.finished_at, s.bytes, s.files, s.files_total, s.files_done, s.findings, s.problems, s.highest_level,
	s.identifies_person, s.counts, s.decision, s.error`

type rowScanner interface{ Scan(dest ...any) error }

func scanScan(r rowScanner) (Scan, error) {
	var sc Scan
	var started, finished sql.NullTime
	var counts string
	if err := r.Scan(&sc.ID, &sc.OrgID, &sc.OrgName, &sc.Kind, &sc.Source, &sc.Status, &sc.CreatedBy, &sc.CreatedAt, &started,
		&finished, &sc.Bytes, &sc.Files, &sc.FilesTotal, &sc.FilesDone, &sc.Findings, &sc.Problems, &sc.HighestLevel,
		&sc.IdentifiesPerson, &counts, &sc.Decision, &sc.Error); err != nil {
		return sc, err
	}
	sc.CreatedAt = sc.CreatedAt.UTC()
	if started.Valid {
		t := started.Time.UTC()
		sc.StartedAt = &t
	}
	if finished.Valid {
		t := finished.Time.UTC()
		sc.FinishedAt = &t
	}
	sc.CountsByType = map[string]int{}
	if err := json.Unmarshal([]byte(counts), &sc.CountsByType); err != nil {
		return sc, fmt.Errorf("stored counts: %w", err)
	}
	return sc, nil
}

// Scan returns scan id if a sees its organisation.
func (s *Service) Scan(ctx context.Context, a actor.Actor, id int64) (Scan, error) {
	cond, arg := a.SeesSQL("o.path")
	sc, err := scanScan(s.db.QueryRowContext(ctx, `SELECT `+scanColumns+` FROM dlp_scans s JOIN orgs o ON o.id = s.org_id
		WHERE s.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, problem.NotFound("scan")
	}
	if err != nil {
		return Scan{}, fmt.Errorf("dlp: read scan %d: %w", id, err)
	}
	return sc, nil
}

// Scans returns the scans in a's scope, newest first.
func (s *Service) Scans(ctx context.Context, a actor.Actor, q ScanQuery) (Page[Scan], error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	if q.Offset < 0 {
		return Page[Scan]{}, problem.Invalid("offset", "must not be negative").WithMsg("error.msg.not_negative")
	}
	cond, arg := a.SeesSQL("o.path")
	where, args := ` WHERE `+cond, []any{arg}
	for _, f := range []struct {
		col, v string
		ok     []string
	}{
		{"s.kind", q.Kind, []string{KindText, KindUpload, KindJob, KindCheck}},
		{"s.status", q.Status, []string{StatusQueued, StatusRunning, StatusDone, StatusFailed}},
		{"s.decision", q.Decision, []string{DecisionAllow, DecisionAlert, DecisionBlock}},
	} {
		if f.v == "" {
			continue
		}
		valid := false
		for _, v := range f.ok {
			valid = valid || v == f.v
		}
		if !valid {
			name := f.col[2:]
			return Page[Scan]{}, problem.Invalid(name, "%s must be one of %v", name, f.ok).WithMsg("error.msg.one_of", strings.Join(f.ok, ", "))
		}
		where += ` AND ` + f.col + ` = ?`
		args = append(args, f.v)
	}
	out := Page[Scan]{Items: []Scan{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_scans s JOIN orgs o ON o.id = s.org_id`+where, args...).
		Scan(&out.Total); err != nil {
		return out, fmt.Errorf("dlp: count scans: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+scanColumns+` FROM dlp_scans s JOIN orgs o ON o.id = s.org_id`+where+
		` ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return out, fmt.Errorf("dlp: list scans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sc, err := scanScan(rows)
		if err != nil {
			return out, fmt.Errorf("dlp: list scans: %w", err)
		}
		out.Items = append(out.Items, sc)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("dlp: list scans: %w", err)
	}
	return out, nil
}

// Files returns a page of the files of scan id (problems first, then by level and path)
// and their total.
func (s *Service) Files(ctx context.Context, a actor.Actor, scanID int64, limit, offset int) ([]File, int, error) {
	if _, err := s.Scan(ctx, a, scanID); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if offset < 0 {
		return nil, 0, problem.Invalid("offset", "must not be negative").WithMsg("error.msg.not_negative")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_files WHERE scan_id = ?`, scanID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("dlp: count files: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, scan_id, path, kind, encoding, size, findings, highest_level, counts,
		identifies_person, problem FROM dlp_files WHERE scan_id = ?
		ORDER BY CASE WHEN problem = '' THEN 1 ELSE 0 END, highest_level DESC, findings DESC, path, id LIMIT ? OFFSET ?`,
		scanID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("dlp: list files: %w", err)
	}
	defer rows.Close()
	out := []File{}
	for rows.Next() {
		var f File
		var counts string
		if err := rows.Scan(&f.ID, &f.ScanID, &f.Path, &f.Kind, &f.Encoding, &f.Size, &f.Findings, &f.HighestLevel, &counts,
			&f.IdentifiesPerson, &f.Problem); err != nil {
			return nil, 0, fmt.Errorf("dlp: list files: %w", err)
		}
		f.CountsByType = map[string]int{}
		if err := json.Unmarshal([]byte(counts), &f.CountsByType); err != nil {
			return nil, 0, fmt.Errorf("dlp: stored file counts: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("dlp: list files: %w", err)
	}
	return out, total, nil
}

// FindingQuery selects the findings of a scan.
type FindingQuery struct {
	ScanID int64
	FileID int64  // 0 = every file
	Type   string // "" = every type
	Limit  int    // default 100, at most 1000
	Offset int
}

const findingColumns = `f.id, f.scan_id, f.file_id, fi.path, f.type, f.start_offset, f.end_offset, f.line, f.confidence,
	f.category, f.level, f.field, f.preview, f.sealed IS NOT NULL`

func scanFinding(r rowScanner) (Finding, error) {
	var f Finding
	err := r.Scan(&f.ID, &f.ScanID, &f.FileID, &f.Path, &f.Type, &f.Start, &f.End, &f.Line, &f.Confidence, &f.Category,
		&f.Level, &f.Field, &f.Preview, &f.Revealable)
	return f, err
}

// Findings returns a page of the stored findings of a scan, in file and offset order,
// and their total.
func (s *Service) Findings(ctx context.Context, a actor.Actor, q FindingQuery) ([]Finding, int, error) {
	if _, err := s.Scan(ctx, a, q.ScanID); err != nil {
		return nil, 0, err
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	if q.Offset < 0 {
		return nil, 0, problem.Invalid("offset", "must not be negative").WithMsg("error.msg.not_negative")
	}
	where, args := ` WHERE f.scan_id = ?`, []any{q.ScanID}
	if q.FileID != 0 {
		where += ` AND f.file_id = ?`
		args = append(args, q.FileID)
	}
	if q.Type != "" {
		where += ` AND f.type = ?`
		args = append(args, q.Type)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_findings f`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("dlp: count findings: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+findingColumns+` FROM dlp_findings f JOIN dlp_files fi ON fi.id = f.file_id`+
		where+` ORDER BY f.level DESC, f.file_id, f.start_offset, f.id LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("dlp: list findings: %w", err)
	}
	defer rows.Close()
	out := []Finding{}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("dlp: list findings: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("dlp: list findings: %w", err)
	}
	return out, total, nil
}

// Count is one bar or slice of a summary.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// Summary is what the overview charts show for a period.
type Summary struct {
	Since time.Time `json:"since"`
	// Scans counts the scans of every kind.
	Scans  int     `json:"scans"`
	ByKind []Count `json:"by_kind"`
	// ByType counts every finding, stored or not (most first).
	ByType []Count `json:"by_type"`
	// ByLevel counts the stored findings per level "1"–"5" (see MaxStoredFindings).
	ByLevel []Count `json:"by_level"`
	// Decisions counts the policy checks by decision.
	Decisions []Count `json:"decisions"`
	// IdentifyingFiles counts the files that identify a person.
	IdentifyingFiles int `json:"identifying_files"`
}

// Summary counts the scans in a's scope created since since: scans by kind, findings by
// type and by level, checks by decision.
func (s *Service) Summary(ctx context.Context, a actor.Actor, since time.Time) (Summary, error) {
	out := Summary{Since: since.UTC(), ByKind: []Count{}, ByType: []Count{}, ByLevel: []Count{}, Decisions: []Count{}}
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT s.kind, s.decision, s.counts FROM dlp_scans s JOIN orgs o ON o.id = s.org_id
		WHERE `+cond+` AND s.created_at >= ?`, arg, since.UTC())
	if err != nil {
		return out, fmt.Errorf("dlp: summary: %w", err)
	}
	kinds, types, decisions := map[string]int{}, map[string]int{}, map[string]int{}
	for rows.Next() {
		var kind, decision, counts string
		if err := rows.Scan(&kind, &decision, &counts); err != nil {
			rows.Close()
			return out, fmt.Errorf("dlp: summary: %w", err)
		}
		out.Scans++
		kinds[kind]++
		if decision != "" {
			decisions[decision]++
		}
		m := map[string]int{}
		if err := json.Unmarshal([]byte(counts), &m); err != nil {
			rows.Close()
			return out, fmt.Errorf("dlp: summary: stored counts: %w", err)
		}
		for k, n := range m {
			types[k] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("dlp: summary: %w", err)
	}
	// Levels come from the stored findings, which carry the level of site identifiers
	// too.
	lrows, err := s.db.QueryContext(ctx, `SELECT f.level, COUNT(*) FROM dlp_findings f JOIN dlp_scans s ON s.id = f.scan_id
		JOIN orgs o ON o.id = s.org_id WHERE `+cond+` AND s.created_at >= ? GROUP BY f.level`, arg, since.UTC())
	if err != nil {
		return out, fmt.Errorf("dlp: summary by level: %w", err)
	}
	levels := map[string]int{}
	for lrows.Next() {
		var lvl, n int
		if err := lrows.Scan(&lvl, &n); err != nil {
			lrows.Close()
			return out, fmt.Errorf("dlp: summary by level: %w", err)
		}
		levels[strconv.Itoa(lvl)] += n
	}
	lrows.Close()
	if err := lrows.Err(); err != nil {
		return out, fmt.Errorf("dlp: summary by level: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_files f JOIN dlp_scans s ON s.id = f.scan_id
		JOIN orgs o ON o.id = s.org_id WHERE `+cond+` AND s.created_at >= ? AND f.identifies_person`, arg, since.UTC()).
		Scan(&out.IdentifyingFiles); err != nil {
		return out, fmt.Errorf("dlp: summary: %w", err)
	}
	for _, k := range []string{KindText, KindUpload, KindJob, KindCheck} {
		out.ByKind = append(out.ByKind, Count{Key: k, N: kinds[k]})
	}
	for _, k := range []string{DecisionAllow, DecisionAlert, DecisionBlock} {
		out.Decisions = append(out.Decisions, Count{Key: k, N: decisions[k]})
	}
	for l := 1; l <= 5; l++ {
		k := strconv.Itoa(l)
		out.ByLevel = append(out.ByLevel, Count{Key: k, N: levels[k]})
	}
	for k, n := range types {
		out.ByType = append(out.ByType, Count{Key: k, N: n})
	}
	sort.Slice(out.ByType, func(i, j int) bool {
		if out.ByType[i].N != out.ByType[j].N {
			return out.ByType[i].N > out.ByType[j].N
		}
		return out.ByType[i].Key < out.ByType[j].Key
	})
	return out, nil
}
