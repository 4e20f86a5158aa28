package supply

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Sources are how a software product came to the hospital.
var Sources = []string{"self_built", "outsourced", "purchased", "co_developed"}

// Product is a software product used by the hospital.
type Product struct {
	ID          int64     `json:"id"`
	OrgID       int64     `json:"org_id"`
	OrgName     string    `json:"org_name"`
	VendorID    int64     `json:"vendor_id"` // 0 when self-built without a vendor
	VendorName  string    `json:"vendor_name"`
	Name        string    `json:"name"`
	Source      string    `json:"source"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Filled by Products.
	Versions      int    `json:"versions"`
	LatestVersion string `json:"latest_version"`
}

// ProductInput is what a caller may set on a product.
type ProductInput struct {
	OrgID       int64  `json:"org_id"`
	VendorID    int64  `json:"vendor_id"`
	Name        string `json:"name"`
	Source      string `json:"source"`
	Description string `json:"description"`
}

// Version is one version of a product, with what is known about its SBOM.
type Version struct {
	ID          int64     `json:"id"`
	ProductID   int64     `json:"product_id"`
	ProductName string    `json:"product_name"`
	OrgID       int64     `json:"org_id"`
	VendorID    int64     `json:"vendor_id"`
	VendorName  string    `json:"vendor_name"`
	Version     string    `json:"version"`
	ReleasedOn  string    `json:"released_on"`
	Notes       string    `json:"notes"`
	CreatedAt   time.Time `json:"created_at"`
	SBOMID      int64     `json:"sbom_id"` // 0 when no SBOM was supplied
	Components  int       `json:"components"`
	// LicenceVerdict is the version's verdict under the licence policy: the worst of its
	// components' (denied > unknown > review > allowed); "" without an SBOM.
	LicenceVerdict string  `json:"licence_verdict"`
	AssetIDs       []int64 `json:"asset_ids"`
}

func (in *ProductInput) validate() error {
	var err error
	if in.Name, err = text("name", in.Name, 200, true); err != nil {
		return err
	}
	ok := false
	for _, s := range Sources {
		ok = ok || s == in.Source
	}
	if !ok {
		return problem.OneOf("source", "self_built", "outsourced", "purchased", "co_developed")
	}
	if in.Source != "self_built" && in.VendorID == 0 {
		return problem.Invalid("vendor_id", "is required for outsourced, purchased and co-developed software").WithMsg("supply.msg.vendor_required")
	}
	if in.Description, err = text("description", in.Description, 2000, false); err != nil {
		return err
	}
	return nil
}

const productColumns = `p.id, p.org_id, o.name, COALESCE(p.vendor_id, 0), COALESCE(v.name, ''), p.name, p.source,
	p.description, p.created_at, p.updated_at`

const fromProducts = ` FROM products p JOIN orgs o ON o.id = p.org_id LEFT JOIN vendors v ON v.id = p.vendor_id`

func scanProduct(sc interface{ Scan(...any) error }) (Product, error) {
	var p Product
	err := sc.Scan(&p.ID, &p.OrgID, &p.OrgName, &p.VendorID, &p.VendorName, &p.Name, &p.Source, &p.Description,
		&p.CreatedAt, &p.UpdatedAt)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, err
}

// checkVendor verifies that vendor id is visible to a and belongs to the product's
// organisation or one of its ancestors.
func checkVendor(ctx context.Context, q store.Querier, a actor.Actor, id int64, o org.Node) error {
	if id == 0 {
		return nil
	}
	v, err := getVendor(ctx, q, a, id)
	if err != nil {
		return problem.Invalid("vendor_id", "no such vendor").WithMsg("supply.error.msg.no_such_vendor")
	}
	var path string
	if err := q.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, v.OrgID).Scan(&path); err != nil {
		return fmt.Errorf("supply: vendor organisation: %w", err)
	}
	if len(o.Path) < len(path) || o.Path[:len(path)] != path {
		return problem.Invalid("vendor_id", "the vendor belongs to another organisation").WithMsg("supply.error.msg.vendor_other_org")
	}
	return nil
}

// CreateProduct adds a product to organisation in.OrgID.
func (s *Service) CreateProduct(ctx context.Context, a actor.Actor, in ProductInput) (Product, error) {
	if err := in.validate(); err != nil {
		return Product{}, err
	}
	var out Product
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := orgFor(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if err := checkVendor(ctx, tx, a, in.VendorID, o); err != nil {
			return err
		}
		now := s.stamp()
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO products (org_id, vendor_id, name, source, description, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, o.ID, store.NullID(in.VendorID), in.Name, in.Source, in.Description, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return duplicateName("product")
		}
		if err != nil {
			return fmt.Errorf("supply: insert product: %w", err)
		}
		if out, err = getProduct(ctx, tx, a, id); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "product.create", ObjectType: "product",
			ObjectID: idString(id), OrgID: o.ID, Summary: in.Name, Msg: trail.Msg("trail.summary.product.create", in.Name), After: out})
		return err
	})
	return out, err
}

func getProduct(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Product, error) {
	cond, arg := a.SeesSQL("o.path")
	p, err := scanProduct(q.QueryRowContext(ctx, `SELECT `+productColumns+fromProducts+` WHERE p.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, problem.NotFound("product")
	}
	if err != nil {
		return Product{}, fmt.Errorf("supply: read product %d: %w", id, err)
	}
	return p, nil
}

// Product returns product id.
func (s *Service) Product(ctx context.Context, a actor.Actor, id int64) (Product, error) {
	return getProduct(ctx, s.db, a, id)
}

// UpdateProduct replaces the editable fields of product id (its organisation stays).
func (s *Service) UpdateProduct(ctx context.Context, a actor.Actor, id int64, in ProductInput) (Product, error) {
	var out Product
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := getProduct(ctx, tx, a, id)
		if err != nil {
			return err
		}
		in.OrgID = before.OrgID
		if err := in.validate(); err != nil {
			return err
		}
		o, err := orgFor(ctx, tx, a, before.OrgID)
		if err != nil {
			return err
		}
		if err := checkVendor(ctx, tx, a, in.VendorID, o); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE products SET vendor_id = ?, name = ?, source = ?, description = ?, updated_at = ?
			WHERE id = ?`, store.NullID(in.VendorID), in.Name, in.Source, in.Description, s.stamp(), id)
		if store.IsUniqueViolation(err) {
			return duplicateName("product")
		}
		if err != nil {
			return fmt.Errorf("supply: update product %d: %w", id, err)
		}
		if out, err = getProduct(ctx, tx, a, id); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "product.update", ObjectType: "product",
			ObjectID: idString(id), OrgID: before.OrgID, Summary: in.Name, Msg: trail.Msg("trail.summary.product.update", in.Name),
			Before: before, After: out})
		return err
	})
	return out, err
}

// ProductQuery filters Products.
type ProductQuery struct {
	VendorID int64
}

// Products lists the products in a's scope, by name.
func (s *Service) Products(ctx context.Context, a actor.Actor, q ProductQuery) ([]Product, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := cond, []any{arg}
	if q.VendorID != 0 {
		where += ` AND p.vendor_id = ?`
		args = append(args, q.VendorID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+productColumns+`,
		(SELECT COUNT(*) FROM product_versions pv WHERE pv.product_id = p.id),
		COALESCE((SELECT pv.version FROM product_versions pv WHERE pv.product_id = p.id ORDER BY pv.created_at DESC, pv.id DESC LIMIT 1), '')`+
		fromProducts+` WHERE `+where+` ORDER BY p.name, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("supply: list products: %w", err)
	}
	defer rows.Close()
	out := []Product{}
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.ID, &p.OrgID, &p.OrgName, &p.VendorID, &p.VendorName, &p.Name, &p.Source, &p.Description,
			&p.CreatedAt, &p.UpdatedAt, &p.Versions, &p.LatestVersion); err != nil {
			return nil, fmt.Errorf("supply: list products: %w", err)
		}
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// VersionInput is what a caller may set on a product version.
type VersionInput struct {
	Version    string  `json:"version"`
	ReleasedOn string  `json:"released_on"`
	Notes      string  `json:"notes"`
	AssetIDs   []int64 `json:"asset_ids"`
}

// CreateVersion adds a version to product id, linked to the given assets.
func (s *Service) CreateVersion(ctx context.Context, a actor.Actor, productID int64, in VersionInput) (Version, error) {
	var err error
	if in.Version, err = text("version", in.Version, 100, true); err != nil {
		return Version{}, err
	}
	if in.ReleasedOn, err = text("released_on", in.ReleasedOn, 10, false); err != nil {
		return Version{}, err
	}
	if in.ReleasedOn != "" {
		if _, perr := time.Parse("2006-01-02", in.ReleasedOn); perr != nil {
			return Version{}, problem.NotDate("released_on")
		}
	}
	if in.Notes, err = text("notes", in.Notes, 2000, false); err != nil {
		return Version{}, err
	}
	var out Version
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := getProduct(ctx, tx, a, productID)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO product_versions (product_id, version, released_on, notes, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, productID, in.Version, in.ReleasedOn, in.Notes, s.stamp()).Scan(&id)
		if store.IsUniqueViolation(err) {
			return problem.Conflict("this version of the product already exists").WithCode("duplicate_version")
		}
		if err != nil {
			return fmt.Errorf("supply: insert version: %w", err)
		}
		owner, err := org.Visible(ctx, tx, a, p.OrgID)
		if err != nil {
			return err
		}
		if err := linkAssets(ctx, tx, a, id, owner, in.AssetIDs); err != nil {
			return err
		}
		if out, err = getVersion(ctx, tx, a, id); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "product.version_create", ObjectType: "product_version",
			ObjectID: idString(id), OrgID: p.OrgID, Summary: p.Name + " " + in.Version,
			Msg: trail.Msg("trail.summary.product.version_create", p.Name, in.Version), After: out})
		return err
	})
	return out, err
}

// linkAssets replaces the assets linked to version id, a version of a product of
// organisation owner. Every asset must be visible to a and filed under owner or a node
// below it, so that whoever sees the version also sees every asset linked to it: an
// asset of another hospital, or of a department the product's department does not
// contain, is refused even when a sees both ends.
func linkAssets(ctx context.Context, tx *store.Tx, a actor.Actor, versionID int64, owner org.Node, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM version_assets WHERE version_id = ?`, versionID); err != nil {
		return fmt.Errorf("supply: unlink assets: %w", err)
	}
	seen := map[int64]bool{}
	for i, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		// On PostgreSQL the asset's row is share-locked first, so that it cannot move to
		// another organisation (see AssetMoving) between this check and the commit, while
		// other versions may still link it; SQLite's writer holds the whole database.
		lock := ""
		if tx.Dialect() == store.Postgres {
			lock = " FOR SHARE"
		}
		var orgID int64
		err := tx.QueryRowContext(ctx, `SELECT org_id FROM assets WHERE id = ?`+lock, id).Scan(&orgID)
		var path string
		if err == nil {
			err = tx.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, orgID).Scan(&path)
		}
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(path)) {
			return problem.Invalid("asset_ids", "item %d: no such asset", i).WithMsg("supply.error.msg.no_such_asset_item", i)
		}
		if err != nil {
			return fmt.Errorf("supply: check asset: %w", err)
		}
		if !owner.Contains(path) {
			return problem.Invalid("asset_ids", "item %d: the asset does not belong to the product's organisation", i).
				WithCode("asset_other_org")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO version_assets (version_id, asset_id) VALUES (?, ?)`, versionID, id); err != nil {
			return fmt.Errorf("supply: link asset: %w", err)
		}
	}
	return nil
}

// AssetMoving refuses to move asset id to the organisation with path to while the asset
// is linked to a product version whose organisation does not contain to. The inventory
// calls it, inside its transaction, before it moves an asset.
func (s *Service) AssetMoving(ctx context.Context, tx *store.Tx, id int64, to string) error {
	rows, err := tx.QueryContext(ctx, `SELECT o.path FROM version_assets va JOIN product_versions pv ON pv.id = va.version_id
		JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id WHERE va.asset_id = ?`, id)
	if err != nil {
		return fmt.Errorf("supply: asset links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var path string
		if err := rows.Scan(&path); err != nil {
			return fmt.Errorf("supply: asset links: %w", err)
		}
		if !org.Contains(path, to) {
			return problem.Conflict("the asset runs product versions of an organisation the new one is not part of; " +
				"unlink it from them first").WithCode("asset_linked")
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("supply: asset links: %w", err)
	}
	return nil
}

// SetVersionAssets replaces the inventory assets that run version id.
func (s *Service) SetVersionAssets(ctx context.Context, a actor.Actor, versionID int64, assetIDs []int64) (Version, error) {
	var out Version
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := getVersion(ctx, tx, a, versionID)
		if err != nil {
			return err
		}
		owner, err := org.Visible(ctx, tx, a, before.OrgID)
		if err != nil {
			return err
		}
		if err := linkAssets(ctx, tx, a, versionID, owner, assetIDs); err != nil {
			return err
		}
		if out, err = getVersion(ctx, tx, a, versionID); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "product.version_assets", ObjectType: "product_version",
			ObjectID: idString(versionID), OrgID: before.OrgID, Summary: before.ProductName + " " + before.Version,
			Msg:    trail.Msg("trail.summary.product.version_assets", before.ProductName, before.Version),
			Before: before.AssetIDs, After: out.AssetIDs})
		return err
	})
	return out, err
}

const versionColumns = `pv.id, pv.product_id, p.name, p.org_id, COALESCE(p.vendor_id, 0), COALESCE(v.name, ''), pv.version,
	pv.released_on, pv.notes, pv.created_at, COALESCE(sb.id, 0), COALESCE(sb.components, 0)`

const fromVersions = ` FROM product_versions pv JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id
	LEFT JOIN vendors v ON v.id = p.vendor_id LEFT JOIN sboms sb ON sb.version_id = pv.id`

func scanVersion(sc interface{ Scan(...any) error }) (Version, error) {
	var x Version
	err := sc.Scan(&x.ID, &x.ProductID, &x.ProductName, &x.OrgID, &x.VendorID, &x.VendorName, &x.Version,
		&x.ReleasedOn, &x.Notes, &x.CreatedAt, &x.SBOMID, &x.Components)
	x.CreatedAt = x.CreatedAt.UTC()
	return x, err
}

func getVersion(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Version, error) {
	cond, arg := a.SeesSQL("o.path")
	x, err := scanVersion(q.QueryRowContext(ctx, `SELECT `+versionColumns+fromVersions+` WHERE pv.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, problem.NotFound("product version")
	}
	if err != nil {
		return Version{}, fmt.Errorf("supply: read version %d: %w", id, err)
	}
	if x.SBOMID != 0 {
		vrows, err := q.QueryContext(ctx, `SELECT DISTINCT license_verdict FROM components WHERE sbom_id = ?`, x.SBOMID)
		if err != nil {
			return Version{}, fmt.Errorf("supply: version licence verdict: %w", err)
		}
		var vs []licence.Verdict
		for vrows.Next() {
			var v string
			if err := vrows.Scan(&v); err != nil {
				vrows.Close()
				return Version{}, fmt.Errorf("supply: version licence verdict: %w", err)
			}
			vs = append(vs, licence.Verdict(v))
		}
		vrows.Close()
		if len(vs) > 0 {
			x.LicenceVerdict = string(licence.Worst(vs...))
		} else {
			x.LicenceVerdict = string(licence.VerdictAllowed)
		}
	}
	if err := versionAssets(ctx, q, a, &x); err != nil {
		return Version{}, err
	}
	return x, nil
}

// versionAssets sets x.AssetIDs. Only assets that a sees and that are filed under the
// version's organisation are listed, whatever links are stored (ones made before links
// were checked included). Version and Versions both use it, so a version's page and
// its product's list of versions agree.
func versionAssets(ctx context.Context, q store.Querier, a actor.Actor, x *Version) error {
	rows, err := q.QueryContext(ctx, `SELECT va.asset_id, ao.path, po.path FROM version_assets va
		JOIN assets x ON x.id = va.asset_id JOIN orgs ao ON ao.id = x.org_id
		JOIN orgs po ON po.id = ? WHERE va.version_id = ? ORDER BY va.asset_id`, x.OrgID, x.ID)
	if err != nil {
		return fmt.Errorf("supply: version assets: %w", err)
	}
	defer rows.Close()
	x.AssetIDs = []int64{}
	for rows.Next() {
		var aid int64
		var assetPath, ownerPath string
		if err := rows.Scan(&aid, &assetPath, &ownerPath); err != nil {
			return fmt.Errorf("supply: version assets: %w", err)
		}
		if a.Sees(assetPath) && org.Contains(ownerPath, assetPath) {
			x.AssetIDs = append(x.AssetIDs, aid)
		}
	}
	return rows.Err()
}

// Version returns product version id.
func (s *Service) Version(ctx context.Context, a actor.Actor, id int64) (Version, error) {
	return getVersion(ctx, s.db, a, id)
}

// Versions lists the versions of product id, newest first.
func (s *Service) Versions(ctx context.Context, a actor.Actor, productID int64) ([]Version, error) {
	if _, err := getProduct(ctx, s.db, a, productID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+fromVersions+` WHERE pv.product_id = ?
		ORDER BY pv.created_at DESC, pv.id DESC`, productID)
	if err != nil {
		return nil, fmt.Errorf("supply: list versions: %w", err)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		x, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("supply: list versions: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supply: list versions: %w", err)
	}
	rows.Close() // one query at a time on SQLite's single connection
	for i := range out {
		if err := versionAssets(ctx, s.db, a, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
