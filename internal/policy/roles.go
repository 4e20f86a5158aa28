package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The security roles of an organisation (安全管理机构); each has a catalogue key
// "policy.role.<id>".
const (
	RoleLeadingGroup  = "leading_group"  // 网络安全工作领导小组 (a member)
	RoleCSO           = "cso"            // 网络安全管理负责人
	RoleSystemAdmin   = "system_admin"   // 系统管理员
	RoleAuditAdmin    = "audit_admin"    // 审计管理员
	RoleSecurityAdmin = "security_admin" // 安全管理员
	RoleDataSecurity  = "data_security"  // 数据安全负责人
	RoleOther         = "other"
)

// Roles lists the roles.
var Roles = []string{RoleLeadingGroup, RoleCSO, RoleSystemAdmin, RoleAuditAdmin, RoleSecurityAdmin, RoleDataSecurity, RoleOther}

// separated are the three administrators (三员分立) no one person holds two of.
var separated = []string{RoleSystemAdmin, RoleAuditAdmin, RoleSecurityAdmin}

// Role is a holder of a security role: a user (Username) or a named person with phone.
type Role struct {
	ID               int64      `json:"id"`
	OrgID            int64      `json:"org_id"`
	Role             string     `json:"role"`
	Username         string     `json:"username"`
	Person           string     `json:"person"`
	Phone            string     `json:"phone"`
	Responsibilities string     `json:"responsibilities"`
	AppointedAt      *time.Time `json:"appointed_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Holder names who holds r: the user name, else the person.
func (r Role) Holder() string { return cmpOr(r.Username, r.Person) }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// RoleInput is what a person writes of a role holder (OrgID is ignored on update).
type RoleInput struct {
	OrgID            int64      `json:"org_id"`
	Role             string     `json:"role"`
	Username         string     `json:"username"`
	Person           string     `json:"person"`
	Phone            string     `json:"phone"`
	Responsibilities string     `json:"responsibilities"`
	AppointedAt      *time.Time `json:"appointed_at"`
}

func (in RoleInput) check() (RoleInput, error) {
	var err error
	if err := oneOf("role", in.Role, Roles); err != nil {
		return in, err
	}
	if in.Person, err = text("person", in.Person, 100, false); err != nil {
		return in, err
	}
	if in.Phone, err = text("phone", in.Phone, 40, false); err != nil {
		return in, err
	}
	if strings.Trim(in.Phone, "0123456789+-() ") != "" {
		return in, problem.Invalid("phone", "is not a phone number").WithMsg("policy.error.phone")
	}
	if in.Responsibilities, err = text("responsibilities", in.Responsibilities, 5000, false); err != nil {
		return in, err
	}
	if strings.TrimSpace(in.Username) == "" && in.Person == "" {
		return in, problem.Invalid("username", "a role is held by a user or a named person").WithMsg("policy.error.holder")
	}
	if in.AppointedAt != nil {
		t := in.AppointedAt.UTC().Truncate(time.Microsecond)
		in.AppointedAt = &t
	}
	return in, nil
}

// Separation is a person who holds two or more of the system, audit and security
// administrator roles, against the separation of the three (三员分立).
type Separation struct {
	Holder string   `json:"holder"`
	Roles  []string `json:"roles"`
}

// RoleBook is the roles of an organisation and the separation problems among them.
type RoleBook struct {
	Roles      []Role       `json:"roles"`
	Separation []Separation `json:"separation"`
}

const roleColumns = `r.id, r.org_id, r.role, r.username, r.person, r.phone, r.responsibilities, r.appointed_at, r.updated_at`

func scanRole(sc store.Scanner) (Role, error) {
	var r Role
	var appointed, updated store.Time
	if err := sc.Scan(&r.ID, &r.OrgID, &r.Role, &r.Username, &r.Person, &r.Phone, &r.Responsibilities, &appointed, &updated); err != nil {
		return r, err
	}
	r.AppointedAt, r.UpdatedAt = appointed.Ptr(), updated.Time
	return r, nil
}

// RoleBook returns the role holders of organisation orgID, in the order of Roles, and
// who holds more than one of the three administrators.
func (s *Service) RoleBook(ctx context.Context, a actor.Actor, orgID int64) (RoleBook, error) {
	o, err := org.Visible(ctx, s.db, a, orgID)
	if err != nil {
		return RoleBook{}, err
	}
	rs, err := store.Collect(ctx, s.db, scanRole, `SELECT `+roleColumns+` FROM compliance_roles r WHERE r.org_id = ? ORDER BY r.id`, o.ID)
	if err != nil {
		return RoleBook{}, fmt.Errorf("policy: roles: %w", err)
	}
	slices.SortStableFunc(rs, func(x, y Role) int { return slices.Index(Roles, x.Role) - slices.Index(Roles, y.Role) })
	book := RoleBook{Roles: rs, Separation: []Separation{}}
	if book.Roles == nil {
		book.Roles = []Role{}
	}
	held := map[string][]string{}
	var holders []string
	for _, r := range rs {
		if !slices.Contains(separated, r.Role) {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(r.Holder()))
		if _, ok := held[h]; !ok {
			holders = append(holders, h)
		}
		if !slices.Contains(held[h], r.Role) {
			held[h] = append(held[h], r.Role)
		}
	}
	for _, h := range holders {
		if len(held[h]) > 1 {
			book.Separation = append(book.Separation, Separation{Holder: h, Roles: held[h]})
		}
	}
	return book, nil
}

// getRole reads role holder id as a sees it.
func (s *Service) getRole(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Role, string, error) {
	cond, arg := a.SeesSQL("o.path")
	var path string
	r, err := scanRole(scanAlso{q.QueryRowContext(ctx, `SELECT `+roleColumns+`, o.path FROM compliance_roles r JOIN orgs o ON o.id = r.org_id
		WHERE r.id = ? AND `+cond, id, arg), &path})
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, "", problem.NotFound("role")
	}
	if err != nil {
		return Role{}, "", fmt.Errorf("policy: role %d: %w", id, err)
	}
	return r, path, nil
}

// scanAlso scans the columns a scan function knows and then extra ones.
type scanAlso struct {
	sc    store.Scanner
	extra *string
}

func (s scanAlso) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.extra)...) }

func (s *Service) recordRole(ctx context.Context, tx *store.Tx, a actor.Actor, r Role, action, verb string, after any) error {
	_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "compliance_role", ObjectID: itoa(r.ID), OrgID: r.OrgID,
		Summary: fmt.Sprintf("role %s %s: %s", r.Role, verb, r.Holder()),
		Msg:     trail.Msg("trail.summary."+action, i18n.M("policy.role."+r.Role), r.Holder()), After: after})
	return err
}

// SaveRole appoints a holder of a role (id 0) or rewrites holder id.
func (s *Service) SaveRole(ctx context.Context, a actor.Actor, id int64, in RoleInput) (Role, error) {
	in, err := in.check()
	if err != nil {
		return Role{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var path string
		orgID := in.OrgID
		if id != 0 {
			r, p, err := s.getRole(ctx, tx, a, id)
			if err != nil {
				return err
			}
			path, orgID = p, r.OrgID
		} else {
			o, err := org.Visible(ctx, tx, a, in.OrgID)
			if err != nil {
				return err
			}
			path = o.Path
		}
		if in.Username, err = userOf(ctx, tx, a, "username", in.Username, path, false); err != nil {
			return err
		}
		now := s.now()
		action := "policy.role_update"
		if id == 0 {
			action = "policy.role_appoint"
			if err := tx.QueryRowContext(ctx, `INSERT INTO compliance_roles (org_id, role, username, person, phone, responsibilities,
				appointed_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				orgID, in.Role, in.Username, in.Person, in.Phone, in.Responsibilities, store.NullTime(in.AppointedAt), a.Username, now, now).Scan(&id); err != nil {
				return fmt.Errorf("policy: role: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE compliance_roles SET role = ?, username = ?, person = ?, phone = ?, responsibilities = ?,
			appointed_at = ?, updated_at = ? WHERE id = ?`, in.Role, in.Username, in.Person, in.Phone, in.Responsibilities,
			store.NullTime(in.AppointedAt), now, id); err != nil {
			return fmt.Errorf("policy: role: %w", err)
		}
		return s.recordRole(ctx, tx, a, Role{ID: id, OrgID: orgID, Role: in.Role, Username: in.Username, Person: in.Person}, action, "appointed", in)
	})
	if err != nil {
		return Role{}, err
	}
	r, _, err := s.getRole(ctx, s.db, a, id)
	return r, err
}

// Role returns role holder id as a sees it.
func (s *Service) Role(ctx context.Context, a actor.Actor, id int64) (Role, error) {
	r, _, err := s.getRole(ctx, s.db, a, id)
	return r, err
}

// RemoveRole ends holder id's appointment.
func (s *Service) RemoveRole(ctx context.Context, a actor.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		r, _, err := s.getRole(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM compliance_roles WHERE id = ?`, id); err != nil {
			return fmt.Errorf("policy: role: %w", err)
		}
		return s.recordRole(ctx, tx, a, r, "policy.role_remove", "removed", r)
	})
}
