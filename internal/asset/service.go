package asset

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// BatchSize is the number of assets written per round of statements by BulkCreate and
// Import; each call still commits all of its assets in one transaction.
const BatchSize = 500

// Service stores and queries assets, recording every change in the trail.
type Service struct {
	db    *store.DB
	trail *trail.Log
	links Links
	now   func() time.Time
}

// Links is what another module that links its records to assets offers the inventory:
// a check before an asset moves to another organisation.
type Links interface {
	// AssetMoving returns a problem when asset id may not move to the organisation
	// with materialised path to, because a record linked to it belongs to an
	// organisation that does not contain to. It runs inside the move's transaction.
	AssetMoving(ctx context.Context, tx *store.Tx, id int64, to string) error
}

// NewService returns a Service on db that records changes in tl.
func NewService(db *store.DB, tl *trail.Log) *Service {
	return &Service{db: db, trail: tl, now: time.Now}
}

// CheckLinks makes s ask l before it moves an asset to another organisation; app wiring
// calls it once, before s serves requests. It returns s.
func (s *Service) CheckLinks(l Links) *Service {
	s.links = l
	return s
}

const columns = `a.id, a.org_id, o.name, o.path, a.code, a.name, a.kind, a.subtype, a.owner, a.location, a.zone,
	a.mlps_level, a.ip, a.mac, a.vendor, a.model, a.serial, a.lifecycle, a.procured_on, a.in_service_on,
	a.retired_on, a.tags, a.notes, a.version, a.created_at, a.updated_at`

const fromAssets = ` FROM assets a JOIN orgs o ON o.id = a.org_id`

func scan(sc interface{ Scan(...any) error }) (Asset, error) {
	var x Asset
	var mlps sql.NullInt64
	var tags string
	err := sc.Scan(&x.ID, &x.OrgID, &x.OrgName, &x.OrgPath, &x.Code, &x.Name, &x.Kind, &x.Subtype, &x.Owner,
		&x.Location, &x.Zone, &mlps, &x.IP, &x.MAC, &x.Vendor, &x.Model, &x.Serial, &x.Lifecycle,
		&x.ProcuredOn, &x.InServiceOn, &x.RetiredOn, &tags, &x.Notes, &x.Version, &x.CreatedAt, &x.UpdatedAt)
	x.MLPSLevel = int(mlps.Int64)
	x.Tags = decodeTags(tags)
	x.CreatedAt, x.UpdatedAt = x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return x, err
}

// orgRef is the organisation an asset belongs to.
type orgRef struct {
	ID   int64
	Kind string
	Name string
	Code string
	Path string
}

// orgFor returns organisation id if a sees it (org.Visible) and it may hold assets.
func orgFor(ctx context.Context, q store.Querier, a actor.Actor, id int64) (orgRef, error) {
	n, err := org.Visible(ctx, q, a, id)
	if err != nil {
		return orgRef{}, err
	}
	o := orgRef{ID: n.ID, Kind: n.Kind, Name: n.Name, Code: n.Code, Path: n.Path}
	if !holdsAssets(o.Kind) {
		return orgRef{}, problem.Invalid("org_id", "assets belong to a hospital or a department, not a %s", o.Kind).WithMsg("asset.error.msg.org_kind", i18n.M("orgkind."+o.Kind))
	}
	return o, nil
}

func holdsAssets(kind string) bool { return kind == "hospital" || kind == "department" }

func nullLevel(l int) any {
	if l == 0 {
		return nil
	}
	return l
}

// assetOf builds the stored form of a validated input.
func assetOf(id int64, o orgRef, in Input, version int, created, updated time.Time) Asset {
	return Asset{
		ID: id, OrgID: o.ID, OrgName: o.Name, OrgPath: o.Path, Code: in.Code, Name: in.Name, Kind: in.Kind,
		Subtype: in.Subtype, Owner: in.Owner, Location: in.Location, Zone: in.Zone, MLPSLevel: in.MLPSLevel,
		IP: in.IP, MAC: in.MAC, Vendor: in.Vendor, Model: in.Model, Serial: in.Serial, Lifecycle: in.Lifecycle,
		ProcuredOn: in.ProcuredOn, InServiceOn: in.InServiceOn, RetiredOn: in.RetiredOn,
		Tags: decodeTags(encodeTags(in.Tags)), Notes: in.Notes, Version: version, CreatedAt: created, UpdatedAt: updated,
	}
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func duplicateCode(string) error {
	return problem.Conflict("an asset with this code already exists in this organisation").WithCode("duplicate_code")
}

// pending is a validated input waiting to be inserted into organisation o.
type pending struct {
	o  orgRef
	in Input
}

// insertChunk is the number of rows per multi-row INSERT (22 parameters each, well
// under both engines' limits).
const insertChunk = 100

const insertColumns = `INSERT INTO assets (org_id, code, name, kind, subtype, owner, location, zone, mlps_level,
	ip, mac, vendor, model, serial, lifecycle, procured_on, in_service_on, retired_on, tags, notes, search, version, created_at, updated_at) VALUES `

const insertRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`

// insert writes validated inputs, whose (organisation, code) pairs must be distinct, with
// a trail entry each, in input order. The result holds the stored assets; an entry with
// ID 0 was not written because its organisation already has an asset with that code.
func (s *Service) insert(ctx context.Context, tx *store.Tx, a actor.Actor, items []pending, summary string) ([]Asset, error) {
	out := make([]Asset, len(items))
	now := s.stamp()
	for start := 0; start < len(items); start += insertChunk {
		chunk := items[start:min(start+insertChunk, len(items))]
		var q strings.Builder
		q.WriteString(insertColumns)
		args := make([]any, 0, len(chunk)*23)
		index := make(map[string]int, len(chunk))
		for i, p := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(insertRow)
			in := p.in
			args = append(args, p.o.ID, in.Code, in.Name, in.Kind, in.Subtype, in.Owner, in.Location, in.Zone,
				nullLevel(in.MLPSLevel), in.IP, in.MAC, in.Vendor, in.Model, in.Serial, in.Lifecycle, in.ProcuredOn,
				in.InServiceOn, in.RetiredOn, encodeTags(in.Tags), in.Notes, searchText(in), now, now)
			index[idString(p.o.ID)+"\x00"+in.Code] = start + i
		}
		q.WriteString(` ON CONFLICT (org_id, code) DO NOTHING RETURNING id, org_id, code`)
		rows, err := tx.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("asset: insert: %w", err)
		}
		for rows.Next() {
			var id, orgID int64
			var code string
			if err := rows.Scan(&id, &orgID, &code); err != nil {
				rows.Close()
				return nil, fmt.Errorf("asset: insert: %w", err)
			}
			i, ok := index[idString(orgID)+"\x00"+code]
			if !ok {
				rows.Close()
				return nil, fmt.Errorf("asset: insert: unexpected row %d returned", id)
			}
			out[i] = assetOf(id, items[i].o, items[i].in, 1, now, now)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("asset: insert: %w", err)
		}
	}
	evs := make([]trail.Event, 0, len(out))
	for i, x := range out {
		if x.ID == 0 {
			continue
		}
		sum := summary
		if sum == "" {
			sum = x.Kind + " " + x.Code
		}
		evs = append(evs, trail.Event{Action: "asset.create", ObjectType: "asset",
			ObjectID: idString(x.ID), OrgID: items[i].o.ID, Summary: sum, Msg: assetMsg(summary, x.Kind, x.Code), After: x})
	}
	if _, err := s.trail.AppendBatch(ctx, tx, a, evs); err != nil {
		return nil, err
	}
	return out, nil
}

// update overwrites before with a validated input (in o) and records action in the trail.
func (s *Service) update(ctx context.Context, tx *store.Tx, a actor.Actor, action string, before Asset, o orgRef, in Input, summary string) (Asset, error) {
	if o.ID != before.OrgID || in.Code != before.Code {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets WHERE org_id = ? AND code = ? AND id <> ?`,
			o.ID, in.Code, before.ID).Scan(&n); err != nil {
			return Asset{}, fmt.Errorf("asset: check code: %w", err)
		}
		if n > 0 {
			return Asset{}, duplicateCode(in.Code)
		}
	}
	now := s.stamp()
	res, err := tx.ExecContext(ctx, `UPDATE assets SET org_id = ?, code = ?, name = ?, kind = ?, subtype = ?, owner = ?,
		location = ?, zone = ?, mlps_level = ?, ip = ?, mac = ?, vendor = ?, model = ?, serial = ?, lifecycle = ?,
		procured_on = ?, in_service_on = ?, retired_on = ?, tags = ?, notes = ?, search = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`,
		o.ID, in.Code, in.Name, in.Kind, in.Subtype, in.Owner, in.Location, in.Zone, nullLevel(in.MLPSLevel),
		in.IP, in.MAC, in.Vendor, in.Model, in.Serial, in.Lifecycle, in.ProcuredOn, in.InServiceOn, in.RetiredOn,
		encodeTags(in.Tags), in.Notes, searchText(in), now, before.ID, before.Version)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return Asset{}, duplicateCode(in.Code)
		}
		return Asset{}, fmt.Errorf("asset: update %d: %w", before.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Asset{}, fmt.Errorf("asset: update %d: %w", before.ID, err)
	} else if n != 1 {
		return Asset{}, staleVersion()
	}
	out := assetOf(before.ID, o, in, before.Version+1, before.CreatedAt, now)
	if summary == "" {
		summary = out.Kind + " " + out.Code
	}
	_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "asset",
		ObjectID: idString(before.ID), OrgID: o.ID, Summary: summary, Msg: assetMsg(summary, out.Kind, out.Code),
		Before: before, After: out})
	if err != nil {
		return Asset{}, err
	}
	return out, nil
}

func staleVersion() error {
	return problem.Conflict("the asset was changed by someone else; reload it and try again").WithCode("stale_version")
}

// Create validates in and adds it to organisation in.OrgID, which must be a hospital or
// department within a's scope.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Asset, error) {
	if err := in.Validate(); err != nil {
		return Asset{}, err
	}
	var out Asset
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := orgFor(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		xs, err := s.insert(ctx, tx, a, []pending{{o, in}}, "")
		if err != nil {
			return err
		}
		if xs[0].ID == 0 {
			return duplicateCode(in.Code)
		}
		out = xs[0]
		return nil
	})
	return out, err
}

// Get returns asset id if it is within a's scope; otherwise a not-found problem.
func (s *Service) Get(ctx context.Context, a actor.Actor, id int64) (Asset, error) {
	return get(ctx, s.db, a, id, "")
}

func get(ctx context.Context, q store.Querier, a actor.Actor, id int64, suffix string) (Asset, error) {
	x, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+fromAssets+` WHERE a.id = ?`+suffix, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(x.OrgPath)) {
		return Asset{}, problem.NotFound("asset")
	}
	if err != nil {
		return Asset{}, fmt.Errorf("asset: get %d: %w", id, err)
	}
	return x, nil
}

func lockSuffix(tx *store.Tx) string {
	if tx.Dialect() == store.Postgres {
		return " FOR UPDATE OF a"
	}
	return ""
}

// Update replaces every editable field of asset id with in. in.OrgID 0 keeps the asset's
// organisation; a non-zero in.Version must equal the stored version.
func (s *Service) Update(ctx context.Context, a actor.Actor, id int64, in Input) (Asset, error) {
	var out Asset
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := get(ctx, tx, a, id, lockSuffix(tx))
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != before.Version {
			return staleVersion()
		}
		if in.OrgID == 0 {
			in.OrgID = before.OrgID
		}
		if err := in.Validate(); err != nil {
			return err
		}
		o, err := orgFor(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if o.ID != before.OrgID && s.links != nil {
			if err := s.links.AssetMoving(ctx, tx, id, o.Path); err != nil {
				return err
			}
		}
		out, err = s.update(ctx, tx, a, "asset.update", before, o, in, "")
		return err
	})
	return out, err
}

// Retire marks asset id retired on the date on (YYYY-MM-DD; "" = today).
func (s *Service) Retire(ctx context.Context, a actor.Actor, id int64, on string) (Asset, error) {
	date, err := NormDate("retired_on", on)
	if err != nil {
		return Asset{}, err
	}
	if date == "" {
		date = s.now().Format(DateLayout)
	}
	var out Asset
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := get(ctx, tx, a, id, lockSuffix(tx))
		if err != nil {
			return err
		}
		if before.Lifecycle == LifecycleRetired {
			return problem.Conflict("the asset is already retired").WithCode("already_retired")
		}
		in := InputOf(before)
		in.Lifecycle, in.RetiredOn = LifecycleRetired, date
		if err := in.Validate(); err != nil {
			return err
		}
		o := orgRef{ID: before.OrgID, Name: before.OrgName, Path: before.OrgPath}
		out, err = s.update(ctx, tx, a, "asset.retire", before, o, in, "")
		return err
	})
	return out, err
}

// Delete removes asset id.
func (s *Service) Delete(ctx context.Context, a actor.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := get(ctx, tx, a, id, lockSuffix(tx))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM assets WHERE id = ?`, id); err != nil {
			if store.IsForeignKeyViolation(err) {
				return problem.Conflict("the asset is still referenced by other records").WithCode("asset_in_use")
			}
			return fmt.Errorf("asset: delete %d: %w", id, err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "asset.delete", ObjectType: "asset",
			ObjectID: idString(id), OrgID: before.OrgID, Summary: before.Kind + " " + before.Code,
			Msg: assetMsg("", before.Kind, before.Code), Before: before})
		return err
	})
}

// Query selects and orders assets for List and Export.
type Query struct {
	Q         string `json:"q"` // case-insensitive substring of name, code, IP, owner, vendor, model, serial or a tag
	Kind      string `json:"kind"`
	Zone      string `json:"zone"`
	Lifecycle string `json:"lifecycle"`
	Tag       string `json:"tag"` // exact tag (case-insensitive)
	MLPSLevel int    `json:"mlps_level"`
	MinMLPS   int    `json:"mlps_min"` // graded at this MLPS level or above (1–4; 0 = any)
	OrgID     int64  `json:"org_id"`   // that organisation and everything below it
	Sort      string `json:"sort"`     // see Sorts; default "name"
	Page      int    `json:"page"`     // from 1
	PerPage   int    `json:"per_page"` // default 50, at most 500
	Offset    int    `json:"offset"`   // rows to skip; when set it wins over Page
}

// Page is one page of List.
type Page struct {
	Items   []Asset `json:"items"`
	Total   int     `json:"total"`
	Page    int     `json:"page"`
	PerPage int     `json:"per_page"`
}

// Paging defaults and limits.
const (
	DefaultPerPage = 50
	MaxPerPage     = 500
)

// sorts maps each accepted Query.Sort to its ORDER BY; every order ends with the id so
// that pages never overlap or skip.
var sorts = map[string]string{
	"name":        "a.name, a.id",
	"-name":       "a.name DESC, a.id DESC",
	"code":        "a.code, a.id",
	"-code":       "a.code DESC, a.id DESC",
	"kind":        "a.kind, a.name, a.id",
	"zone":        "a.zone, a.name, a.id",
	"lifecycle":   "a.lifecycle, a.name, a.id",
	"mlps_level":  "COALESCE(a.mlps_level, 0), a.name, a.id",
	"-mlps_level": "COALESCE(a.mlps_level, 0) DESC, a.name, a.id",
	"updated_at":  "a.updated_at, a.id",
	"-updated_at": "a.updated_at DESC, a.id DESC",
	"org":         "o.name, o.id, a.name, a.id",
}

// Sorts lists the accepted values of Query.Sort.
func Sorts() []string {
	out := make([]string, 0, len(sorts))
	for k := range sorts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// where builds the scoped WHERE clause and ORDER BY for q.
func (s *Service) where(ctx context.Context, a actor.Actor, q Query) (string, []any, string, error) {
	// Scope by organisation id (an indexed IN over the subtree) rather than by joining
	// and matching paths row by row; a platform-wide actor needs no condition at all.
	var conds []string
	var args []any
	if a.OrgPath != "/" {
		// A scope that covers every organisation (the one top-level node's people)
		// needs no condition either; checking costs one look at the small orgs table.
		cond, arg := a.SeesSQL("path")
		var outside bool
		if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM orgs WHERE NOT (`+cond+`))`,
			arg).Scan(&outside); err != nil {
			return "", nil, "", fmt.Errorf("asset: scope: %w", err)
		}
		if outside {
			conds = append(conds, `a.org_id IN (SELECT id FROM orgs WHERE `+cond+`)`)
			args = append(args, arg)
		}
	}
	if q.OrgID != 0 {
		o, err := org.Visible(ctx, s.db, a, q.OrgID)
		if err != nil {
			return "", nil, "", err
		}
		cond, arg := actor.SubtreeSQL("path", o.Path)
		conds = append(conds, `a.org_id IN (SELECT id FROM orgs WHERE `+cond+`)`)
		args = append(args, arg)
	}
	enum := func(field, v string, allowed []string, col string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			return nil
		}
		nv, err := checkEnum(field, v, allowed, "")
		if err != nil {
			return err
		}
		conds = append(conds, col+` = ?`)
		args = append(args, nv)
		return nil
	}
	if err := enum("kind", q.Kind, Kinds, "a.kind"); err != nil {
		return "", nil, "", err
	}
	if err := enum("zone", q.Zone, Zones, "a.zone"); err != nil {
		return "", nil, "", err
	}
	if err := enum("lifecycle", q.Lifecycle, Lifecycles, "a.lifecycle"); err != nil {
		return "", nil, "", err
	}
	if q.MLPSLevel < 0 || q.MLPSLevel > 4 {
		return "", nil, "", problem.Invalid("mlps_level", "MLPS level must be 1 to 4").WithMsg("asset.error.msg.mlps_range")
	}
	if q.MLPSLevel > 0 {
		conds = append(conds, `a.mlps_level = ?`)
		args = append(args, q.MLPSLevel)
	}
	if q.MinMLPS < 0 || q.MinMLPS > 4 {
		return "", nil, "", problem.Invalid("mlps_min", "MLPS level must be 1 to 4").WithMsg("asset.error.msg.mlps_range")
	}
	if q.MinMLPS > 0 {
		conds = append(conds, `a.mlps_level >= ?`)
		args = append(args, q.MinMLPS)
	}
	if t := strings.TrimSpace(q.Tag); t != "" {
		if len(t) > MaxTag {
			return "", nil, "", problem.Invalid("tag", "tag is longer than %d bytes", MaxTag).WithMsg("error.msg.too_long_bytes", MaxTag)
		}
		conds = append(conds, `LOWER(a.tags) LIKE LOWER(?) ESCAPE '\'`)
		args = append(args, "%;"+actor.EscapeLike(t)+";%")
	}
	if text := strings.TrimSpace(q.Q); text != "" {
		if len(text) > 200 {
			return "", nil, "", problem.Invalid("q", "search text is longer than 200 bytes").WithMsg("error.msg.too_long_bytes", 200)
		}
		conds = append(conds, `a.search LIKE ? ESCAPE '\'`)
		args = append(args, "%"+actor.EscapeLike(strings.ToLower(text))+"%")
	}
	sortKey := strings.TrimSpace(q.Sort)
	if sortKey == "" {
		sortKey = "name"
	}
	order, ok := sorts[sortKey]
	if !ok {
		return "", nil, "", problem.Invalid("sort", "sort must be one of %s", strings.Join(Sorts(), ", ")).WithMsg("error.msg.one_of", strings.Join(Sorts(), ", "))
	}
	if len(conds) == 0 {
		return "", nil, order, nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args, order, nil
}

// List returns one page of the assets in a's scope that match q, with the total count.
func (s *Service) List(ctx context.Context, a actor.Actor, q Query) (Page, error) {
	where, args, order, err := s.where(ctx, a, q)
	if err != nil {
		return Page{}, err
	}
	p := Page{Page: q.Page, PerPage: q.PerPage, Items: []Asset{}}
	if p.Page < 1 {
		p.Page = 1
	}
	if p.Page > 1_000_000 {
		return Page{}, problem.Invalid("page", "page is out of range").WithMsg("error.msg.out_of_range")
	}
	if p.PerPage <= 0 {
		p.PerPage = DefaultPerPage
	}
	if p.PerPage > MaxPerPage {
		p.PerPage = MaxPerPage
	}
	// The count needs no join: every condition is on the assets table.
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets a`+where, args...).Scan(&p.Total); err != nil {
		return Page{}, fmt.Errorf("asset: count: %w", err)
	}
	offset := (p.Page - 1) * p.PerPage
	if q.Offset > 0 {
		offset = q.Offset
		p.Page = offset/p.PerPage + 1
	}
	if p.Total == 0 || offset >= p.Total {
		return p, nil
	}
	query := `SELECT ` + columns + fromAssets + where + ` ORDER BY ` + order +
		` LIMIT ` + strconv.Itoa(p.PerPage) + ` OFFSET ` + strconv.Itoa(offset)
	err = s.each(ctx, query, args, func(x Asset) error {
		p.Items = append(p.Items, x)
		return nil
	})
	return p, err
}

// each runs a SELECT of columns and calls fn for every asset.
func (s *Service) each(ctx context.Context, query string, args []any, fn func(Asset) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("asset: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return fmt.Errorf("asset: list: %w", err)
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("asset: list: %w", err)
	}
	return nil
}

// Count is one bar of a chart: a key and how many assets have it.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// Stats counts the assets in a scope for the dashboard.
type Stats struct {
	Total       int     `json:"total"`
	ByKind      []Count `json:"by_kind"`      // every kind, in Kinds order
	ByZone      []Count `json:"by_zone"`      // every zone, in Zones order
	ByLifecycle []Count `json:"by_lifecycle"` // every state, in Lifecycles order
	ByMLPS      []Count `json:"by_mlps"`      // "1" to "4", then "none"
	ByOrg       []Count `json:"by_org"`       // top 10 organisations by count, largest first
}

// MaxStatsOrgs is the number of organisations in Stats.ByOrg.
const MaxStatsOrgs = 10

// Stats counts the assets in a's scope by kind, zone, lifecycle, MLPS level and
// organisation, in one pass over the assets_stats index. Organisations are hospitals
// when the scope spans several hospitals and the assets' own nodes otherwise.
func (s *Service) Stats(ctx context.Context, a actor.Actor) (Stats, error) {
	cond, arg := a.SeesSQL("path")
	orgs := map[int64]orgRef{}
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, name, path FROM orgs WHERE `+cond, arg)
	if err != nil {
		return Stats{}, fmt.Errorf("asset: stats: %w", err)
	}
	hospitals := 0
	for rows.Next() {
		var o orgRef
		if err := rows.Scan(&o.ID, &o.Kind, &o.Name, &o.Path); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("asset: stats: %w", err)
		}
		orgs[o.ID] = o
		if o.Kind == "hospital" {
			hospitals++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("asset: stats: %w", err)
	}
	// rollUp names the organisation an asset of node o is counted under.
	rollUp := func(o orgRef) string {
		if hospitals > 1 {
			for _, id := range strings.Split(strings.Trim(o.Path, "/"), "/") {
				n, _ := strconv.ParseInt(id, 10, 64)
				if h, ok := orgs[n]; ok && h.Kind == "hospital" {
					return h.Name
				}
			}
		}
		return o.Name
	}

	// Grouping by the raw columns lets both engines read the groups from the
	// assets_stats index.
	rows, err = s.db.QueryContext(ctx, `SELECT a.org_id, a.kind, a.zone, a.lifecycle, a.mlps_level, COUNT(*)
		FROM assets a WHERE a.org_id IN (SELECT id FROM orgs WHERE `+cond+`)
		GROUP BY a.org_id, a.kind, a.zone, a.lifecycle, a.mlps_level`, arg)
	if err != nil {
		return Stats{}, fmt.Errorf("asset: stats: %w", err)
	}
	defer rows.Close()
	byKind, byZone, byLife, byMLPS, byOrg := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var st Stats
	for rows.Next() {
		var orgID int64
		var kind, zone, life string
		var lvl sql.NullInt64
		var n int
		if err := rows.Scan(&orgID, &kind, &zone, &life, &lvl, &n); err != nil {
			return Stats{}, fmt.Errorf("asset: stats: %w", err)
		}
		st.Total += n
		byKind[kind] += n
		byZone[zone] += n
		byLife[life] += n
		if !lvl.Valid || lvl.Int64 == 0 {
			byMLPS["none"] += n
		} else {
			byMLPS[strconv.FormatInt(lvl.Int64, 10)] += n
		}
		byOrg[rollUp(orgs[orgID])] += n
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("asset: stats: %w", err)
	}
	ordered := func(m map[string]int, keys []string) []Count {
		out := make([]Count, 0, len(keys))
		for _, k := range keys {
			out = append(out, Count{Key: k, N: m[k]})
		}
		return out
	}
	st.ByKind = ordered(byKind, Kinds)
	st.ByZone = ordered(byZone, Zones)
	st.ByLifecycle = ordered(byLife, Lifecycles)
	st.ByMLPS = ordered(byMLPS, []string{"1", "2", "3", "4", "none"})
	st.ByOrg = make([]Count, 0, len(byOrg))
	for k, n := range byOrg {
		st.ByOrg = append(st.ByOrg, Count{Key: k, N: n})
	}
	sort.Slice(st.ByOrg, func(i, j int) bool {
		if st.ByOrg[i].N != st.ByOrg[j].N {
			return st.ByOrg[i].N > st.ByOrg[j].N
		}
		return st.ByOrg[i].Key < st.ByOrg[j].Key
	})
	if len(st.ByOrg) > MaxStatsOrgs {
		st.ByOrg = st.ByOrg[:MaxStatsOrgs]
	}
	return st, nil
}

// BulkCreate validates every input, then creates them all, each with its trail entry,
// in one transaction (written in batches of BatchSize): on an error nothing is created.
// It returns the number created. An invalid input or a code already in use fails the
// call with a problem naming the input's index.
func (s *Service) BulkCreate(ctx context.Context, a actor.Actor, in []Input) (int, error) {
	orgs := map[int64]orgRef{}
	seen := make(map[string]bool, len(in))
	items := make([]pending, len(in))
	for i := range in {
		if err := in[i].Validate(); err != nil {
			return 0, itemProblem(i, err)
		}
		o, ok := orgs[in[i].OrgID]
		if !ok {
			var err error
			if o, err = orgFor(ctx, s.db, a, in[i].OrgID); err != nil {
				return 0, itemProblem(i, err)
			}
			orgs[o.ID] = o
		}
		key := idString(o.ID) + "\x00" + in[i].Code
		if seen[key] {
			return 0, itemProblem(i, duplicateCode(in[i].Code))
		}
		seen[key] = true
		items[i] = pending{o, in[i]}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		for start := 0; start < len(items); start += BatchSize {
			end := min(start+BatchSize, len(items))
			xs, err := s.insert(ctx, tx, a, items[start:end], "")
			if err != nil {
				return err
			}
			for i, x := range xs {
				if x.ID == 0 {
					return itemProblem(start+i, duplicateCode(items[start+i].in.Code))
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	created := len(items)
	if created >= bulkAnalyze {
		s.optimize(ctx)
	}
	return created, nil
}

// bulkAnalyze is the number of written rows after which the planner statistics are
// refreshed: a planner that still believes the table is small picks full scans.
const bulkAnalyze = 1000

// optimize refreshes planner statistics; failing to is not worth failing the write for.
func (s *Service) optimize(ctx context.Context) {
	_ = s.db.Optimize(ctx)
}

// itemProblem prefixes a problem's message with the index of the input at fault.
func itemProblem(i int, err error) error {
	if p, ok := problem.As(err); ok {
		q := *p
		q.Message = fmt.Sprintf("item %d: %s", i, p.Message)
		return &q
	}
	return err
}

// searchText is the lower-cased text a search matches: name, code, IP, owner, vendor,
// model, serial and tags, separated so that a match cannot span two fields.
func searchText(in Input) string {
	return strings.ToLower(strings.Join([]string{in.Name, in.Code, in.IP, in.Owner, in.Vendor, in.Model, in.Serial,
		encodeTags(in.Tags)}, " "))
}
