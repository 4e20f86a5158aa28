// Package incident owns a hospital's security incidents (网络安全事件): their category
// and level per GB/T 20986-2023, the affected assets, patients and data, a time-stamped
// timeline of everything done, the regulatory reporting clock (《国家网络安全事件报告管理办法》
// by default, HIPAA's breach notification for international users) with warnings before
// a deadline and escalation after it, evidence attachments checked by content, and the
// post-incident review with its follow-up tasks.
//
// Every change is in the trail and on the incident's timeline; every read is limited to
// the actor's subtree (another hospital's incident is not found). Alerts of the clocks
// are raised through a Raiser (alert.Service) inside the transaction that records them.
// An incident may be opened from an alert or an alert case: IncidentsOf finds the
// incidents of such a source, for the link back.
package incident

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Category is a top-level category of GB/T 20986-2023 《信息安全技术 网络安全事件分类分级
// 指南》, with a stable id of ours (not the standard's Annex B code) and its names.
type Category struct {
	ID string `json:"id"`
	Zh string `json:"zh"`
	En string `json:"en"`
}

// Categories lists the ten top-level categories of GB/T 20986-2023, in the standard's
// order. The standard raised the count from the seven of GB/Z 20986-2007 to ten, the
// first three being malicious programs, network attacks and data security (confirmed
// against published summaries of the standard); the names of the other seven are as the
// standard is commonly cited and were not checked against its text. Annex B's codes are
// not used: the ids are ours and stable.
var Categories = []Category{
	{"malware", "恶意程序事件", "Malicious program"},
	{"network_attack", "网络攻击事件", "Network attack"},
	{"data_security", "数据安全事件", "Data security"},
	{"content_security", "信息内容安全事件", "Information content security"},
	{"equipment_failure", "设备设施故障事件", "Equipment and facility failure"},
	{"violation", "违规操作事件", "Violation of rules in operation"},
	{"hidden_hazard", "安全隐患事件", "Security hazard"},
	{"abnormal_behavior", "异常行为事件", "Abnormal behaviour"},
	{"force_majeure", "不可抗力事件", "Force majeure"},
	{"other", "其他事件", "Other"},
}

// CategoryIDs lists the ids of Categories.
func CategoryIDs() []string {
	out := make([]string, len(Categories))
	for i, c := range Categories {
		out[i] = c.ID
	}
	return out
}

// ValidCategory reports whether id is a category's id.
func ValidCategory(id string) bool { return slices.Contains(CategoryIDs(), id) }

// The levels of an incident, most serious first.
const (
	LevelExtraordinary = "extraordinary" // 特别重大 (I)
	LevelMajor         = "major"         // 重大 (II)
	LevelLarge         = "large"         // 较大 (III)
	LevelGeneral       = "general"       // 一般 (IV)
)

// Level is one level of GB/T 20986-2023 and its names.
type Level struct {
	ID string `json:"id"`
	Zh string `json:"zh"`
	En string `json:"en"`
}

// Levels lists the levels, most serious first.
var Levels = []Level{
	{LevelExtraordinary, "特别重大", "Extraordinarily serious"},
	{LevelMajor, "重大", "Major"},
	{LevelLarge, "较大", "Large"},
	{LevelGeneral, "一般", "General"},
}

// LevelIDs lists the ids of Levels, most serious first.
func LevelIDs() []string {
	out := make([]string, len(Levels))
	for i, l := range Levels {
		out[i] = l.ID
	}
	return out
}

// ValidLevel reports whether id is a level's id.
func ValidLevel(id string) bool { return slices.Contains(LevelIDs(), id) }

// The states of an incident: open → contained → resolved → closed; an incident not yet
// closed may be reopened.
const (
	StatusOpen      = "open"
	StatusContained = "contained"
	StatusResolved  = "resolved"
	StatusClosed    = "closed"
)

// Statuses lists the states in workflow order.
var Statuses = []string{StatusOpen, StatusContained, StatusResolved, StatusClosed}

// transitions says which states each state may move to.
var transitions = map[string][]string{
	StatusOpen:      {StatusContained, StatusResolved},
	StatusContained: {StatusOpen, StatusResolved},
	StatusResolved:  {StatusOpen, StatusContained, StatusClosed},
}

// CanMove reports whether an incident in state from may move to state to.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// The source modules whose records IncidentsOf links back to and Open checks.
const (
	SourceAlert = "alert"      // an alert of package alert
	SourceCase  = "alert_case" // an alert case
)

// Incident is one security incident.
type Incident struct {
	ID           int64      `json:"id"`
	OrgID        int64      `json:"org_id"`
	OrgName      string     `json:"hospital"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	Category     string     `json:"category"`
	Level        string     `json:"level"`
	Status       string     `json:"status"`
	Regime       string     `json:"regime"`
	OperatorType string     `json:"operator_type"`
	DetectedAt   time.Time  `json:"detected_at"`
	OccurredAt   *time.Time `json:"occurred_at"`
	// ReportDue is the reporting deadline (nil: the level need not be reported within
	// one); ReportedAt stops its clock.
	ReportDue  *time.Time `json:"report_due"`
	ReportedAt *time.Time `json:"reported_at"`
	// PassOnDue is the deadline by which the report of a major or extraordinary
	// incident must be passed on upward, from the report; PassedOnAt stops it.
	PassOnDue  *time.Time `json:"pass_on_due"`
	PassedOnAt *time.Time `json:"passed_on_at"`
	// Overdue says a clock has passed its deadline unreported, as of the read.
	Overdue          bool      `json:"overdue"`
	AssetIDs         []int64   `json:"asset_ids"`
	PatientsAffected int64     `json:"patients_affected"`
	DataInvolved     []string  `json:"data_involved"`
	SourceModule     string    `json:"source_module,omitempty"`
	SourceID         string    `json:"source_id,omitempty"`
	CreatedBy        string    `json:"created_by"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`

	// Filled by Incident, not by Incidents.
	Timeline    []Entry      `json:"timeline,omitempty"`
	Reports     []Report     `json:"reports,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Review      *Review      `json:"review,omitempty"`
	Tasks       []Task       `json:"tasks,omitempty"`
}

// Details is the editable description of an incident.
type Details struct {
	Title            string     `json:"title"`
	Description      string     `json:"description"`
	Category         string     `json:"category"`
	OccurredAt       *time.Time `json:"occurred_at"`
	AssetIDs         []int64    `json:"asset_ids"`
	PatientsAffected int64      `json:"patients_affected"`
	// DataInvolved names the categories of data involved (诊疗数据, 身份信息 …).
	DataInvolved []string `json:"data_involved"`
}

// Input opens an incident.
type Input struct {
	// OrgID is the hospital (or a department below it) the incident happened at.
	OrgID int64 `json:"org_id"`
	Details
	Level string `json:"level"`
	// DetectedAt starts the reporting clock (zero: now).
	DetectedAt time.Time `json:"detected_at"`
	// OperatorType and Regime choose the clock ("" : the Options' defaults).
	OperatorType string `json:"operator_type"`
	Regime       string `json:"regime"`
	// SourceModule and SourceID name the alert (SourceAlert) or case (SourceCase), or
	// another module's record, the incident is opened from; both or neither.
	SourceModule string `json:"source_module"`
	SourceID     string `json:"source_id"`
}

// Raiser raises alerts (alert.Service) inside the caller's transaction.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// Options configures a Service.
type Options struct {
	// Clocks is the table of reporting deadlines (nil: DefaultClocks).
	Clocks *Clocks
	// OperatorType is the default operator type of an incident (default "other").
	OperatorType string
	// Regime is the default regime of an incident (default "cn").
	Regime string
	// MaxAttachment is the largest evidence file taken, in bytes (default 20 MiB).
	MaxAttachment int64
	// Logger receives what cannot be said otherwise.
	Logger *slog.Logger
	Now    func() time.Time
}

// DefaultMaxAttachment is the default size limit of an evidence file.
const DefaultMaxAttachment = 20 << 20

// Service keeps the incidents.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	alerts Raiser
	clocks Clocks
	opt    Options
}

// New returns the incidents on db, recording changes in tl and raising the clocks'
// alerts through alerts (nil: the sweep records its warnings on the timelines only). It
// fails when the Options name a regime the clocks lack or an unknown operator type.
func New(db *store.DB, tl *trail.Log, alerts Raiser, opt Options) (*Service, error) {
	c := DefaultClocks()
	if opt.Clocks != nil {
		c = *opt.Clocks
	}
	if opt.OperatorType == "" {
		opt.OperatorType = OperatorOther
	}
	if opt.Regime == "" {
		opt.Regime = RegimeCN
	}
	if !slices.Contains(OperatorTypes, opt.OperatorType) {
		return nil, fmt.Errorf("incident: unknown operator type %q", opt.OperatorType)
	}
	if _, ok := c.Regimes[opt.Regime]; !ok {
		return nil, fmt.Errorf("incident: the clocks have no regime %q", opt.Regime)
	}
	if opt.MaxAttachment <= 0 {
		opt.MaxAttachment = DefaultMaxAttachment
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{db: db, trail: tl, alerts: alerts, clocks: c, opt: opt}, nil
}

// Clocks returns the clock table the service applies.
func (s *Service) Clocks() Clocks { return s.clocks }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// text checks a required or optional text field (problem.Text).
var text = problem.Text

// checkDetails validates and normalises an incident's description.
func checkDetails(d Details) (Details, error) {
	var err error
	if d.Title, err = text("title", d.Title, 200, true); err != nil {
		return d, err
	}
	if d.Description, err = text("description", d.Description, 10000, false); err != nil {
		return d, err
	}
	if !ValidCategory(d.Category) {
		return d, problem.OneOf("category", CategoryIDs()...)
	}
	if d.PatientsAffected < 0 || d.PatientsAffected > 1e9 {
		return d, problem.Invalid("patients_affected", "must be a count from 0").WithMsg("incident.error.patients")
	}
	if len(d.AssetIDs) > 200 {
		return d, problem.Invalid("asset_ids", "at most 200 assets").WithMsg("incident.error.too_many_assets", 200)
	}
	ids := []int64{}
	for _, id := range d.AssetIDs {
		if id <= 0 {
			return d, problem.Invalid("asset_ids", "is not an asset id").WithMsg("incident.error.asset")
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	d.AssetIDs = ids
	if len(d.DataInvolved) > 30 {
		return d, problem.Invalid("data_involved", "at most 30 data categories").WithMsg("incident.error.too_many_data", 30)
	}
	data := []string{}
	for _, v := range d.DataInvolved {
		v, err := text("data_involved", v, 100, false)
		if err != nil {
			return d, err
		}
		if v != "" && !slices.Contains(data, v) {
			data = append(data, v)
		}
	}
	d.DataInvolved = data
	if d.OccurredAt != nil {
		t := d.OccurredAt.UTC().Truncate(time.Microsecond)
		d.OccurredAt = &t
	}
	return d, nil
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
