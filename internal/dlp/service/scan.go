package dlpsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Scan is one recorded scan: what was scanned, by whom, how far it came and its totals.
type Scan struct {
	ID        int64      `json:"id"`
	OrgID     int64      `json:"org_id"`
	OrgName   string     `json:"org_name"`
	Kind      string     `json:"kind"`   // text, upload, job or check
	Source    string     `json:"source"` // file name, path or label
	Status    string     `json:"status"` // queued, running, done or failed
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at"`
	// FinishedAt is when the scan ended, done or failed.
	FinishedAt *time.Time `json:"finished_at"`
	// Bytes counts the bytes of text scanned.
	Bytes int64 `json:"bytes"`
	// Files counts the texts scanned (files and archive members).
	Files int `json:"files"`
	// FilesTotal and FilesDone are the progress of a job over files on disk.
	FilesTotal int `json:"files_total"`
	FilesDone  int `json:"files_done"`
	// Findings counts every finding, stored or not.
	Findings int `json:"findings"`
	// Problems counts what could not be scanned in full.
	Problems         int            `json:"problems"`
	HighestLevel     int            `json:"highest_level"`
	IdentifiesPerson bool           `json:"identifies_person"`
	CountsByType     map[string]int `json:"counts_by_type"`
	// Decision is the outcome of a policy check: allow, alert or block.
	Decision string `json:"decision"`
	// Error says why a failed scan failed.
	Error string `json:"error"`
}

// File is one scanned text of a scan, with its verdict, or a problem.
type File struct {
	ID       int64  `json:"id"`
	ScanID   int64  `json:"scan_id"`
	Path     string `json:"path"` // "a.zip!/b.docx" for a member
	Kind     string `json:"kind"`
	Encoding string `json:"encoding"`
	Size     int64  `json:"size"`
	// Findings counts every finding of the file, stored or not.
	Findings         int            `json:"findings"`
	HighestLevel     int            `json:"highest_level"`
	CountsByType     map[string]int `json:"counts_by_type"`
	IdentifiesPerson bool           `json:"identifies_person"`
	// Problem says why the file could not be scanned in full ("encrypted",
	// "unreadable: …").
	Problem string `json:"problem"`
}

// Finding is one stored finding. It never carries the raw value: Preview is masked.
type Finding struct {
	ID         int64   `json:"id"`
	ScanID     int64   `json:"scan_id"`
	FileID     int64   `json:"file_id"`
	Path       string  `json:"path"`
	Type       string  `json:"type"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Line       int     `json:"line"`
	Confidence float64 `json:"confidence"`
	Category   string  `json:"category"`
	Level      int     `json:"level"`
	Field      string  `json:"field"`
	Preview    string  `json:"preview"`
	// Revealable is true while the sealed raw value is kept.
	Revealable bool `json:"revealable"`
}

// Result is a finished scan with its files and first findings, as a synchronous scan
// answers.
type Result struct {
	Scan     Scan      `json:"scan"`
	Files    []File    `json:"files"`
	Findings []Finding `json:"findings"`
}

// CheckResult is the answer of a pre-send policy check.
type CheckResult struct {
	// Decision is allow, alert or block.
	Decision string `json:"decision"`
	// Reasons are stable keys: level_block, identifies_person, level_alert,
	// unreadable.
	Reasons []string `json:"reasons"`
	Policy  Policy   `json:"policy"`
	Result
}

// unitResult is the outcome of scanning one unit, or a problem.
type unitResult struct {
	path, kind, encoding string
	size                 int64
	findings             []dlp.Finding // stored ones (at most MaxStoredFindingsPerFile)
	fields               []string
	raws                 [][]byte
	total                int
	verdict              dlp.FileVerdict
	problem              string
	named                bool // the findings of the path are added (withName)
}

// scanUnit runs sc over u.
func scanUnit(sc *dlp.Scanner, u input.Unit) unitResult {
	fs := sc.Scan(u.Text)
	r := unitResult{path: u.Path, kind: u.Kind, encoding: u.Encoding, size: int64(len(u.Text)), total: len(fs), verdict: dlp.Verdict(fs)}
	if len(fs) > MaxStoredFindingsPerFile {
		fs = fs[:MaxStoredFindingsPerFile]
	}
	r.findings = fs
	r.fields = make([]string, len(fs))
	r.raws = make([][]byte, len(fs))
	for i, f := range fs {
		if f.Start >= 0 && f.End <= len(u.Text) && f.Start <= f.End {
			r.raws[i] = append([]byte(nil), u.Text[f.Start:f.End]...)
		}
		r.fields[i] = u.Field(f.Start)
	}
	return r
}

func problemResult(p input.Problem) unitResult {
	return unitResult{path: p.Path, problem: p.Reason}
}

// outcome collects the units of one scan.
type outcome struct {
	units   []unitResult
	reasons []string // of a pre-send check's decision
}

// totals fills the totals of sc from o.
func (o *outcome) totals(sc *Scan) {
	sc.CountsByType = map[string]int{}
	sc.Files, sc.Bytes, sc.Findings, sc.Problems, sc.HighestLevel, sc.IdentifiesPerson = 0, 0, 0, 0, 0, false
	for _, u := range o.units {
		sc.add(u)
	}
}

// add adds the unit u to the totals of sc.
func (sc *Scan) add(u unitResult) {
	if sc.CountsByType == nil {
		sc.CountsByType = map[string]int{}
	}
	if u.problem != "" {
		// A file that could not be read may still have findings in its name.
		sc.Problems++
	} else {
		sc.Files++
		sc.Bytes += u.size
	}
	sc.Findings += u.total
	sc.HighestLevel = max(sc.HighestLevel, u.verdict.HighestLevel)
	sc.IdentifiesPerson = sc.IdentifiesPerson || u.verdict.IdentifiesPerson
	for k, n := range u.verdict.CountsByType {
		sc.CountsByType[k] += n
	}
}

// findingRows is the number of findings per multi-row INSERT (13 parameters each).
const findingRows = 100

// storedRows counts the rows a scan has stored so far, against MaxStoredFiles and
// MaxStoredFindings; a job carries it from one batch to the next.
type storedRows struct {
	files, findings int
}

// store writes the files and findings of units for scan id inside tx, counting them in
// st.
func (s *Service) store(ctx context.Context, tx *store.Tx, id int64, units []unitResult, st *storedRows) error {
	sl, err := s.seal()
	if err != nil {
		return err
	}
	for _, u := range units {
		if st.files >= MaxStoredFiles && u.total == 0 && u.problem == "" {
			continue
		}
		counts := u.verdict.CountsByType
		if counts == nil {
			counts = map[string]int{}
		}
		cj, err := json.Marshal(counts)
		if err != nil {
			return fmt.Errorf("dlp: encode counts: %w", err)
		}
		var fileID int64
		err = tx.QueryRowContext(ctx, `INSERT INTO dlp_files (scan_id, path, kind, encoding, size, findings, highest_level, counts,
			identifies_person, problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, validText(u.path), u.kind, u.encoding,
			u.size, u.total, u.verdict.HighestLevel, string(cj), u.verdict.IdentifiesPerson, u.problem).Scan(&fileID)
		if err != nil {
			return fmt.Errorf("dlp: store file: %w", err)
		}
		st.files++
		fs := u.findings
		if room := MaxStoredFindings - st.findings; len(fs) > room {
			fs = fs[:max(room, 0)]
		}
		if err := insertFindings(ctx, tx, sl, id, fileID, fs, u.fields, u.raws); err != nil {
			return err
		}
		st.findings += len(fs)
	}
	return nil
}

// insertFindings stores the findings fs of file fileID of scan id, with their fields
// and raw values (sealed; nil stores no raw value) at the same indexes.
func insertFindings(ctx context.Context, tx *store.Tx, sl *sealer, id, fileID int64, fs []dlp.Finding, fields []string, raws [][]byte) error {
	for start := 0; start < len(fs); start += findingRows {
		end := min(start+findingRows, len(fs))
		var q strings.Builder
		q.WriteString(`INSERT INTO dlp_findings (scan_id, file_id, type, start_offset, end_offset, line, confidence, category,
			level, field, preview, sealed) VALUES `)
		args := make([]any, 0, (end-start)*12)
		for i := start; i < end; i++ {
			f := fs[i]
			if i > start {
				q.WriteString(", ")
			}
			q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			var sealed any
			if raws[i] != nil {
				b, err := sl.Seal(id, f.Type, raws[i])
				if err != nil {
					return err
				}
				sealed = b
			}
			args = append(args, id, fileID, f.Type, f.Start, f.End, f.Line, f.Confidence, f.Category, f.Level,
				validText(fields[i]), validText(f.Preview), sealed)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("dlp: store findings: %w", err)
		}
	}
	return nil
}

// validText makes s valid UTF-8 without NUL, which PostgreSQL text refuses.
func validText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// insertScan creates the scan row and returns its id.
func (s *Service) insertScan(ctx context.Context, tx *store.Tx, a actor.Actor, sc *Scan) error {
	sc.CreatedBy = a.Username
	if sc.CountsByType == nil {
		sc.CountsByType = map[string]int{}
	}
	cj, err := json.Marshal(sc.CountsByType)
	if err != nil {
		return fmt.Errorf("dlp: encode counts: %w", err)
	}
	var by any
	if a.UserID != 0 {
		by = a.UserID
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO dlp_scans (org_id, kind, source, status, created_by_id, created_by, created_at,
		started_at, finished_at, bytes, files, files_total, files_done, findings, problems, highest_level, identifies_person,
		counts, decision, error, names_masked, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?) RETURNING id`,
		sc.OrgID, sc.Kind, sc.Source, sc.Status, by, sc.CreatedBy, sc.CreatedAt, store.NullTime(sc.StartedAt), store.NullTime(sc.FinishedAt),
		sc.Bytes, sc.Files, sc.FilesTotal, sc.FilesDone, sc.Findings, sc.Problems, sc.HighestLevel, sc.IdentifiesPerson,
		string(cj), sc.Decision, sc.Error, s.ownerName()).Scan(&sc.ID)
	if err != nil {
		return fmt.Errorf("dlp: store scan: %w", err)
	}
	return nil
}

// errTakenOver is the error of a job whose record another process marked failed (see
// Recover): the job stops and writes nothing more.
var errTakenOver = errors.New("dlp: the job was taken over by another process")

// finishScan writes the totals and end state of job sc, unless another process took it
// over (errTakenOver).
func (s *Service) finishScan(ctx context.Context, tx *store.Tx, sc *Scan) error {
	cj, err := json.Marshal(sc.CountsByType)
	if err != nil {
		return fmt.Errorf("dlp: encode counts: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE dlp_scans SET status = ?, started_at = ?, finished_at = ?, bytes = ?, files = ?,
		files_total = ?, files_done = ?, findings = ?, problems = ?, highest_level = ?, identifies_person = ?, counts = ?,
		decision = ?, error = ? WHERE id = ? AND status IN (?, ?)`, sc.Status, store.NullTime(sc.StartedAt), store.NullTime(sc.FinishedAt), sc.Bytes, sc.Files,
		sc.FilesTotal, sc.FilesDone, sc.Findings, sc.Problems, sc.HighestLevel, sc.IdentifiesPerson, string(cj), sc.Decision,
		sc.Error, sc.ID, StatusQueued, StatusRunning)
	if err != nil {
		return fmt.Errorf("dlp: update scan %d: %w", sc.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("dlp: update scan %d: %w", sc.ID, err)
	} else if n == 0 {
		return errTakenOver
	}
	return nil
}

// nameScanner finds patient data in the names that go into the trail.
var nameScanner = sync.OnceValues(func() (*dlp.Scanner, error) { return dlp.NewScanner(dlp.Config{}) })

// trailName returns name (a file name, a path, an error message) with the
// patient data the built-in detectors find in it masked: a file named after a
// patient (张三_110105194912310021.docx) must not put the name or the ID
// into the trail, which is kept for years and cannot be edited. Stored names
// are masked already (see names.go); this masks what else reaches the trail.
func trailName(name string) string {
	s, err := nameScanner()
	if err != nil {
		return "(name withheld)"
	}
	masked, _ := maskName(s, name)
	return masked
}

// scanSummary is the trail summary of a finished scan: counts only, never a value.
func scanSummary(sc Scan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q: %d files, %d findings, highest level %d", sc.Kind, trailName(sc.Source), sc.Files, sc.Findings, sc.HighestLevel)
	if sc.IdentifiesPerson {
		b.WriteString(", identifies a person")
	}
	if sc.Problems > 0 {
		fmt.Fprintf(&b, ", %d problems", sc.Problems)
	}
	if sc.Decision != "" {
		b.WriteString(", decision " + sc.Decision)
	}
	return b.String()
}

// trailAfter is what the trail digests of a scan: its totals, never a value
// (the source name masked by trailName).
func trailAfter(sc Scan) any {
	return map[string]any{"id": sc.ID, "kind": sc.Kind, "source": trailName(sc.Source), "files": sc.Files, "findings": sc.Findings,
		"highest_level": sc.HighestLevel, "identifies_person": sc.IdentifiesPerson, "counts": maps.Clone(sc.CountsByType),
		"decision": sc.Decision}
}

// engineAt returns organisation orgID as a sees it, the policy in force there and a
// scanner with that policy's site identifiers.
func (s *Service) engineAt(ctx context.Context, a actor.Actor, orgID int64) (org.Node, PolicyView, *dlp.Scanner, error) {
	o, err := org.Visible(ctx, s.db, a, orgID)
	if err != nil {
		return org.Node{}, PolicyView{}, nil, err
	}
	pol, err := policyAt(ctx, s.db, o)
	if err != nil {
		return org.Node{}, PolicyView{}, nil, err
	}
	engine, err := s.scanner(pol.Custom)
	if err != nil {
		return org.Node{}, PolicyView{}, nil, err
	}
	return o, pol, engine, nil
}

// syncScan scans units produced by produce for organisation orgID and records the scan
// as done, with decide (when not nil) setting its decision; it returns the result with
// the first findings.
func (s *Service) syncScan(ctx context.Context, a actor.Actor, orgID int64, kind, source string,
	produce func(sc *dlp.Scanner, o *outcome) error, decide func(sc *Scan, o *outcome)) (Result, error) {
	o0, _, engine, err := s.engineAt(ctx, a, orgID)
	if err != nil {
		return Result{}, err
	}
	started := s.stamp()
	var o outcome
	if err := produce(engine, &o); err != nil {
		return Result{}, err
	}
	for i := range o.units {
		o.units[i].withName(engine)
	}
	source, _ = maskName(engine, source)
	finished := s.stamp()
	sc := Scan{OrgID: orgID, OrgName: o0.Name, Kind: kind, Source: source, Status: StatusDone, CreatedAt: started,
		StartedAt: &started, FinishedAt: &finished}
	o.totals(&sc)
	sc.FilesTotal, sc.FilesDone = 1, 1
	if decide != nil {
		decide(&sc, &o)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.insertScan(ctx, tx, a, &sc); err != nil {
			return err
		}
		if err := s.store(ctx, tx, sc.ID, o.units, &storedRows{}); err != nil {
			return err
		}
		if sc.Kind == KindCheck {
			if err := s.raiseCheck(ctx, tx, a, sc, o.reasons); err != nil {
				return err
			}
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "dlp.scan", ObjectType: "dlp_scan", ObjectID: idString(sc.ID),
			OrgID: orgID, Summary: scanSummary(sc), Msg: scanMsg(sc), After: trailAfter(sc)})
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return s.result(ctx, a, sc.ID)
}

// result loads scan id with its files and first findings.
func (s *Service) result(ctx context.Context, a actor.Actor, id int64) (Result, error) {
	sc, err := s.Scan(ctx, a, id)
	if err != nil {
		return Result{}, err
	}
	files, _, err := s.Files(ctx, a, id, 500, 0)
	if err != nil {
		return Result{}, err
	}
	fs, _, err := s.Findings(ctx, a, FindingQuery{ScanID: id, Limit: 500})
	if err != nil {
		return Result{}, err
	}
	return Result{Scan: sc, Files: files, Findings: fs}, nil
}

// ScanText scans a pasted text for organisation orgID and records the scan; name labels
// it ("" = "text").
func (s *Service) ScanText(ctx context.Context, a actor.Actor, orgID int64, name, text string) (Result, error) {
	if strings.TrimSpace(text) == "" {
		return Result{}, problem.Invalid("text", "is empty").WithCode("dlp_text_required")
	}
	if len(text) > MaxTextSize {
		return Result{}, problem.Invalid("text", "is larger than %d MiB", MaxTextSize>>20).WithCode("dlp_too_large")
	}
	name = cleanName(name, "text")
	b := []byte(strings.ToValidUTF8(text, "\uFFFD"))
	return s.syncScan(ctx, a, orgID, KindText, name, func(sc *dlp.Scanner, o *outcome) error {
		o.units = append(o.units, scanUnit(sc, input.Unit{Path: name, Kind: input.KindText, Text: b, Encoding: input.EncodingUTF8}))
		return nil
	}, nil)
}

// decodeInto decodes data named name (archives and office files through package input)
// and scans every unit into o.
func (s *Service) decodeInto(sc *dlp.Scanner, o *outcome, name string, data []byte) error {
	probs, err := input.Decode(name, data, s.opt.Limits, func(u input.Unit) error {
		o.units = append(o.units, scanUnit(sc, u))
		return nil
	})
	if err != nil {
		return fmt.Errorf("dlp: decode upload: %w", err)
	}
	for _, p := range probs {
		o.units = append(o.units, problemResult(p))
	}
	return nil
}

// ScanUpload scans an uploaded file named name (text, office document, PDF, archive …)
// for organisation orgID and records the scan.
func (s *Service) ScanUpload(ctx context.Context, a actor.Actor, orgID int64, name string, data []byte) (Result, error) {
	if len(data) == 0 {
		return Result{}, problem.Invalid("file", "the file is empty").WithCode("dlp_file_required")
	}
	name = uploadName(name)
	return s.syncScan(ctx, a, orgID, KindUpload, name, func(sc *dlp.Scanner, o *outcome) error {
		return s.decodeInto(sc, o, name, data)
	}, nil)
}

// Check runs the pre-send policy check of organisation orgID on an outgoing file named
// name: it scans the file like ScanUpload, decides allow, alert or block under the
// organisation's policy, and records the check with its decision.
func (s *Service) Check(ctx context.Context, a actor.Actor, orgID int64, name string, data []byte) (CheckResult, error) {
	if len(data) == 0 {
		return CheckResult{}, problem.Invalid("file", "the file is empty").WithCode("dlp_file_required")
	}
	o0, err := org.Visible(ctx, s.db, a, orgID)
	if err != nil {
		return CheckResult{}, err
	}
	pol, err := policyAt(ctx, s.db, o0)
	if err != nil {
		return CheckResult{}, err
	}
	name = uploadName(name)
	var reasons []string
	res, err := s.syncScan(ctx, a, orgID, KindCheck, name, func(sc *dlp.Scanner, o *outcome) error {
		return s.decodeInto(sc, o, name, data)
	}, func(sc *Scan, o *outcome) {
		sc.Decision, reasons = pol.Policy.Decide(sc.HighestLevel, sc.IdentifiesPerson, sc.Problems > 0)
		o.reasons = reasons
	})
	if err != nil {
		return CheckResult{}, err
	}
	return CheckResult{Decision: res.Scan.Decision, Reasons: reasons, Policy: pol.Policy, Result: res}, nil
}

// uploadName keeps the last element of a client's file name, or "upload".
func uploadName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	return cleanName(name, "upload")
}
