// Package org owns the organisation tree — province or region → hospital → department —
// and tenancy: every record belongs to a node, and an actor sees its own node and the
// nodes below it, never a sibling. Nodes carry a materialised path ("/1/4/9/") so that a
// subtree is one indexed prefix match. Visible checks one node; the same rule as an SQL
// condition for listings is actor.Actor.SeesSQL, kept in the leaf package actor so that
// trail, which org itself uses, applies the one predicate too.
package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Kinds of node, from the top of the tree down.
const (
	KindProvince   = "province"
	KindRegion     = "region"
	KindHospital   = "hospital"
	KindDepartment = "department"
)

// Kinds lists the node kinds in tree order.
var Kinds = []string{KindProvince, KindRegion, KindHospital, KindDepartment}

// allowedChildren says which kinds may hang below which.
var allowedChildren = map[string][]string{
	"":             {KindProvince, KindRegion, KindHospital},
	KindProvince:   {KindRegion, KindHospital},
	KindRegion:     {KindRegion, KindHospital},
	KindHospital:   {KindDepartment},
	KindDepartment: {KindDepartment},
}

// Node is one organisation: a supervising authority, a hospital or a department.
type Node struct {
	ID          int64     `json:"id"`
	ParentID    int64     `json:"parent_id,omitempty"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	Code        string    `json:"code"`
	Path        string    `json:"path"`
	MFARequired bool      `json:"mfa_required"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Depth is the node's depth in the tree (1 for a root).
func (n Node) Depth() int { return strings.Count(n.Path, "/") - 1 }

// Contains reports whether the node with materialised path p is n itself or lies below
// it. A link from a record of n to a record of another node is allowed only when n
// contains that node: everyone who sees n's record then sees the linked one too.
func Contains(n, p string) bool { return n != "" && strings.HasPrefix(p, n) }

// Contains reports whether the node with materialised path p is n itself or below it.
func (n Node) Contains(p string) bool { return Contains(n.Path, p) }

// Input is the editable part of a node.
type Input struct {
	ParentID    int64  `json:"parent_id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Code        string `json:"code"`
	MFARequired bool   `json:"mfa_required"`
}

// Service manages the tree.
type Service struct {
	db    *store.DB
	trail *trail.Log
}

// NewService returns a Service on db that records changes in tl.
func NewService(db *store.DB, tl *trail.Log) *Service {
	return &Service{db: db, trail: tl}
}

const columns = `id, parent_id, kind, name, code, path, mfa_required, created_at, updated_at`

func scan(sc interface{ Scan(...any) error }) (Node, error) {
	var n Node
	var parent sql.NullInt64
	err := sc.Scan(&n.ID, &parent, &n.Kind, &n.Name, &n.Code, &n.Path, &n.MFARequired, &n.CreatedAt, &n.UpdatedAt)
	n.ParentID = parent.Int64
	return n, err
}

func validate(in *Input) error {
	in.Name = strings.TrimSpace(in.Name)
	in.Code = strings.TrimSpace(in.Code)
	if in.Name == "" {
		return problem.Invalid("name", "name is required").WithMsg("error.msg.required")
	}
	if len(in.Name) > 200 {
		return problem.Invalid("name", "name is longer than 200 bytes").WithMsg("error.msg.too_long_bytes", 200)
	}
	if len(in.Code) > 64 {
		return problem.Invalid("code", "code is longer than 64 bytes").WithMsg("error.msg.too_long_bytes", 64)
	}
	for _, k := range Kinds {
		if in.Kind == k {
			return nil
		}
	}
	return problem.Invalid("kind", "kind must be one of %s", strings.Join(Kinds, ", ")).WithMsg("error.msg.one_of", strings.Join(Kinds, ", "))
}

// Create adds a node below in.ParentID (a root when 0; only platform-wide actors may
// create roots).
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.CreateTx(ctx, tx, a, in)
		return err
	})
	return out, err
}

// CreateTx is Create inside the caller's transaction (first-run setup creates the top
// organisation and its administrator together).
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, a actor.Actor, in Input) (Node, error) {
	if err := validate(&in); err != nil {
		return Node{}, err
	}
	parentKind, parentPath := "", "/"
	if in.ParentID != 0 {
		p, err := Visible(ctx, tx, a, in.ParentID)
		if err != nil {
			return Node{}, err
		}
		parentKind, parentPath = p.Kind, p.Path
	} else if a.OrgPath != "/" {
		return Node{}, problem.Forbidden("only a platform-wide account may create a top-level organisation")
	}
	if !allowed(parentKind, in.Kind) {
		if parentKind == "" {
			return Node{}, problem.Invalid("kind", "a top-level organisation must be a province, region or hospital").WithMsg("error.msg.org_top_level")
		}
		return Node{}, problem.Invalid("kind", "a %s cannot be placed below a %s", in.Kind, parentKind).
			WithMsg("error.msg.org_placement", i18n.M("orgkind."+in.Kind), i18n.M("orgkind."+parentKind))
	}
	now := time.Now().UTC()
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO orgs (parent_id, kind, name, code, path, mfa_required, created_at, updated_at)
		VALUES (?, ?, ?, ?, '', ?, ?, ?) RETURNING id`,
		store.NullID(in.ParentID), in.Kind, in.Name, in.Code, in.MFARequired, now, now).Scan(&id)
	if err != nil {
		return Node{}, fmt.Errorf("org: create: %w", err)
	}
	path := parentPath + strconv.FormatInt(id, 10) + "/"
	if _, err := tx.ExecContext(ctx, `UPDATE orgs SET path = ? WHERE id = ?`, path, id); err != nil {
		return Node{}, fmt.Errorf("org: set path: %w", err)
	}
	out := Node{ID: id, ParentID: in.ParentID, Kind: in.Kind, Name: in.Name, Code: in.Code, Path: path,
		MFARequired: in.MFARequired, CreatedAt: now, UpdatedAt: now}
	_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "org.create", ObjectType: "org",
		ObjectID: strconv.FormatInt(id, 10), OrgID: id, Summary: in.Kind + " " + in.Name,
		Msg: trail.Msg("trail.summary.org.create", kindWord(in.Kind), in.Name), After: out})
	return out, err
}

func allowed(parent, child string) bool {
	for _, k := range allowedChildren[parent] {
		if k == child {
			return true
		}
	}
	return false
}

// Get returns node id if it is within a's scope; otherwise a not-found problem.
func (s *Service) Get(ctx context.Context, a actor.Actor, id int64) (Node, error) {
	return Visible(ctx, s.db, a, id)
}

// Visible reads node id through q and returns it if a sees it. A node that does not
// exist and a node outside a's subtree both give the same not-found problem, so an actor
// cannot learn which organisations exist beyond its scope. Domain packages use it to check
// the organisation a record is filed under, inside their own transaction when q is one.
func Visible(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Node, error) {
	n, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM orgs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(n.Path)) {
		return Node{}, problem.NotFound("organisation")
	}
	if err != nil {
		return Node{}, fmt.Errorf("org: get %d: %w", id, err)
	}
	return n, nil
}

// List returns every node in a's scope in tree order.
func (s *Service) List(ctx context.Context, a actor.Actor) ([]Node, error) {
	cond, arg := a.SeesSQL("path")
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM orgs WHERE `+cond+` ORDER BY path`, arg)
	if err != nil {
		return nil, fmt.Errorf("org: list: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("org: list: %w", err)
		}
		out = append(out, n)
	}
	sortTree(out)
	return out, rows.Err()
}

// sortTree orders nodes depth-first by numeric path (text order would put /10/ before /2/).
func sortTree(ns []Node) {
	key := func(n Node) []int64 {
		var k []int64
		for _, p := range strings.Split(strings.Trim(n.Path, "/"), "/") {
			v, _ := strconv.ParseInt(p, 10, 64)
			k = append(k, v)
		}
		return k
	}
	less := func(a, b []int64) bool {
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i] != b[i] {
				return a[i] < b[i]
			}
		}
		return len(a) < len(b)
	}
	keys := make(map[int64][]int64, len(ns))
	for _, n := range ns {
		keys[n.ID] = key(n)
	}
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && less(keys[ns[j].ID], keys[ns[j-1].ID]); j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

// Update changes a node's name, code and MFA switch (not its place in the tree).
func (s *Service) Update(ctx context.Context, a actor.Actor, id int64, in Input) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := Visible(ctx, tx, a, id)
		if err != nil {
			return err
		}
		in.Kind = before.Kind
		if err := validate(&in); err != nil {
			return err
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE orgs SET name = ?, code = ?, mfa_required = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Code, in.MFARequired, now, id); err != nil {
			return fmt.Errorf("org: update: %w", err)
		}
		out = before
		out.Name, out.Code, out.MFARequired, out.UpdatedAt = in.Name, in.Code, in.MFARequired, now
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "org.update", ObjectType: "org",
			ObjectID: strconv.FormatInt(id, 10), OrgID: id, Summary: out.Name,
			Msg: trail.Msg("trail.summary.org.update", out.Name), Before: before, After: out})
		return err
	})
	return out, err
}

// Delete removes an empty node (no children, users or assets).
func (s *Service) Delete(ctx context.Context, a actor.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := Visible(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if before.Path == a.OrgPath {
			return problem.Forbidden("you cannot delete your own organisation")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM orgs WHERE id = ?`, id); err != nil {
			if store.IsForeignKeyViolation(err) {
				return problem.Conflict("the organisation still has sub-organisations, users or records").WithCode("org_not_empty")
			}
			return fmt.Errorf("org: delete: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "org.delete", ObjectType: "org",
			ObjectID: strconv.FormatInt(id, 10), OrgID: before.ParentID, Summary: before.Name,
			Msg: trail.Msg("trail.summary.org.delete", before.Name), Before: before})
		return err
	})
}

// RequiresMFA reports whether node id or any node above it has MFA switched on. It is
// asked on every signed-in request of a user without MFA, so it is one query: the
// ancestors of a node are the nodes whose path is a prefix of its path.
func (s *Service) RequiresMFA(ctx context.Context, id int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs me JOIN orgs o ON `+actor.ContainsSQL("o.path", "me.path")+`
		WHERE me.id = ? AND o.mfa_required`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("org: mfa policy: %w", err)
	}
	return n > 0, nil
}

// Count returns the number of nodes (all of them, unscoped), for bootstrap checks.
func (s *Service) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, err
}
