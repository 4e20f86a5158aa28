package reference

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/medguard/medguard/internal/store"
)

// Data is the whole reference data of one organisation, as the explanation engine
// keeps it in memory.
type Data struct {
	OrgID   int64
	Version int64 // Version when it was loaded
	Staff   []Staff
	// Patients with their identifiers opened (normalized, see NormalizeID).
	Patients   []LoadedPatient
	Encounters []Encounter // by patient hash, then start
}

// LoadedPatient is a patient with the identifier opened.
type LoadedPatient struct {
	Patient
	ID string // NormalizeID of the identifier
}

// NormalizeID is how patient identifiers are compared: NFKC, no white space, upper case
// ("p001" and "P001 " are the same patient).
func NormalizeID(id string) string { return normalizeID(id) }

// bumpVersion adds one to the change counter of organisation orgID in tx.
func bumpVersion(ctx context.Context, tx *store.Tx, orgID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO reference_versions (org_id, version) VALUES (?, 1)
		ON CONFLICT (org_id) DO UPDATE SET version = reference_versions.version + 1`, orgID)
	if err != nil {
		return fmt.Errorf("reference: version: %w", err)
	}
	return nil
}

// Version returns the change counter of organisation orgID's reference data: 0 before
// the first import, one more after each import. It is one indexed read.
func (s *Service) Version(ctx context.Context, orgID int64) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM reference_versions WHERE org_id = ?`, orgID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reference: version: %w", err)
	}
	return v, nil
}

// Orgs returns the organisations that have reference data (imported at least once), in
// id order.
func (s *Service) Orgs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org_id FROM reference_versions WHERE version > 0 ORDER BY org_id`)
	if err != nil {
		return nil, fmt.Errorf("reference: organisations: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("reference: organisations: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reference: organisations: %w", err)
	}
	return out, nil
}

// Load reads the whole reference data of organisation orgID, opening the patients'
// sealed identifiers (names and addresses stay sealed: only their hashes are read). It
// is for the explanation engine, which is no actor: callers check visibility.
func (s *Service) Load(ctx context.Context, orgID int64) (*Data, error) {
	d := &Data{OrgID: orgID}
	var err error
	if d.Version, err = s.Version(ctx, orgID); err != nil {
		return nil, err
	}
	d.Staff, err = store.Collect(ctx, s.db, scanStaff, `SELECT `+staffColumns+` FROM reference_staff WHERE org_id = ? ORDER BY staff_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("reference: load staff: %w", err)
	}
	d.Patients, err = store.Collect(ctx, s.db, func(sc store.Scanner) (LoadedPatient, error) {
		var p LoadedPatient
		var sealed string
		if err := sc.Scan(&p.OrgID, &p.Hash, &sealed, &p.VIP, &p.DeceasedOn, &p.StaffID, &p.SurnameHash, &p.AddressHash, &p.BuildingHash); err != nil {
			return p, err
		}
		id, err := s.open(p.OrgID, "patient.patient_id", p.Hash, sealed)
		if err != nil {
			return p, err
		}
		p.ID = normalizeID(id)
		return p, nil
	}, `SELECT org_id, patient_hash, patient_sealed, vip, deceased_on, staff_id, surname_hash, address_hash, building_hash
		FROM reference_patients WHERE org_id = ? ORDER BY patient_hash`, orgID)
	if err != nil {
		return nil, fmt.Errorf("reference: load patients: %w", err)
	}
	d.Encounters, err = store.Collect(ctx, s.db, func(sc store.Scanner) (Encounter, error) {
		var e Encounter
		var start, end store.Time
		if err := sc.Scan(&e.OrgID, &e.PatientHash, &e.StaffID, &e.Department, &start, &end); err != nil {
			return e, err
		}
		e.Start, e.End = start.Time, end.Ptr()
		return e, nil
	}, `SELECT org_id, patient_hash, staff_id, department, start_at, end_at FROM reference_encounters
		WHERE org_id = ? ORDER BY patient_hash, start_at, staff_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("reference: load encounters: %w", err)
	}
	return d, nil
}
