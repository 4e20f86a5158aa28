package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Assessment is an assessment of a hospital (AssetID 0) or of one of its business
// systems against a catalogue, with its counts by status. Items is filled by
// Assessment, not by lists.
type Assessment struct {
	ID        int64      `json:"id"`
	OrgID     int64      `json:"org_id"`
	OrgName   string     `json:"hospital"`
	AssetID   int64      `json:"asset_id,omitempty"`
	AssetName string     `json:"asset_name,omitempty"`
	MLPSLevel int        `json:"mlps_level,omitempty"`
	Catalogue string     `json:"catalogue"`
	Title     string     `json:"title"`
	Assessor  string     `json:"assessor"`
	StartsOn  time.Time  `json:"starts_on"`
	DueOn     *time.Time `json:"due_on"`
	CheckedAt *time.Time `json:"checked_at"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Counts    Counts     `json:"counts"`
	Percent   int        `json:"percent"`

	Items []ItemStatus `json:"items,omitempty"`
	// orgPath is the materialised path of the organisation (for the checks' scope).
	orgPath string
}

// Counts counts the items of an assessment by status.
type Counts struct {
	Met           int `json:"met"`
	Partly        int `json:"partly"`
	NotMet        int `json:"not_met"`
	NotApplicable int `json:"not_applicable"`
	Unassessed    int `json:"unassessed"`
}

func (c *Counts) add(status string, n int) {
	switch status {
	case StatusMet:
		c.Met += n
	case StatusPartly:
		c.Partly += n
	case StatusNotMet:
		c.NotMet += n
	case StatusNotApplicable:
		c.NotApplicable += n
	case StatusUnassessed:
		c.Unassessed += n
	}
}

// Applicable is the number of items that apply (all but not applicable).
func (c Counts) Applicable() int { return c.Met + c.Partly + c.NotMet + c.Unassessed }

// Percent is the share of applicable items met, 0–100, rounded down (0 when none apply).
func (c Counts) Percent() int {
	if c.Applicable() == 0 {
		return 0
	}
	return c.Met * 100 / c.Applicable()
}

// ItemStatus is an item of an assessment: the catalogue's item with its status, note,
// assessor, evidence and history.
type ItemStatus struct {
	RowID      int64             `json:"id"`
	Item       string            `json:"item"`
	Title      map[string]string `json:"title"`
	Text       map[string]string `json:"text"`
	Checks     []string          `json:"checks"`
	Parents    []Heading         `json:"-"`
	Status     string            `json:"status"`
	Note       string            `json:"note"`
	AssessedBy string            `json:"assessed_by"`
	AssessedAt *time.Time        `json:"assessed_at"`
	Evidence   []Evidence        `json:"evidence"`
	History    []Change          `json:"history"`
}

// Gap reports whether the item is a gap (not met or partly met).
func (it ItemStatus) Gap() bool { return it.Status == StatusNotMet || it.Status == StatusPartly }

// Change is a change of an item's status.
type Change struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	Note string    `json:"note"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// The kinds of evidence.
const (
	EvidenceFile  = "file"  // an uploaded file
	EvidenceLink  = "link"  // a link to a platform record
	EvidenceCheck = "check" // the result of an automatic check
)

// Evidence is a piece of evidence of an item. A file has Name, FileKind, ContentType,
// Size and SHA256 (Content only from EvidenceFile); a link Module and RecordID; a check
// Check, Outcome, Message, Figures and Links. Expired tells whether ExpiresAt has passed.
type Evidence struct {
	ID          int64          `json:"id"`
	Kind        string         `json:"kind"`
	Name        string         `json:"name,omitempty"`
	FileKind    string         `json:"file_kind,omitempty"`
	ContentType string         `json:"content_type,omitempty"`
	Size        int64          `json:"size,omitempty"`
	SHA256      string         `json:"sha256,omitempty"`
	Module      string         `json:"module,omitempty"`
	RecordID    int64          `json:"record_id,omitempty"`
	Check       string         `json:"check,omitempty"`
	Outcome     string         `json:"outcome,omitempty"`
	Message     *i18n.Message  `json:"message,omitempty"`
	Figures     map[string]int `json:"figures,omitempty"`
	Links       []Link         `json:"links,omitempty"`
	ExpiresAt   *time.Time     `json:"expires_at"`
	Expired     bool           `json:"expired"`
	AddedBy     string         `json:"added_by"`
	AddedAt     time.Time      `json:"added_at"`
	Content     []byte         `json:"-"`
}

const assessmentColumns = `x.id, x.org_id, o.name, o.path, COALESCE(x.asset_id, 0), COALESCE(s.name, ''), COALESCE(s.mlps_level, 0),
	x.catalogue, x.title, x.assessor, x.starts_on, x.due_on, x.checked_at, x.created_by, x.created_at, x.updated_at`

const fromAssessments = ` FROM assessments x JOIN orgs o ON o.id = x.org_id LEFT JOIN assets s ON s.id = x.asset_id`

func scanAssessment(sc store.Scanner) (Assessment, error) {
	var x Assessment
	var starts, created, updated store.Time
	var due, checked store.Time
	if err := sc.Scan(&x.ID, &x.OrgID, &x.OrgName, &x.orgPath, &x.AssetID, &x.AssetName, &x.MLPSLevel, &x.Catalogue, &x.Title,
		&x.Assessor, &starts, &due, &checked, &x.CreatedBy, &created, &updated); err != nil {
		return Assessment{}, err
	}
	x.StartsOn, x.CreatedAt, x.UpdatedAt = starts.Time, created.Time, updated.Time
	x.DueOn, x.CheckedAt = due.Ptr(), checked.Ptr()
	return x, nil
}

// get reads assessment id as a sees it (another organisation's is not found).
func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Assessment, error) {
	cond, arg := a.SeesSQL("o.path")
	x, err := scanAssessment(q.QueryRowContext(ctx, `SELECT `+assessmentColumns+fromAssessments+` WHERE x.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Assessment{}, problem.NotFound("assessment")
	}
	if err != nil {
		return Assessment{}, fmt.Errorf("assess: assessment: %w", err)
	}
	if x.Counts, err = counts(ctx, q, id); err != nil {
		return Assessment{}, err
	}
	x.Percent = x.Counts.Percent()
	return x, nil
}

// Assessments lists the assessments a sees, newest first, with their counts.
func (s *Service) Assessments(ctx context.Context, a actor.Actor) ([]Assessment, error) {
	cond, arg := a.SeesSQL("o.path")
	out, err := store.Collect(ctx, s.db, scanAssessment, `SELECT `+assessmentColumns+fromAssessments+` WHERE `+cond+
		` ORDER BY x.created_at DESC, x.id DESC`, arg)
	if err != nil {
		return nil, fmt.Errorf("assess: assessments: %w", err)
	}
	if out == nil {
		out = []Assessment{}
	}
	for i := range out {
		if out[i].Counts, err = counts(ctx, s.db, out[i].ID); err != nil {
			return nil, err
		}
		out[i].Percent = out[i].Counts.Percent()
	}
	return out, nil
}

// Assessment returns assessment id with its items in catalogue order, each with its
// evidence and history.
func (s *Service) Assessment(ctx context.Context, a actor.Actor, id int64) (Assessment, error) {
	x, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return Assessment{}, err
	}
	if x.Items, err = s.items(ctx, s.db, x, ""); err != nil {
		return Assessment{}, err
	}
	return x, nil
}

// Item returns item itemID of assessment id with its evidence and history.
func (s *Service) Item(ctx context.Context, a actor.Actor, id int64, itemID string) (ItemStatus, error) {
	x, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return ItemStatus{}, err
	}
	items, err := s.items(ctx, s.db, x, itemID)
	if err != nil {
		return ItemStatus{}, err
	}
	if len(items) == 0 {
		return ItemStatus{}, problem.NotFound("item")
	}
	return items[0], nil
}

// item reads the row of item itemID of assessment id (without evidence).
func (s *Service) item(ctx context.Context, q store.Querier, id int64, itemID string) (ItemStatus, error) {
	var it ItemStatus
	err := q.QueryRowContext(ctx, `SELECT id, item, status, note FROM assess_items WHERE assessment_id = ? AND item = ?`,
		id, itemID).Scan(&it.RowID, &it.Item, &it.Status, &it.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return ItemStatus{}, problem.NotFound("item")
	}
	if err != nil {
		return ItemStatus{}, fmt.Errorf("assess: item: %w", err)
	}
	return it, nil
}

// items reads the items of x (only itemID when not ""), in catalogue order, with the
// catalogue's titles, evidence and history.
func (s *Service) items(ctx context.Context, q store.Querier, x Assessment, itemID string) ([]ItemStatus, error) {
	cat, err := s.cats.Items(x.Catalogue)
	if err != nil {
		return nil, fmt.Errorf("assess: items of %s: %w", x.Catalogue, err)
	}
	where, args := `assessment_id = ?`, []any{x.ID}
	if itemID != "" {
		where, args = where+` AND item = ?`, append(args, itemID)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, item, status, note, assessed_by, assessed_at FROM assess_items WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: items: %w", err)
	}
	byID := map[string]*ItemStatus{}
	byRow := map[int64]*ItemStatus{}
	for rows.Next() {
		it := &ItemStatus{Evidence: []Evidence{}, History: []Change{}, Checks: []string{}}
		var at store.Time
		if err := rows.Scan(&it.RowID, &it.Item, &it.Status, &it.Note, &it.AssessedBy, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("assess: items: %w", err)
		}
		it.AssessedAt = at.Ptr()
		byID[it.Item], byRow[it.RowID] = it, it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("assess: items: %w", err)
	}
	if err := s.evidenceOf(ctx, q, x.ID, itemID, byRow); err != nil {
		return nil, err
	}
	if err := historyOf(ctx, q, x.ID, itemID, byRow); err != nil {
		return nil, err
	}
	out := make([]ItemStatus, 0, len(byID))
	for _, c := range cat {
		it, ok := byID[c.ID]
		if !ok {
			continue
		}
		it.Title, it.Text, it.Parents = c.Title, c.Text, c.Parents
		if c.Checks != nil {
			it.Checks = c.Checks
		}
		out = append(out, *it)
		delete(byID, c.ID)
	}
	for _, it := range byID { // an item the catalogue no longer has: still shown, last
		out = append(out, *it)
	}
	return out, nil
}

const evidenceColumns = `e.id, e.item_id, e.kind, e.name, e.file_kind, e.content_type, e.size, e.sha256, e.module, e.record_id,
	e.check_name, e.outcome, e.message, e.figures, e.links, e.expires_at, e.added_by, e.added_at`

func (s *Service) scanEvidence(sc store.Scanner) (int64, Evidence, error) {
	var e Evidence
	var itemRow int64
	var msg, figures, links string
	var exp, added store.Time
	if err := sc.Scan(&e.ID, &itemRow, &e.Kind, &e.Name, &e.FileKind, &e.ContentType, &e.Size, &e.SHA256, &e.Module,
		&e.RecordID, &e.Check, &e.Outcome, &msg, &figures, &links, &exp, &e.AddedBy, &added); err != nil {
		return 0, Evidence{}, err
	}
	e.AddedAt = added.Time
	if e.ExpiresAt = exp.Ptr(); e.ExpiresAt != nil {
		e.Expired = !s.now().Before(*e.ExpiresAt)
	}
	if msg != "" {
		var m i18n.Message
		if err := json.Unmarshal([]byte(msg), &m); err == nil {
			e.Message = &m
		}
	}
	if figures != "" {
		_ = json.Unmarshal([]byte(figures), &e.Figures)
	}
	if links != "" {
		_ = json.Unmarshal([]byte(links), &e.Links)
	}
	return itemRow, e, nil
}

func (s *Service) evidenceOf(ctx context.Context, q store.Querier, id int64, itemID string, byRow map[int64]*ItemStatus) error {
	where, args := `i.assessment_id = ?`, []any{id}
	if itemID != "" {
		where, args = where+` AND i.item = ?`, append(args, itemID)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+evidenceColumns+` FROM assess_evidence e JOIN assess_items i ON i.id = e.item_id
		WHERE `+where+` ORDER BY e.kind, e.id`, args...)
	if err != nil {
		return fmt.Errorf("assess: evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		row, e, err := s.scanEvidence(rows)
		if err != nil {
			return fmt.Errorf("assess: evidence: %w", err)
		}
		if it := byRow[row]; it != nil {
			it.Evidence = append(it.Evidence, e)
		}
	}
	return rows.Err()
}

func historyOf(ctx context.Context, q store.Querier, id int64, itemID string, byRow map[int64]*ItemStatus) error {
	where, args := `i.assessment_id = ?`, []any{id}
	if itemID != "" {
		where, args = where+` AND i.item = ?`, append(args, itemID)
	}
	rows, err := q.QueryContext(ctx, `SELECT h.item_id, h.status_from, h.status_to, h.note, h.changed_by, h.changed_at
		FROM assess_item_history h JOIN assess_items i ON i.id = h.item_id WHERE `+where+` ORDER BY h.id`, args...)
	if err != nil {
		return fmt.Errorf("assess: history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var row int64
		var c Change
		var at store.Time
		if err := rows.Scan(&row, &c.From, &c.To, &c.Note, &c.By, &at); err != nil {
			return fmt.Errorf("assess: history: %w", err)
		}
		c.At = at.Time
		if it := byRow[row]; it != nil {
			it.History = append(it.History, c)
		}
	}
	return rows.Err()
}

// Point is a progress point: the counts by status at a moment.
type Point struct {
	At      time.Time `json:"at"`
	Counts  Counts    `json:"counts"`
	Percent int       `json:"percent"`
}

// Summary is an assessment's progress for the overview: its catalogue, its target (the
// hospital or the system), counts, share met and one trend point per ISO week (the last
// of the week), oldest first.
type Summary struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Catalogue string  `json:"catalogue"`
	OrgID     int64   `json:"org_id"`
	Target    string  `json:"target"`
	AssetID   int64   `json:"asset_id,omitempty"`
	Counts    Counts  `json:"counts"`
	Percent   int     `json:"percent"`
	Trend     []Point `json:"trend"`
}

// Progress returns the progress of every assessment of organisation orgID (and below)
// that a sees; orgID 0 is every one a sees.
func (s *Service) Progress(ctx context.Context, a actor.Actor, orgID int64) ([]Summary, error) {
	list, err := s.Assessments(ctx, a)
	if err != nil {
		return nil, err
	}
	var within string
	if orgID != 0 {
		var path string
		err := s.db.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, orgID).Scan(&path)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(path)) {
			return nil, problem.NotFound("organisation")
		}
		if err != nil {
			return nil, fmt.Errorf("assess: progress: %w", err)
		}
		within = path
	}
	out := []Summary{}
	for _, x := range list {
		if within != "" && !strings.HasPrefix(x.orgPath, within) {
			continue
		}
		sm := Summary{ID: x.ID, Title: x.Title, Catalogue: x.Catalogue, OrgID: x.OrgID, Target: x.OrgName, AssetID: x.AssetID,
			Counts: x.Counts, Percent: x.Percent}
		if x.AssetID != 0 {
			sm.Target = x.AssetName
		}
		if sm.Trend, err = s.trend(ctx, x.ID); err != nil {
			return nil, err
		}
		out = append(out, sm)
	}
	return out, nil
}

// Trend returns the progress of assessment id week by week (the last point of each ISO
// week), oldest first.
func (s *Service) Trend(ctx context.Context, a actor.Actor, id int64) ([]Point, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	return s.trend(ctx, id)
}

// trend returns the last progress point of each ISO week of assessment id, oldest first.
func (s *Service) trend(ctx context.Context, id int64) ([]Point, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, met, partly, not_met, not_applicable, unassessed, percent
		FROM assess_progress WHERE assessment_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("assess: trend: %w", err)
	}
	defer rows.Close()
	out := []Point{}
	lastWeek := ""
	for rows.Next() {
		var p Point
		var at store.Time
		if err := rows.Scan(&at, &p.Counts.Met, &p.Counts.Partly, &p.Counts.NotMet, &p.Counts.NotApplicable,
			&p.Counts.Unassessed, &p.Percent); err != nil {
			return nil, fmt.Errorf("assess: trend: %w", err)
		}
		p.At = at.Time
		y, w := p.At.ISOWeek()
		week := fmt.Sprintf("%d-%02d", y, w)
		if week == lastWeek {
			out[len(out)-1] = p
			continue
		}
		lastWeek = week
		out = append(out, p)
	}
	return out, rows.Err()
}
