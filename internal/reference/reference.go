// Package reference owns the reference data that explains patient-record accesses: the
// staff (staff_id, account, department, role), the patients (VIP, deceased, employee)
// and the encounters (which staff member or department treats which patient, and when)
// of each organisation. Import reads them from CSV (UTF-8 or GBK, header row) and
// upserts them by key; the lookups (StaffByAccount, PatientByHash,
// OpenOrRecentEncounters, Relate) are what the detection engine asks.
//
// # Patient data and keys
//
// Names, addresses and patient identifiers are patient data (a staff member's name and
// address too). They are stored sealed with SM4-GCM, each bound to its organisation,
// table and column as additional data, so that a value copied into another row does not
// open. What the engine matches on are keyed hashes: HMAC-SM3 of a labelled, normalized
// value — the patient identifier, the surname, the normalized address and the building
// (the address up to the building, "东城区和平里1号1-101" → "东城区和平里1号"). Equal
// hashes mean equal values; without the key, a hash cannot be tested against a guess
// (an unkeyed hash of an identifier could be, by trying every identifier).
//
// Both keys come from one 32-byte secret in the file reference.key in the data
// directory (created 0600 by internal/keyfile on first use, like notify.key): the seal
// key is HMAC-SM3(secret, "medguard reference seal") cut to 16 bytes, the hash key
// HMAC-SM3(secret, "medguard reference hash"). Keep the file with the backups of the
// database and apart from them: without it the sealed values cannot be opened, and the
// hashes no longer match new imports or events — losing it means importing the
// reference data again. Hashes are not bound to the organisation, so the events package
// can compute a patient's hash (PatientHash) before it knows which record matches.
package reference

import (
	"crypto/cipher"
	"time"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Kinds of reference data, as Import and the CLI name them.
const (
	KindStaff      = "staff"
	KindPatients   = "patients"
	KindEncounters = "encounters"
)

// Kinds lists the kinds Import accepts.
var Kinds = []string{KindStaff, KindPatients, KindEncounters}

// Options configure a Service.
type Options struct {
	// Key is the secret of reference.key (KeySize bytes); the seal and hash keys are
	// derived from it. Required.
	Key []byte
	Now func() time.Time // the clock; nil: time.Now
	// MaxBytes is the largest CSV Import reads (default 256 MiB).
	MaxBytes int64
}

// Service imports and looks up reference data.
type Service struct {
	db      *store.DB
	trail   *trail.Log
	aead    cipher.AEAD
	hashKey []byte
	opt     Options
}

// New returns a Service on db recording imports in tl. It fails when opt.Key is not a
// KeySize-byte key.
func New(db *store.DB, tl *trail.Log, opt Options) (*Service, error) {
	aead, hk, err := deriveKeys(opt.Key)
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 256 << 20
	}
	return &Service{db: db, trail: tl, aead: aead, hashKey: hk, opt: opt}, nil
}

// Staff is a staff member as the engine sees them: identifiers in clear, name and
// address as hashes only.
type Staff struct {
	OrgID        int64  `json:"org_id"`
	StaffID      string `json:"staff_id"`
	Account      string `json:"account"`
	Department   string `json:"department"`
	Role         string `json:"role"`
	SurnameHash  string `json:"-"`
	AddressHash  string `json:"-"`
	BuildingHash string `json:"-"`
}

// Patient is a patient as the engine sees them.
type Patient struct {
	OrgID        int64  `json:"org_id"`
	Hash         string `json:"-"` // PatientHash of the identifier
	VIP          bool   `json:"vip"`
	DeceasedOn   string `json:"deceased_on,omitempty"` // YYYY-MM-DD, "" when alive
	StaffID      string `json:"staff_id,omitempty"`    // set when the patient is an employee
	SurnameHash  string `json:"-"`
	AddressHash  string `json:"-"`
	BuildingHash string `json:"-"`
}

// Encounter is a stay or visit of a patient with a staff member or a department.
type Encounter struct {
	OrgID       int64      `json:"org_id"`
	PatientHash string     `json:"-"`
	StaffID     string     `json:"staff_id,omitempty"`
	Department  string     `json:"department,omitempty"`
	Start       time.Time  `json:"start"`
	End         *time.Time `json:"end,omitempty"` // nil while open
}

// Open reports whether the encounter is still open at t.
func (e Encounter) Open(t time.Time) bool { return e.End == nil || !e.End.Before(t) }
