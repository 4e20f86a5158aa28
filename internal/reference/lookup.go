package reference

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
)

// ErrNotFound: no such staff member or patient in the organisation.
var ErrNotFound = errors.New("reference: not found")

const staffColumns = `org_id, staff_id, account, department, role, surname_hash, address_hash, building_hash`

func scanStaff(sc store.Scanner) (Staff, error) {
	var st Staff
	err := sc.Scan(&st.OrgID, &st.StaffID, &st.Account, &st.Department, &st.Role, &st.SurnameHash, &st.AddressHash, &st.BuildingHash)
	return st, err
}

func (s *Service) oneStaff(ctx context.Context, where string, args ...any) (Staff, error) {
	st, err := scanStaff(s.db.QueryRowContext(ctx, `SELECT `+staffColumns+` FROM reference_staff WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, ErrNotFound
	}
	if err != nil {
		return Staff{}, fmt.Errorf("reference: staff: %w", err)
	}
	return st, nil
}

// StaffByAccount returns the staff member of organisation orgID who uses account.
func (s *Service) StaffByAccount(ctx context.Context, orgID int64, account string) (Staff, error) {
	if account == "" {
		return Staff{}, ErrNotFound
	}
	return s.oneStaff(ctx, `org_id = ? AND account = ? ORDER BY staff_id LIMIT 1`, orgID, account)
}

// StaffByID returns the staff member staffID of organisation orgID.
func (s *Service) StaffByID(ctx context.Context, orgID int64, staffID string) (Staff, error) {
	return s.oneStaff(ctx, `org_id = ? AND staff_id = ?`, orgID, staffID)
}

// PatientByHash returns the patient of organisation orgID whose identifier has the
// keyed hash h (PatientHash).
func (s *Service) PatientByHash(ctx context.Context, orgID int64, h string) (Patient, error) {
	var p Patient
	err := s.db.QueryRowContext(ctx, `SELECT org_id, patient_hash, vip, deceased_on, staff_id, surname_hash,
		address_hash, building_hash FROM reference_patients WHERE org_id = ? AND patient_hash = ?`, orgID, h).
		Scan(&p.OrgID, &p.Hash, &p.VIP, &p.DeceasedOn, &p.StaffID, &p.SurnameHash, &p.AddressHash, &p.BuildingHash)
	if errors.Is(err, sql.ErrNoRows) {
		return Patient{}, ErrNotFound
	}
	if err != nil {
		return Patient{}, fmt.Errorf("reference: patient: %w", err)
	}
	return p, nil
}

// PatientID opens the sealed identifier of a patient (for a report the patient asked
// for; never for logs).
func (s *Service) PatientID(ctx context.Context, orgID int64, h string) (string, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, `SELECT patient_sealed FROM reference_patients WHERE org_id = ? AND patient_hash = ?`, orgID, h).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("reference: patient: %w", err)
	}
	return s.open(orgID, "patient.patient_id", h, sealed)
}

// OpenOrRecentEncounters returns the encounters of the patient with hash patientHash in
// organisation orgID, with the staff member staffID or the department, that had started
// by at and were open at at or ended at most window before it; most recent start first.
// An empty staffID or department matches nothing on its own.
func (s *Service) OpenOrRecentEncounters(ctx context.Context, orgID int64, patientHash, staffID, department string, at time.Time, window time.Duration) ([]Encounter, error) {
	if patientHash == "" || (staffID == "" && department == "") {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT org_id, patient_hash, staff_id, department, start_at, end_at
		FROM reference_encounters
		WHERE org_id = ? AND patient_hash = ? AND ((staff_id <> '' AND staff_id = ?) OR (department <> '' AND department = ?))
		AND start_at <= ? AND (end_at IS NULL OR end_at >= ?)
		ORDER BY start_at DESC`, orgID, patientHash, staffID, department, at.UTC(), at.Add(-window).UTC())
	if err != nil {
		return nil, fmt.Errorf("reference: encounters: %w", err)
	}
	defer rows.Close()
	var out []Encounter
	for rows.Next() {
		var e Encounter
		var start, end store.Time
		if err := rows.Scan(&e.OrgID, &e.PatientHash, &e.StaffID, &e.Department, &start, &end); err != nil {
			return nil, fmt.Errorf("reference: encounters: %w", err)
		}
		e.Start, e.End = start.Time, end.Ptr()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reference: encounters: %w", err)
	}
	return out, nil
}

// Flags are the relations between a staff member and a patient that flag an access.
type Flags struct {
	Self      bool `json:"self,omitempty"`      // the patient is the staff member
	CoWorker  bool `json:"coworker,omitempty"`  // the patient is (another) employee
	Family    bool `json:"family,omitempty"`    // same surname and same address
	Neighbour bool `json:"neighbour,omitempty"` // same building (or same address, other surname), not family
	VIP       bool `json:"vip,omitempty"`
	Deceased  bool `json:"deceased,omitempty"`
}

// Relate returns the flags of an access by st to p's record. RelateKeys is the same
// rule over interned keys, for callers that relate many accesses.
func Relate(st Staff, p Patient) Flags {
	same := func(a, b string) bool { return a != "" && a == b }
	f := relate(p.StaffID != "", p.StaffID == st.StaffID, same(st.AddressHash, p.AddressHash),
		same(st.SurnameHash, p.SurnameHash), same(st.BuildingHash, p.BuildingHash))
	f.VIP, f.Deceased = p.VIP, p.DeceasedOn != ""
	return f
}

// Summary counts an organisation's reference data.
type Summary struct {
	OrgID          int64 `json:"org_id"`
	Staff          int   `json:"staff"`
	Patients       int   `json:"patients"`
	Encounters     int   `json:"encounters"`
	OpenEncounters int   `json:"open_encounters"`
}

// Summary counts the reference data of organisation orgID, which a must see.
func (s *Service) Summary(ctx context.Context, a actor.Actor, orgID int64) (Summary, error) {
	out := Summary{OrgID: orgID}
	if _, err := org.Visible(ctx, s.db, a, orgID); err != nil {
		return out, err
	}
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM reference_staff WHERE org_id = ?),
		(SELECT COUNT(*) FROM reference_patients WHERE org_id = ?),
		(SELECT COUNT(*) FROM reference_encounters WHERE org_id = ?),
		(SELECT COUNT(*) FROM reference_encounters WHERE org_id = ? AND end_at IS NULL)`,
		orgID, orgID, orgID, orgID).Scan(&out.Staff, &out.Patients, &out.Encounters, &out.OpenEncounters)
	if err != nil {
		return out, fmt.Errorf("reference: summary: %w", err)
	}
	return out, nil
}
