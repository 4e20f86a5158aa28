package reference

// Interner numbers strings (hashes, staff identifiers, departments) with small
// integers so that a relation is tested by comparing integers instead of 64-character
// hashes: two strings get the same Key exactly when they are equal, and the empty
// string is always NoKey, which RelateKeys never counts as a match. Build one per
// snapshot of reference data; it is not safe for concurrent use while it interns, but
// Lookup is, once nothing interns any more.
type Interner struct {
	ids map[string]Key
}

// Key is an interned string: NoKey for the empty string, else a number ≥ 1.
type Key uint32

// NoKey is the key of the empty string.
const NoKey Key = 0

// UnknownKey is what Lookup returns for a string the Interner has not seen: it equals
// no interned key, so it matches nothing.
const UnknownKey Key = ^Key(0)

// NewInterner returns an empty Interner.
func NewInterner() *Interner { return &Interner{ids: map[string]Key{}} }

// Intern returns the key of s, numbering it when new.
func (in *Interner) Intern(s string) Key {
	if s == "" {
		return NoKey
	}
	if k, ok := in.ids[s]; ok {
		return k
	}
	k := Key(len(in.ids) + 1)
	in.ids[s] = k
	return k
}

// Lookup returns the key of s without numbering it: NoKey for "", UnknownKey for a
// string never interned.
func (in *Interner) Lookup(s string) Key {
	if s == "" {
		return NoKey
	}
	if k, ok := in.ids[s]; ok {
		return k
	}
	return UnknownKey
}

// Len returns how many distinct non-empty strings were interned.
func (in *Interner) Len() int { return len(in.ids) }

// Keys are what Relate compares of a staff member or a patient, interned.
type Keys struct {
	StaffID, Surname, Address, Building Key
}

// StaffKeys interns what Relate compares of st.
func (in *Interner) StaffKeys(st Staff) Keys {
	return Keys{StaffID: in.Intern(st.StaffID), Surname: in.Intern(st.SurnameHash), Address: in.Intern(st.AddressHash),
		Building: in.Intern(st.BuildingHash)}
}

// PatientKeys interns what Relate compares of p (StaffID: the patient's own staff
// identifier, set when the patient is an employee).
func (in *Interner) PatientKeys(p Patient) Keys {
	return Keys{StaffID: in.Intern(p.StaffID), Surname: in.Intern(p.SurnameHash), Address: in.Intern(p.AddressHash),
		Building: in.Intern(p.BuildingHash)}
}

// RelateKeys returns the relation flags (Self, CoWorker, Family, Neighbour) of an
// access by the staff member of keys st to the record of the patient of keys p, both
// interned by the same Interner: Relate(st, p) without VIP and Deceased, comparing
// integers.
func RelateKeys(st, p Keys) Flags {
	same := func(a, b Key) bool { return a != NoKey && a == b }
	return relate(p.StaffID != NoKey, st.StaffID == p.StaffID, same(st.Address, p.Address),
		same(st.Surname, p.Surname), same(st.Building, p.Building))
}

// relate is the rule of Relate and RelateKeys: employee (the patient has a staff
// identifier), self (it is the reader's), and whether surname, address and building
// are set and equal.
func relate(employee, self, sameAddr, sameSurname, sameBuilding bool) Flags {
	var f Flags
	if employee {
		f.Self = self
		f.CoWorker = !f.Self
	}
	f.Family = !f.Self && sameAddr && sameSurname
	// A household member of another surname (in China a spouse keeps hers) shares the
	// building too: neighbour, the weaker flag, rather than nothing.
	f.Neighbour = !f.Self && !f.Family && sameBuilding
	return f
}
