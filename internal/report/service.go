package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The formats a report is rendered to.
const (
	FormatPDF  = "pdf"
	FormatHTML = "html"
)

// Formats lists the formats.
var Formats = []string{FormatPDF, FormatHTML}

// Raiser raises the alert that announces a report; package alert implements it, and its
// notifications go to the organisation's routes, subscribers and users' inboxes.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// Options configure a Service.
type Options struct {
	Now     func() time.Time // the clock; tests move it
	BaseURL string           // external URL of the platform, for the link in a notification
}

// Service stores report templates, schedules and reports, and makes reports from a
// Source.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	alerts Raiser
	src    Source
	cat    *i18n.Catalog
	opt    Options
}

// New returns the report service on db, building documents from src, trailing changes
// in tl and announcing reports through alerts (nil: none).
func New(db *store.DB, tl *trail.Log, alerts Raiser, src Source, opt Options) (*Service, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, trail: tl, alerts: alerts, src: src, cat: cat, opt: opt}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Report is a stored report; its files are read with File.
type Report struct {
	ID          int64      `json:"id"`
	OrgID       int64      `json:"org_id"`
	OrgName     string     `json:"hospital"`
	TemplateID  int64      `json:"template_id,omitempty"`
	Period      string     `json:"period"`
	Kind        string     `json:"kind"`
	Lang        string     `json:"lang"`
	Title       string     `json:"title"`
	Sections    []string   `json:"sections"`
	Empty       bool       `json:"empty"`
	GeneratedAt time.Time  `json:"generated_at"`
	GeneratedBy string     `json:"generated_by"`
	Scheduled   bool       `json:"scheduled"`
	Files       []FileInfo `json:"files"`
	Doc         *Document  `json:"-"`
}

// FileInfo describes one rendered file of a report.
type FileInfo struct {
	Format string `json:"format"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// GenerateInput says what report to make: from a template (its sections, language and
// formats), or from the sections, language and formats given.
type GenerateInput struct {
	OrgID      int64    `json:"org_id"`
	TemplateID int64    `json:"template_id"`
	Sections   []string `json:"sections"`
	Period     string   `json:"period"`
	Lang       string   `json:"lang"`
	Formats    []string `json:"formats"`
}

// Generate makes, as a, the report in: it checks a sees the organisation, builds the
// document from the Source, renders each format and stores the report with its files.
func (s *Service) Generate(ctx context.Context, a actor.Actor, in GenerateInput) (Report, error) {
	p, err := ParsePeriod(in.Period)
	if err != nil {
		return Report{}, problem.Invalid("period", "want YYYY-MM or YYYY-Www").WithMsg("report.error.period")
	}
	if in.TemplateID != 0 {
		t, err := s.Template(ctx, a, in.TemplateID)
		if err != nil {
			return Report{}, err
		}
		if in.OrgID == 0 {
			in.OrgID = t.OrgID
		}
		in.Sections, in.Formats = t.Sections, t.Formats
		if in.Lang == "" {
			in.Lang = t.Lang
		}
	}
	return s.generate(ctx, a, in, p, a.Username, "")
}

func (s *Service) checkInput(in *GenerateInput) error {
	if len(in.Sections) == 0 {
		in.Sections = s.src.Sections()
	}
	for _, k := range in.Sections {
		if !slices.Contains(s.src.Sections(), k) {
			return problem.OneOf("sections", s.src.Sections()...)
		}
	}
	if len(in.Formats) == 0 {
		in.Formats = Formats
	}
	for _, f := range in.Formats {
		if !slices.Contains(Formats, f) {
			return problem.OneOf("formats", Formats...)
		}
	}
	in.Lang = i18n.Normalize(in.Lang)
	return nil
}

// generate builds and renders the report outside a transaction, then stores it (with
// scheduleKey, unique, when the schedule made it: a second store of the same key is
// reported as errDuplicate).
func (s *Service) generate(ctx context.Context, a actor.Actor, in GenerateInput, p Period, by, scheduleKey string) (Report, error) {
	if err := s.checkInput(&in); err != nil {
		return Report{}, err
	}
	node, err := org.Visible(ctx, s.db, a, in.OrgID)
	if err != nil {
		return Report{}, err
	}
	doc, err := s.src.Build(ctx, a, node.ID, p, in.Sections, in.Lang)
	if err != nil {
		return Report{}, err
	}
	doc.Lang, doc.Period = in.Lang, p
	if doc.Org == "" {
		doc.Org = node.Name
	}
	if doc.Title == "" {
		doc.Title = s.cat.T(in.Lang, "report.title."+p.Kind)
	}
	if doc.GeneratedAt.IsZero() {
		doc.GeneratedAt = s.now()
	}
	files := map[string][]byte{}
	for _, f := range in.Formats {
		var buf bytes.Buffer
		if f == FormatPDF {
			err = WritePDF(&buf, doc, s.cat)
		} else {
			err = WriteHTML(&buf, doc, s.cat)
		}
		if err != nil {
			return Report{}, err
		}
		files[f] = buf.Bytes()
	}
	secs, _ := json.Marshal(in.Sections)
	r := Report{OrgID: node.ID, OrgName: node.Name, TemplateID: in.TemplateID, Period: p.String(), Kind: p.Kind, Lang: in.Lang,
		Title: doc.Title, Sections: in.Sections, Empty: doc.Empty(), GeneratedAt: s.now(), GeneratedBy: by, Scheduled: scheduleKey != "", Doc: &doc}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var key, tmpl any
		if scheduleKey != "" {
			key = scheduleKey
		}
		if in.TemplateID != 0 {
			tmpl = in.TemplateID
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO reports (org_id, template_id, period, kind, lang, title, sections, empty, generated_at,
			generated_by, schedule_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (schedule_key) DO NOTHING RETURNING id`,
			r.OrgID, tmpl, r.Period, r.Kind, r.Lang, r.Title, string(secs), r.Empty, r.GeneratedAt, by, key).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errDuplicate
		}
		if err != nil {
			return fmt.Errorf("report: store: %w", err)
		}
		r.ID = id
		for _, f := range in.Formats {
			sum := sha256.Sum256(files[f])
			fi := FileInfo{Format: f, Size: int64(len(files[f])), SHA256: hex.EncodeToString(sum[:])}
			if _, err := tx.ExecContext(ctx, `INSERT INTO report_files (report_id, format, content, size, sha256) VALUES (?, ?, ?, ?, ?)`,
				id, f, files[f], fi.Size, fi.SHA256); err != nil {
				return fmt.Errorf("report: store: %w", err)
			}
			r.Files = append(r.Files, fi)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "report.generate", ObjectType: "report", ObjectID: fmt.Sprint(id), OrgID: r.OrgID,
			Summary: fmt.Sprintf("generated report %d (%s %s)", id, r.Kind, r.Period),
			Msg:     &i18n.Message{Key: "trail.summary.report.generate", Args: []any{id, r.Period}}})
		if err != nil {
			return err
		}
		if scheduleKey != "" {
			return s.announce(ctx, tx, r)
		}
		return nil
	})
	return r, err
}

// errDuplicate is a scheduled report already stored for its template and period.
var errDuplicate = errors.New("report: already generated for this period")

// announce raises the "report ready" alert of r, which notify sends to the
// organisation's routes and users' inboxes, with a link to the stored report.
func (s *Service) announce(ctx context.Context, tx *store.Tx, r Report) error {
	if s.alerts == nil {
		return nil
	}
	link := strings.TrimRight(s.opt.BaseURL, "/") + fmt.Sprintf("/reports/%d", r.ID)
	key := "report.ready"
	if r.Empty {
		key = "report.ready_empty"
	}
	_, _, err := s.alerts.Raise(ctx, tx, alert.Input{OrgID: r.OrgID, Source: "report", Kind: "report.ready", Severity: alert.SeverityInfo,
		Title: i18n.M("report.alert."+key[len("report."):], r.Title, r.Period), Subject: fmt.Sprintf("report %d", r.ID),
		Evidence: map[string]any{"report_id": r.ID, "period": r.Period, "link": link, "empty": r.Empty, "formats": r.Files},
		DedupKey: fmt.Sprintf("report.ready:%d", r.ID), At: r.GeneratedAt})
	if err != nil {
		return fmt.Errorf("report: announce: %w", err)
	}
	return nil
}

const reportColumns = `r.id, r.org_id, o.name, COALESCE(r.template_id, 0), r.period, r.kind, r.lang, r.title, r.sections, r.empty,
	r.generated_at, r.generated_by, r.schedule_key IS NOT NULL`

func scanReport(sc store.Scanner) (Report, error) {
	var r Report
	var secs string
	var at store.Time
	err := sc.Scan(&r.ID, &r.OrgID, &r.OrgName, &r.TemplateID, &r.Period, &r.Kind, &r.Lang, &r.Title, &secs, &r.Empty, &at, &r.GeneratedBy, &r.Scheduled)
	if err != nil {
		return r, err
	}
	r.GeneratedAt = at.Time
	err = json.Unmarshal([]byte(secs), &r.Sections)
	return r, err
}

// Reports lists the reports a sees, newest first (at most limit; 0: 100).
func (s *Service) Reports(ctx context.Context, a actor.Actor, limit int) ([]Report, error) {
	if limit <= 0 {
		limit = 100
	}
	cond, arg := a.SeesSQL("o.path")
	rs, err := store.Collect(ctx, s.db, scanReport, `SELECT `+reportColumns+` FROM reports r JOIN orgs o ON o.id = r.org_id
		WHERE `+cond+` ORDER BY r.generated_at DESC, r.id DESC LIMIT ?`, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("report: list: %w", err)
	}
	for i := range rs {
		if rs[i].Files, err = s.files(ctx, rs[i].ID); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// files describes the files of report id.
func (s *Service) files(ctx context.Context, id int64) ([]FileInfo, error) {
	fs, err := store.Collect(ctx, s.db, func(sc store.Scanner) (FileInfo, error) {
		var f FileInfo
		return f, sc.Scan(&f.Format, &f.Size, &f.SHA256)
	}, `SELECT format, size, sha256 FROM report_files WHERE report_id = ? ORDER BY format`, id)
	if err != nil {
		return nil, fmt.Errorf("report: files of %d: %w", id, err)
	}
	return fs, nil
}

// Report returns report id with its files' descriptions, if a sees it.
func (s *Service) Report(ctx context.Context, a actor.Actor, id int64) (Report, error) {
	cond, arg := a.SeesSQL("o.path")
	r, err := scanReport(s.db.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports r JOIN orgs o ON o.id = r.org_id
		WHERE r.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, problem.NotFound("report")
	}
	if err != nil {
		return Report{}, fmt.Errorf("report: get %d: %w", id, err)
	}
	if r.Files, err = s.files(ctx, id); err != nil {
		return Report{}, err
	}
	return r, nil
}

// File returns the content of report id in format, if a sees the report.
func (s *Service) File(ctx context.Context, a actor.Actor, id int64, format string) ([]byte, error) {
	if _, err := s.Report(ctx, a, id); err != nil {
		return nil, err
	}
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT content FROM report_files WHERE report_id = ? AND format = ?`, id, format).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, problem.NotFound("report file")
	}
	if err != nil {
		return nil, fmt.Errorf("report: file %d: %w", id, err)
	}
	return b, nil
}

// Sections lists the section keys a report or template may choose, in report order.
func (s *Service) Sections() []string { return s.src.Sections() }
