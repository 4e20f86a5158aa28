package supply

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Vendor is a company that supplies software to the hospital.
type Vendor struct {
	ID           int64     `json:"id"`
	OrgID        int64     `json:"org_id"`
	OrgName      string    `json:"org_name"`
	Name         string    `json:"name"`
	USCC         string    `json:"uscc"` // unified social credit code
	ContactName  string    `json:"contact_name"`
	ContactPhone string    `json:"contact_phone"`
	ContactEmail string    `json:"contact_email"`
	Approved     bool      `json:"approved"`
	Notes        string    `json:"notes"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Filled by ListVendors and Vendor.
	Products     int `json:"products"`
	OpenFindings int `json:"open_findings"`
	Deliveries   int `json:"deliveries"`
	FailedChecks int `json:"failed_deliveries"`
}

// VendorInput is what a caller may set on a vendor.
type VendorInput struct {
	OrgID        int64  `json:"org_id"`
	Name         string `json:"name"`
	USCC         string `json:"uscc"`
	ContactName  string `json:"contact_name"`
	ContactPhone string `json:"contact_phone"`
	ContactEmail string `json:"contact_email"`
	Approved     bool   `json:"approved"`
	Notes        string `json:"notes"`
}

// Contract is a contract with a vendor.
type Contract struct {
	ID        int64     `json:"id"`
	VendorID  int64     `json:"vendor_id"`
	Title     string    `json:"title"`
	Number    string    `json:"number"`
	StartsOn  string    `json:"starts_on"`
	EndsOn    string    `json:"ends_on"`
	Notes     string    `json:"notes"`
	CreatedAt time.Time `json:"created_at"`
}

// VendorKey is a signing key or certificate fingerprint registered for a vendor; delivery
// manifests signed with it are trusted.
type VendorKey struct {
	ID          int64     `json:"id"`
	VendorID    int64     `json:"vendor_id"`
	Fingerprint string    `json:"fingerprint"`
	Label       string    `json:"label"`
	CreatedAt   time.Time `json:"created_at"`
}

// VendorDetail is a vendor with its contracts, keys, products, deliveries and findings.
type VendorDetail struct {
	Vendor     Vendor      `json:"vendor"`
	Contracts  []Contract  `json:"contracts"`
	Keys       []VendorKey `json:"keys"`
	Products   []Product   `json:"products"`
	Deliveries []Delivery  `json:"deliveries"`
}

var usccPattern = regexp.MustCompile(`^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$`)

// usccWeights and usccChars implement the check character of GB 32100-2015.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// ValidUSCC reports whether code is a unified social credit code with a correct check
// character.
func ValidUSCC(code string) bool {
	if !usccPattern.MatchString(code) {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccChars, code[i]) * usccWeights[i]
	}
	c := (31 - sum%31) % 31
	return code[17] == usccChars[c]
}

func (in *VendorInput) validate() error {
	var err error
	if in.Name, err = text("name", in.Name, 200, true); err != nil {
		return err
	}
	if in.USCC, err = text("uscc", strings.ToUpper(in.USCC), 18, false); err != nil {
		return err
	}
	if in.USCC != "" && !ValidUSCC(in.USCC) {
		return problem.Invalid("uscc", "is not a valid unified social credit code").WithMsg("error.msg.uscc")
	}
	if in.ContactName, err = text("contact_name", in.ContactName, 100, false); err != nil {
		return err
	}
	if in.ContactPhone, err = text("contact_phone", in.ContactPhone, 40, false); err != nil {
		return err
	}
	if in.ContactEmail, err = text("contact_email", in.ContactEmail, 200, false); err != nil {
		return err
	}
	if in.ContactEmail != "" {
		if addr, perr := mail.ParseAddress(in.ContactEmail); perr != nil || addr.Address != in.ContactEmail {
			return problem.Invalid("contact_email", "is not an e-mail address").WithMsg("supply.error.msg.not_email")
		}
	}
	if in.Notes, err = text("notes", in.Notes, 2000, false); err != nil {
		return err
	}
	return nil
}

const vendorColumns = `v.id, v.org_id, o.name, v.name, v.uscc, v.contact_name, v.contact_phone, v.contact_email,
	v.approved, v.notes, v.created_at, v.updated_at`

func scanVendor(sc interface{ Scan(...any) error }) (Vendor, error) {
	var v Vendor
	err := sc.Scan(&v.ID, &v.OrgID, &v.OrgName, &v.Name, &v.USCC, &v.ContactName, &v.ContactPhone, &v.ContactEmail,
		&v.Approved, &v.Notes, &v.CreatedAt, &v.UpdatedAt)
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, err
}

func duplicateName(what string) error {
	return problem.Conflict("a %s of this name already exists in this organisation", what).WithCode("duplicate_name")
}

// CreateVendor adds a vendor to organisation in.OrgID.
func (s *Service) CreateVendor(ctx context.Context, a actor.Actor, in VendorInput) (Vendor, error) {
	if err := in.validate(); err != nil {
		return Vendor{}, err
	}
	var out Vendor
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := orgFor(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		now := s.stamp()
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO vendors (org_id, name, uscc, contact_name, contact_phone, contact_email,
			approved, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.ID, in.Name, in.USCC, in.ContactName, in.ContactPhone, in.ContactEmail, in.Approved, in.Notes, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return duplicateName("vendor")
		}
		if err != nil {
			return fmt.Errorf("supply: insert vendor: %w", err)
		}
		out = Vendor{ID: id, OrgID: o.ID, OrgName: o.Name, Name: in.Name, USCC: in.USCC, ContactName: in.ContactName,
			ContactPhone: in.ContactPhone, ContactEmail: in.ContactEmail, Approved: in.Approved, Notes: in.Notes,
			CreatedAt: now, UpdatedAt: now}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "vendor.create", ObjectType: "vendor",
			ObjectID: idString(id), OrgID: o.ID, Summary: in.Name, Msg: trail.Msg("trail.summary.vendor.create", in.Name), After: out})
		return err
	})
	return out, err
}

func getVendor(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Vendor, error) {
	cond, arg := a.SeesSQL("o.path")
	v, err := scanVendor(q.QueryRowContext(ctx, `SELECT `+vendorColumns+` FROM vendors v JOIN orgs o ON o.id = v.org_id
		WHERE v.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Vendor{}, problem.NotFound("vendor")
	}
	if err != nil {
		return Vendor{}, fmt.Errorf("supply: read vendor %d: %w", id, err)
	}
	return v, nil
}

// UpdateVendor replaces the editable fields of vendor id.
func (s *Service) UpdateVendor(ctx context.Context, a actor.Actor, id int64, in VendorInput) (Vendor, error) {
	if err := in.validate(); err != nil {
		return Vendor{}, err
	}
	var out Vendor
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := getVendor(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.stamp()
		_, err = tx.ExecContext(ctx, `UPDATE vendors SET name = ?, uscc = ?, contact_name = ?, contact_phone = ?,
			contact_email = ?, approved = ?, notes = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.USCC, in.ContactName, in.ContactPhone, in.ContactEmail, in.Approved, in.Notes, now, id)
		if store.IsUniqueViolation(err) {
			return duplicateName("vendor")
		}
		if err != nil {
			return fmt.Errorf("supply: update vendor %d: %w", id, err)
		}
		out = before
		out.Name, out.USCC, out.ContactName, out.ContactPhone = in.Name, in.USCC, in.ContactName, in.ContactPhone
		out.ContactEmail, out.Approved, out.Notes, out.UpdatedAt = in.ContactEmail, in.Approved, in.Notes, now
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "vendor.update", ObjectType: "vendor",
			ObjectID: idString(id), OrgID: before.OrgID, Summary: in.Name, Msg: trail.Msg("trail.summary.vendor.update", in.Name),
			Before: before, After: out})
		return err
	})
	return out, err
}

// vendorStats fills the counters of vs in one query each.
func (s *Service) vendorStats(ctx context.Context, vs []Vendor) error {
	if len(vs) == 0 {
		return nil
	}
	idx := make(map[int64]*Vendor, len(vs))
	args := make([]any, 0, len(vs))
	for i := range vs {
		idx[vs[i].ID] = &vs[i]
		args = append(args, vs[i].ID)
	}
	in := store.Placeholders(len(args))
	now := s.stamp()
	queries := []struct {
		sql  string
		args []any
		set  func(v *Vendor, n int)
	}{
		{`SELECT vendor_id, COUNT(*) FROM products WHERE vendor_id IN (` + in + `) GROUP BY vendor_id`, args,
			func(v *Vendor, n int) { v.Products = n }},
		{`SELECT p.vendor_id, COUNT(*) FROM findings f JOIN products p ON p.id = f.product_id
			LEFT JOIN finding_decisions d ON d.product_id = f.product_id AND d.ecosystem = f.ecosystem
				AND d.pkg_name = f.pkg_name AND d.vuln_group = f.vuln_group
			WHERE p.vendor_id IN (` + in + `) AND f.fixed_in = '' AND ` + openDecision + ` GROUP BY p.vendor_id`,
			append(append([]any{}, args...), now), func(v *Vendor, n int) { v.OpenFindings = n }},
		{`SELECT vendor_id, COUNT(*) FROM deliveries WHERE vendor_id IN (` + in + `) GROUP BY vendor_id`, args,
			func(v *Vendor, n int) { v.Deliveries = n }},
		{`SELECT vendor_id, COUNT(*) FROM deliveries WHERE vendor_id IN (` + in + `) AND NOT ok GROUP BY vendor_id`, args,
			func(v *Vendor, n int) { v.FailedChecks = n }},
	}
	for _, q := range queries {
		if err := eachCount(ctx, s.db, q.sql, q.args, func(id int64, n int) {
			if v := idx[id]; v != nil {
				q.set(v, n)
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// eachCount runs a "SELECT id, COUNT(*) … GROUP BY id" query.
func eachCount(ctx context.Context, q store.Querier, query string, args []any, fn func(id int64, n int)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("supply: count: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("supply: count: %w", err)
		}
		fn(id, n)
	}
	return rows.Err()
}

// Vendors lists the vendors in a's scope, by name.
func (s *Service) Vendors(ctx context.Context, a actor.Actor) ([]Vendor, error) {
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT `+vendorColumns+` FROM vendors v JOIN orgs o ON o.id = v.org_id
		WHERE `+cond+` ORDER BY v.name, v.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("supply: list vendors: %w", err)
	}
	var out []Vendor
	for rows.Next() {
		v, err := scanVendor(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("supply: list vendors: %w", err)
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supply: list vendors: %w", err)
	}
	return out, s.vendorStats(ctx, out)
}

// Vendor returns vendor id with its contracts, keys, products and deliveries.
func (s *Service) Vendor(ctx context.Context, a actor.Actor, id int64) (VendorDetail, error) {
	v, err := getVendor(ctx, s.db, a, id)
	if err != nil {
		return VendorDetail{}, err
	}
	vs := []Vendor{v}
	if err := s.vendorStats(ctx, vs); err != nil {
		return VendorDetail{}, err
	}
	d := VendorDetail{Vendor: vs[0], Contracts: []Contract{}, Keys: []VendorKey{}}
	rows, err := s.db.QueryContext(ctx, `SELECT id, vendor_id, title, number, starts_on, ends_on, notes, created_at
		FROM vendor_contracts WHERE vendor_id = ? ORDER BY starts_on DESC, id`, id)
	if err != nil {
		return VendorDetail{}, fmt.Errorf("supply: contracts: %w", err)
	}
	for rows.Next() {
		var c Contract
		if err := rows.Scan(&c.ID, &c.VendorID, &c.Title, &c.Number, &c.StartsOn, &c.EndsOn, &c.Notes, &c.CreatedAt); err != nil {
			rows.Close()
			return VendorDetail{}, fmt.Errorf("supply: contracts: %w", err)
		}
		c.CreatedAt = c.CreatedAt.UTC()
		d.Contracts = append(d.Contracts, c)
	}
	rows.Close()
	if d.Keys, err = vendorKeys(ctx, s.db, id); err != nil {
		return VendorDetail{}, err
	}
	if d.Products, err = s.Products(ctx, a, ProductQuery{VendorID: id}); err != nil {
		return VendorDetail{}, err
	}
	if d.Deliveries, err = s.Deliveries(ctx, a, DeliveryQuery{VendorID: id}); err != nil {
		return VendorDetail{}, err
	}
	return d, nil
}

func vendorKeys(ctx context.Context, q store.Querier, vendorID int64) ([]VendorKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, vendor_id, fingerprint, label, created_at FROM vendor_keys
		WHERE vendor_id = ? ORDER BY id`, vendorID)
	if err != nil {
		return nil, fmt.Errorf("supply: vendor keys: %w", err)
	}
	defer rows.Close()
	out := []VendorKey{}
	for rows.Next() {
		var k VendorKey
		if err := rows.Scan(&k.ID, &k.VendorID, &k.Fingerprint, &k.Label, &k.CreatedAt); err != nil {
			return nil, fmt.Errorf("supply: vendor keys: %w", err)
		}
		k.CreatedAt = k.CreatedAt.UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddContract records a contract with vendor id.
func (s *Service) AddContract(ctx context.Context, a actor.Actor, vendorID int64, c Contract) (Contract, error) {
	var err error
	if c.Title, err = text("title", c.Title, 200, true); err != nil {
		return Contract{}, err
	}
	if c.Number, err = text("number", c.Number, 100, false); err != nil {
		return Contract{}, err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"starts_on", &c.StartsOn}, {"ends_on", &c.EndsOn}} {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v != "" {
			if _, perr := time.Parse("2006-01-02", *f.v); perr != nil {
				return Contract{}, problem.NotDate(f.name)
			}
		}
	}
	if c.StartsOn != "" && c.EndsOn != "" && c.EndsOn < c.StartsOn {
		return Contract{}, problem.Invalid("ends_on", "is before the start").WithMsg("supply.error.msg.ends_before_start")
	}
	if c.Notes, err = text("notes", c.Notes, 2000, false); err != nil {
		return Contract{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVendor(ctx, tx, a, vendorID)
		if err != nil {
			return err
		}
		c.VendorID, c.CreatedAt = vendorID, s.stamp()
		if err := tx.QueryRowContext(ctx, `INSERT INTO vendor_contracts (vendor_id, title, number, starts_on, ends_on, notes, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, vendorID, c.Title, c.Number, c.StartsOn, c.EndsOn, c.Notes, c.CreatedAt).Scan(&c.ID); err != nil {
			return fmt.Errorf("supply: insert contract: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "vendor.contract_add", ObjectType: "vendor",
			ObjectID: idString(vendorID), OrgID: v.OrgID, Summary: v.Name + ": " + c.Title,
			Msg: trail.Msg("trail.summary.vendor.contract_add", v.Name, c.Title), After: c})
		return err
	})
	return c, err
}

var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// AddVendorKey registers a signing fingerprint (SHA-256 hex) for vendor id.
func (s *Service) AddVendorKey(ctx context.Context, a actor.Actor, vendorID int64, fingerprint, label string) (VendorKey, error) {
	fingerprint = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(fingerprint), ":", ""))
	if !fingerprintPattern.MatchString(fingerprint) {
		return VendorKey{}, problem.Invalid("fingerprint", "must be a SHA-256 fingerprint (64 hex digits)").WithMsg("supply.error.msg.fingerprint")
	}
	label, err := text("label", label, 200, false)
	if err != nil {
		return VendorKey{}, err
	}
	k := VendorKey{VendorID: vendorID, Fingerprint: fingerprint, Label: label}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVendor(ctx, tx, a, vendorID)
		if err != nil {
			return err
		}
		k.CreatedAt = s.stamp()
		err = tx.QueryRowContext(ctx, `INSERT INTO vendor_keys (vendor_id, fingerprint, label, created_at) VALUES (?, ?, ?, ?)
			RETURNING id`, vendorID, fingerprint, label, k.CreatedAt).Scan(&k.ID)
		if store.IsUniqueViolation(err) {
			return problem.Conflict("this key is already registered for the vendor").WithCode("duplicate_key")
		}
		if err != nil {
			return fmt.Errorf("supply: insert vendor key: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "vendor.key_add", ObjectType: "vendor",
			ObjectID: idString(vendorID), OrgID: v.OrgID, Summary: v.Name + ": " + fingerprint[:16],
			Msg: trail.Msg("trail.summary.vendor.key_add", v.Name, fingerprint[:16]), After: k})
		return err
	})
	return k, err
}
