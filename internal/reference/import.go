package reference

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/textenc"
	"github.com/medguard/medguard/internal/trail"
)

// Columns are the header of each kind's CSV, in the order the issue names them. A file
// may order them differently; it must have every one and no other.
var Columns = map[string][]string{
	KindStaff:      {"staff_id", "account", "name", "department", "role", "address"},
	KindPatients:   {"patient_id", "name", "address", "vip", "deceased_on", "staff_id"},
	KindEncounters: {"patient_id", "staff_id", "department", "start", "end"},
}

// MaxField is the longest value (in characters) a column may hold.
const MaxField = 500

// MaxRowErrors is how many row errors a Report lists; ErrorCount counts them all.
const MaxRowErrors = 100

// Row error codes; the catalogues say each as "reference.row.<code>".
const (
	CodeRequired  = "required"
	CodeTooLong   = "too_long"
	CodeBool      = "not_bool"
	CodeDate      = "not_date"
	CodeTime      = "not_time"
	CodeEndBefore = "end_before_start"
	CodeNoOwner   = "no_staff_or_department"
	CodeFields    = "field_count"
	CodeEncoding  = "bad_text"
)

// rowMessages are the English texts of the row error codes.
var rowMessages = map[string]string{
	CodeRequired:  "is required",
	CodeTooLong:   "is longer than 500 characters",
	CodeBool:      "must be true or false",
	CodeDate:      "is not a date (YYYY-MM-DD)",
	CodeTime:      "is not a time (RFC 3339 or YYYY-MM-DD HH:MM:SS)",
	CodeEndBefore: "ends before it starts",
	CodeNoOwner:   "needs a staff_id or a department",
	CodeFields:    "has the wrong number of fields",
	CodeEncoding:  "holds a control character",
}

// RowError is one rejected row. It names the line (1 is the header), the column and what
// is wrong, never the value, which may be patient data.
type RowError struct {
	Line    int          `json:"line"`
	Column  string       `json:"column,omitempty"`
	Code    string       `json:"code"`
	Message string       `json:"message"` // English
	Msg     i18n.Message `json:"-"`       // Message as a catalogue message
}

// Report is the outcome of an import.
type Report struct {
	Kind       string     `json:"kind"`
	OrgID      int64      `json:"org_id"`
	Encoding   string     `json:"encoding"`
	Rows       int        `json:"rows"`     // data rows read
	Imported   int        `json:"imported"` // rows inserted or replaced
	ErrorCount int        `json:"error_count"`
	Errors     []RowError `json:"errors"` // the first MaxRowErrors
}

func (r *Report) reject(line int, column, code string) {
	r.ErrorCount++
	if len(r.Errors) < MaxRowErrors {
		r.Errors = append(r.Errors, RowError{Line: line, Column: column, Code: code,
			Message: rowMessages[code], Msg: i18n.M("reference.row." + code)})
	}
}

// Shanghai is the zone of times given without one.
var Shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// ParseTime reads an encounter time: RFC 3339, or "YYYY-MM-DD HH:MM:SS" (also with a
// "T", fractional seconds or a zone offset); without a zone it is Asia/Shanghai time.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, Shanghai); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("reference: not a time")
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "", "false", "0", "no", "n", "否":
		return false, true
	case "true", "1", "yes", "y", "是":
		return true, true
	}
	return false, false
}

// row is one data row by column name.
type row struct {
	line int
	v    map[string]string
}

// decode reads a kind's CSV: the text decoded from UTF-8 or GBK, the header checked,
// each row's values trimmed. A file that cannot be read as CSV at all is a problem;
// rows with the wrong number of fields are reported in rep.
func decode(kind string, data []byte, rep *Report) ([]row, error) {
	cols, ok := Columns[kind]
	if !ok {
		return nil, problem.OneOf("kind", Kinds...)
	}
	txt, err := textenc.Decode(data)
	if err != nil {
		return nil, problem.Invalid("file", "is not UTF-8 or GBK text").WithMsg("reference.err.encoding").WithErr(err)
	}
	rep.Encoding = string(txt.Encoding)
	r := csv.NewReader(bytes.NewReader(txt.Bytes))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, problem.Invalid("file", "is empty: a header row is required").WithMsg("reference.err.empty")
	}
	if err != nil {
		return nil, csvProblem(err)
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[h]; dup || !slices.Contains(cols, h) {
			return nil, badHeader(kind)
		}
		index[h] = i
	}
	if len(index) != len(cols) {
		return nil, badHeader(kind)
	}
	var rows []row
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvProblem(err) // FieldPos would panic after an error
		}
		line, _ := r.FieldPos(0)
		rep.Rows++
		if len(rec) != len(header) {
			rep.reject(line, "", CodeFields)
			continue
		}
		v := make(map[string]string, len(cols))
		bad := false
		for _, c := range cols {
			s := strings.TrimSpace(rec[index[c]])
			switch {
			case utf8.RuneCountInString(s) > MaxField:
				rep.reject(line, c, CodeTooLong)
				bad = true
			case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
				rep.reject(line, c, CodeEncoding)
				bad = true
			}
			v[c] = s
		}
		if !bad {
			rows = append(rows, row{line: line, v: v})
		}
	}
	return rows, nil
}

func badHeader(kind string) error {
	want := strings.Join(Columns[kind], ",")
	return problem.Invalid("file", "the header row must be %s", want).WithMsg("reference.err.header", want)
}

func csvProblem(err error) error {
	line := 0
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line = pe.Line
	}
	return problem.Invalid("file", "is not valid CSV (line %d)", line).WithMsg("reference.err.csv", line).WithErr(err)
}

// Import reads a kind's CSV from r and upserts its good rows for organisation orgID in
// one transaction: staff by staff_id, patients by patient_id, encounters by patient_id,
// staff_id and start. Bad rows are reported, not imported. The import is recorded in the
// trail (counts only).
func (s *Service) Import(ctx context.Context, a actor.Actor, orgID int64, kind string, r io.Reader) (Report, error) {
	rep := Report{Kind: kind, OrgID: orgID, Errors: []RowError{}}
	if _, ok := Columns[kind]; !ok {
		return rep, problem.OneOf("kind", Kinds...)
	}
	data, err := io.ReadAll(io.LimitReader(r, s.opt.MaxBytes+1))
	if err != nil {
		return rep, fmt.Errorf("reference: read %s: %w", kind, err)
	}
	if int64(len(data)) > s.opt.MaxBytes {
		return rep, problem.Invalid("file", "is larger than %d bytes", s.opt.MaxBytes).WithMsg("reference.err.too_large", s.opt.MaxBytes)
	}
	rows, err := decode(kind, data, &rep)
	if err != nil {
		return rep, err
	}
	now := s.opt.Now().UTC()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := org.Visible(ctx, tx, a, orgID); err != nil {
			return err
		}
		for _, rw := range rows {
			var ok bool
			var err error
			switch kind {
			case KindStaff:
				ok, err = s.putStaff(ctx, tx, orgID, rw, &rep, now)
			case KindPatients:
				ok, err = s.putPatient(ctx, tx, orgID, rw, &rep, now)
			case KindEncounters:
				ok, err = s.putEncounter(ctx, tx, orgID, rw, &rep, now)
			}
			if err != nil {
				return err
			}
			if ok {
				rep.Imported++
			}
		}
		if err := bumpVersion(ctx, tx, orgID); err != nil {
			return err
		}
		summary := fmt.Sprintf("reference import %s: %d rows imported, %d rejected", kind, rep.Imported, rep.ErrorCount)
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "reference.import", ObjectType: "reference_" + kind,
			ObjectID: kind, OrgID: orgID, Summary: summary,
			Msg: trail.Msg("trail.summary.reference.import", kind, rep.Imported, rep.ErrorCount)})
		return err
	})
	slices.SortStableFunc(rep.Errors, func(a, b RowError) int { return a.Line - b.Line })
	if err != nil {
		rep.Imported = 0
		return rep, err
	}
	return rep, nil
}

func required(rw row, rep *Report, cols ...string) bool {
	ok := true
	for _, c := range cols {
		if rw.v[c] == "" {
			rep.reject(rw.line, c, CodeRequired)
			ok = false
		}
	}
	return ok
}

func (s *Service) putStaff(ctx context.Context, tx *store.Tx, orgID int64, rw row, rep *Report, now time.Time) (bool, error) {
	if !required(rw, rep, "staff_id") {
		return false, nil
	}
	v := rw.v
	id := v["staff_id"]
	name, err := s.seal(orgID, "staff.name", id, v["name"])
	if err != nil {
		return false, err
	}
	addr, err := s.seal(orgID, "staff.address", id, v["address"])
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reference_staff (org_id, staff_id, account, name_sealed, surname_hash,
		department, role, address_sealed, address_hash, building_hash, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, staff_id) DO UPDATE SET account = excluded.account, name_sealed = excluded.name_sealed,
		surname_hash = excluded.surname_hash, department = excluded.department, role = excluded.role,
		address_sealed = excluded.address_sealed, address_hash = excluded.address_hash,
		building_hash = excluded.building_hash, updated_at = excluded.updated_at`,
		orgID, id, v["account"], name, s.SurnameHash(v["name"]), v["department"], v["role"], addr,
		s.AddressHash(v["address"]), s.BuildingHash(v["address"]), now)
	if err != nil {
		return false, fmt.Errorf("reference: upsert staff line %d: %w", rw.line, err)
	}
	return true, nil
}

func (s *Service) putPatient(ctx context.Context, tx *store.Tx, orgID int64, rw row, rep *Report, now time.Time) (bool, error) {
	ok := required(rw, rep, "patient_id")
	v := rw.v
	vip, good := parseBool(v["vip"])
	if !good {
		rep.reject(rw.line, "vip", CodeBool)
		ok = false
	}
	deceased := v["deceased_on"]
	if deceased != "" {
		d, err := time.Parse(time.DateOnly, deceased)
		if err != nil {
			if t, terr := ParseTime(deceased); terr == nil {
				d, err = t, nil
			}
		}
		if err != nil {
			rep.reject(rw.line, "deceased_on", CodeDate)
			ok = false
		}
		deceased = d.Format(time.DateOnly)
	}
	if !ok {
		return false, nil
	}
	h := s.PatientHash(v["patient_id"])
	pid, err := s.seal(orgID, "patient.patient_id", h, normalizeID(v["patient_id"]))
	if err != nil {
		return false, err
	}
	name, err := s.seal(orgID, "patient.name", h, v["name"])
	if err != nil {
		return false, err
	}
	addr, err := s.seal(orgID, "patient.address", h, v["address"])
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reference_patients (org_id, patient_hash, patient_sealed, name_sealed,
		surname_hash, address_sealed, address_hash, building_hash, vip, deceased_on, staff_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, patient_hash) DO UPDATE SET patient_sealed = excluded.patient_sealed,
		name_sealed = excluded.name_sealed, surname_hash = excluded.surname_hash,
		address_sealed = excluded.address_sealed, address_hash = excluded.address_hash,
		building_hash = excluded.building_hash, vip = excluded.vip, deceased_on = excluded.deceased_on,
		staff_id = excluded.staff_id, updated_at = excluded.updated_at`,
		orgID, h, pid, name, s.SurnameHash(v["name"]), addr, s.AddressHash(v["address"]), s.BuildingHash(v["address"]),
		vip, deceased, v["staff_id"], now)
	if err != nil {
		return false, fmt.Errorf("reference: upsert patient line %d: %w", rw.line, err)
	}
	return true, nil
}

func (s *Service) putEncounter(ctx context.Context, tx *store.Tx, orgID int64, rw row, rep *Report, now time.Time) (bool, error) {
	ok := required(rw, rep, "patient_id", "start")
	v := rw.v
	if v["staff_id"] == "" && v["department"] == "" {
		rep.reject(rw.line, "staff_id", CodeNoOwner)
		ok = false
	}
	var start, end time.Time
	var err error
	if v["start"] != "" {
		if start, err = ParseTime(v["start"]); err != nil {
			rep.reject(rw.line, "start", CodeTime)
			ok = false
		}
	}
	if v["end"] != "" {
		if end, err = ParseTime(v["end"]); err != nil {
			rep.reject(rw.line, "end", CodeTime)
			ok = false
		} else if ok && end.Before(start) {
			rep.reject(rw.line, "end", CodeEndBefore)
			ok = false
		}
	}
	if !ok {
		return false, nil
	}
	var endArg any
	if !end.IsZero() {
		endArg = end.UTC()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reference_encounters (org_id, patient_hash, staff_id, department,
		start_at, end_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, patient_hash, staff_id, start_at) DO UPDATE SET department = excluded.department,
		end_at = excluded.end_at, updated_at = excluded.updated_at`,
		orgID, s.PatientHash(v["patient_id"]), v["staff_id"], v["department"], start.UTC(), endArg, now)
	if err != nil {
		return false, fmt.Errorf("reference: upsert encounter line %d: %w", rw.line, err)
	}
	return true, nil
}
