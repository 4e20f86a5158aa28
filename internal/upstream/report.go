package upstream

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/problem"
)

// ReportVersion is the version of the report format this package writes and reads.
const ReportVersion = 1

// Limits of a report: a larger one is refused whole.
const (
	MaxReportSize    = 8 << 20
	maxApps          = 5000
	maxFindings      = 500 // per app
	maxCodes         = 100 // per app
	maxIncidents     = 10000
	maxClockAhead    = 24 * time.Hour // how far ahead of the region's clock generated_at may be
	maxText          = 500
	maxDetail        = 2000
	reportIDHexChars = 32
)

// Report is what a hospital's medguard pushes.
type Report struct {
	Version     int       `json:"version"`
	ReportID    string    `json:"report_id"` // 32 hexadecimal digits, random per push
	GeneratedAt time.Time `json:"generated_at"`
	// Source names the reporting instance (informative: its version).
	Source    string     `json:"source,omitempty"`
	Apps      []App      `json:"apps"`
	Incidents []Incident `json:"incidents"`
}

// App is one app of a report.
type App struct {
	ID          int64      `json:"id"` // the app's id at the hospital
	Name        string     `json:"name"`
	Platform    string     `json:"platform"`
	Package     string     `json:"package"`
	Operator    string     `json:"operator"`
	Status      string     `json:"status"`
	Score       *int       `json:"score"`
	Grade       string     `json:"grade"`
	RectifyBy   *time.Time `json:"rectify_by,omitempty"`
	EvaluatedAt *time.Time `json:"evaluated_at,omitempty"`
	Findings    []Finding  `json:"findings"` // the open ones
	Codes       []Code     `json:"codes"`
}

// Finding is an open finding of a reported app.
type Finding struct {
	Type     string    `json:"type"`
	Severity string    `json:"severity"`
	Subject  string    `json:"subject"`
	OpenedAt time.Time `json:"opened_at"`
}

// Code is an authorization code of a reported app: its id and dates, never the code.
type Code struct {
	ID        string     `json:"code_id"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Reason    string     `json:"revoke_reason,omitempty"`
}

// Incident is an eviction, an eviction proposal or a critical finding at the hospital.
type Incident struct {
	Key      string    `json:"key"` // the hospital's key: the region keeps one incident per key
	AppID    int64     `json:"app_id"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity"`
	Subject  string    `json:"subject"`
	Detail   string    `json:"detail"`
	At       time.Time `json:"at"`
}

// Ack is the region's acknowledgement of a report, signed with the link's key.
type Ack struct {
	ReportID string `json:"report_id"`
	OrgID    int64  `json:"org_id"` // the hospital's node at the region
	Apps     int    `json:"apps"`
	// Incidents is how many of the report's incidents were new to the region.
	Incidents int `json:"incidents"`
	// Changed is false when the region already had this report or a newer one.
	Changed    bool      `json:"changed"`
	ReceivedAt time.Time `json:"received_at"`
}

var (
	statuses   = []string{appreg.StatusPending, appreg.StatusAdmitted, appreg.StatusRejected, appreg.StatusEvicted}
	grades     = []string{"", "A", "B", "C"}
	severities = []string{"critical", "high", "medium", "low", "info"}
	kinds      = []string{appreg.IncidentEvicted, appreg.IncidentEvictionPropose, appreg.IncidentCriticalFinding}
)

// bad is the error of a malformed report: a 400 with the field and what is wrong.
func bad(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return problem.Invalid(field, "the report is not valid: %s: %s", field, msg).WithCode("bad_report").
		WithMsg("upstream.error.bad_report", field, msg)
}

// DecodeReport reads one report from r (at most MaxReportSize bytes) and checks it
// against the clock now: the format, every field's kind and size, that app ids are
// unique and that each incident names a reported app. It never panics on any input.
func DecodeReport(r io.Reader, now time.Time) (Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxReportSize+1))
	if err != nil {
		return Report{}, problem.Invalid("", "the report could not be read").WithCode("bad_report").
			WithMsg("upstream.error.unreadable").WithErr(err)
	}
	if len(data) > MaxReportSize {
		return Report{}, problem.Invalid("", "the report is larger than %d bytes", MaxReportSize).WithCode("body_too_large").
			WithMsg("error.msg.body_too_large", MaxReportSize)
	}
	var rep Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return Report{}, problem.Invalid("", "the report is not a valid JSON report (%s)", jsonProblem(err)).WithCode("bad_report").
			WithMsg("upstream.error.bad_json", jsonProblem(err)).WithErr(err)
	}
	if dec.More() || len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return Report{}, problem.Invalid("", "the report has data after the JSON object").WithCode("bad_report").
			WithMsg("upstream.error.bad_json", "trailing data")
	}
	if err := rep.check(now); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// jsonProblem says what encoding/json found wrong without quoting the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %s has the wrong type", typ.Field)
		}
		return "the report must be a JSON object"
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends in the middle of a value"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field"
	}
	return "invalid value"
}

// text checks a text field: valid UTF-8 without NUL, at most max runes, and, when
// required, not empty.
func text(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return bad(field, "is required")
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return bad(field, "is not valid text")
	case utf8.RuneCountInString(v) > max:
		return bad(field, "is longer than %d characters", max)
	}
	return nil
}

func (rep *Report) check(now time.Time) error {
	if rep.Version != ReportVersion {
		return bad("version", "must be %d", ReportVersion)
	}
	if len(rep.ReportID) != reportIDHexChars || strings.ToLower(rep.ReportID) != rep.ReportID {
		return bad("report_id", "must be %d lower-case hexadecimal digits", reportIDHexChars)
	}
	if _, err := hex.DecodeString(rep.ReportID); err != nil {
		return bad("report_id", "must be %d lower-case hexadecimal digits", reportIDHexChars)
	}
	if rep.GeneratedAt.IsZero() || rep.GeneratedAt.Year() < 2000 {
		return bad("generated_at", "is required")
	}
	if rep.GeneratedAt.After(now.Add(maxClockAhead)) {
		return bad("generated_at", "lies more than %s ahead of the region's clock", maxClockAhead)
	}
	if err := text("source", rep.Source, 200, false); err != nil {
		return err
	}
	if len(rep.Apps) > maxApps {
		return bad("apps", "more than %d apps", maxApps)
	}
	if len(rep.Incidents) > maxIncidents {
		return bad("incidents", "more than %d incidents", maxIncidents)
	}
	ids := map[int64]bool{}
	for i := range rep.Apps {
		if err := rep.Apps[i].check(); err != nil {
			return err
		}
		if ids[rep.Apps[i].ID] {
			return bad("apps.id", "app %d is reported twice", rep.Apps[i].ID)
		}
		ids[rep.Apps[i].ID] = true
	}
	keys := map[string]bool{}
	for _, in := range rep.Incidents {
		if err := text("incidents.key", in.Key, 200, true); err != nil {
			return err
		}
		if keys[in.Key] {
			return bad("incidents.key", "an incident is reported twice")
		}
		keys[in.Key] = true
		if !ids[in.AppID] {
			return bad("incidents.app_id", "names an app the report does not carry")
		}
		if !slices.Contains(kinds, in.Kind) {
			return bad("incidents.kind", "must be one of %s", strings.Join(kinds, ", "))
		}
		if !slices.Contains(severities, in.Severity) {
			return bad("incidents.severity", "must be one of %s", strings.Join(severities, ", "))
		}
		if err := text("incidents.subject", in.Subject, maxText, false); err != nil {
			return err
		}
		if err := text("incidents.detail", in.Detail, maxDetail, false); err != nil {
			return err
		}
		if in.At.IsZero() {
			return bad("incidents.at", "is required")
		}
	}
	return nil
}

func (a *App) check() error {
	if a.ID <= 0 {
		return bad("apps.id", "must be a positive number")
	}
	for _, f := range []struct {
		name, v string
	}{{"apps.name", a.Name}, {"apps.package", a.Package}, {"apps.operator", a.Operator}} {
		if err := text(f.name, f.v, maxText, true); err != nil {
			return err
		}
	}
	if !slices.Contains(appreg.Platforms, a.Platform) {
		return bad("apps.platform", "must be one of %s", strings.Join(appreg.Platforms, ", "))
	}
	if !slices.Contains(statuses, a.Status) {
		return bad("apps.status", "must be one of %s", strings.Join(statuses, ", "))
	}
	if a.Score != nil && (*a.Score < 0 || *a.Score > 100) {
		return bad("apps.score", "must be between 0 and 100")
	}
	if !slices.Contains(grades, a.Grade) {
		return bad("apps.grade", "must be A, B, C or empty")
	}
	if len(a.Findings) > maxFindings {
		return bad("apps.findings", "more than %d findings", maxFindings)
	}
	if len(a.Codes) > maxCodes {
		return bad("apps.codes", "more than %d codes", maxCodes)
	}
	for _, f := range a.Findings {
		if err := text("apps.findings.type", f.Type, 100, true); err != nil {
			return err
		}
		if !slices.Contains(severities, f.Severity) {
			return bad("apps.findings.severity", "must be one of %s", strings.Join(severities, ", "))
		}
		if err := text("apps.findings.subject", f.Subject, maxText, false); err != nil {
			return err
		}
		if f.OpenedAt.IsZero() {
			return bad("apps.findings.opened_at", "is required")
		}
	}
	for _, c := range a.Codes {
		if err := text("apps.codes.code_id", c.ID, 100, true); err != nil {
			return err
		}
		if c.IssuedAt.IsZero() || c.ExpiresAt.IsZero() {
			return bad("apps.codes", "issued_at and expires_at are required")
		}
		if err := text("apps.codes.revoke_reason", c.Reason, maxDetail, false); err != nil {
			return err
		}
	}
	return nil
}
