package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Locales lists the accepted user interface languages ("" follows the browser).
var Locales = []string{"", "en", "zh-CN"}

// UserInput is a new account.
type UserInput struct {
	OrgID       int64  `json:"org_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	Password    string `json:"password"`
	Locale      string `json:"locale"`
}

// UserUpdate is the editable part of an account. OrgID 0 and Role "" keep the current
// values.
type UserUpdate struct {
	OrgID       int64  `json:"org_id"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	Locale      string `json:"locale"`
	Disabled    bool   `json:"disabled"`
}

// UserQuery filters a user listing: Q matches username, display name or e-mail.
type UserQuery struct {
	Q       string `json:"q"`
	Role    string `json:"role"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	Offset  int    `json:"offset"` // rows to skip; when set it wins over Page
}

const userColumns = `u.id, u.org_id, o.path, o.name, u.username, u.display_name, u.email, u.role, u.locale,
	u.disabled, u.must_change_password, u.mfa_enabled, u.failed_logins, u.last_login_at,
	u.created_at, u.updated_at, u.password_hash, u.mfa_secret`

const userFrom = ` FROM users u JOIN orgs o ON o.id = u.org_id`

// userRow is a user with the secrets that never leave the package.
type userRow struct {
	User
	hash   string
	secret string
}

func scanUser(sc interface{ Scan(...any) error }) (userRow, error) {
	var r userRow
	var last sql.NullTime
	err := sc.Scan(&r.ID, &r.OrgID, &r.OrgPath, &r.OrgName, &r.Username, &r.DisplayName, &r.Email, &r.Role, &r.Locale,
		&r.Disabled, &r.MustChangePassword, &r.MFAEnabled, &r.FailedLogins, &last,
		&r.CreatedAt, &r.UpdatedAt, &r.hash, &r.secret)
	if err != nil {
		return userRow{}, err
	}
	r.LastLoginAt = timePtr(last)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

func timePtr(nt sql.NullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	t := nt.Time.UTC()
	return &t
}

// loadUser returns the user matching col = v, unscoped; store.ErrNotFound when none.
func loadUser(ctx context.Context, q store.Querier, col string, v any) (userRow, error) {
	r, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+` WHERE u.`+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return userRow{}, store.ErrNotFound
	}
	if err != nil {
		return userRow{}, fmt.Errorf("auth: load user: %w", err)
	}
	return r, nil
}

// isSystem reports whether a is the platform itself or the local CLI operator.
func isSystem(a actor.Actor) bool { return a.UserID == 0 && a.Role == "system" }

// can reports whether a holds p; the system actor holds everything.
func can(a actor.Actor, p Permission) bool { return isSystem(a) || Allowed(a.Role, p) }

// scopedUser loads user id for a: a may always see itself; anyone else needs perm
// (else Forbidden) and the user must be in a's subtree (else NotFound).
func scopedUser(ctx context.Context, q store.Querier, a actor.Actor, id int64, perm Permission) (userRow, error) {
	self := a.UserID != 0 && a.UserID == id
	if !self && !can(a, perm) {
		return userRow{}, problem.Forbidden("your role does not allow this")
	}
	r, err := loadUser(ctx, q, "id", id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !self && !a.Sees(r.OrgPath)) {
		return userRow{}, problem.NotFound("user")
	}
	return r, err
}

// NormalizeUsername lower-cases and trims name and checks it is 3-64 characters of
// [a-z0-9._-].
func NormalizeUsername(name string) (string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) < 3 || len(name) > 64 {
		return "", problem.Invalid("username", "username must be 3 to 64 characters long").WithCode("invalid_username").WithMsg("error.msg.username_length")
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", problem.Invalid("username", "username may only contain a-z, 0-9, '.', '_' and '-'").WithCode("invalid_username").WithMsg("error.msg.username_chars")
		}
	}
	return name, nil
}

func validLocale(l string) error {
	for _, v := range Locales {
		if l == v {
			return nil
		}
	}
	return problem.Invalid("locale", "locale must be empty, \"en\" or \"zh-CN\"").WithMsg("error.msg.locale")
}

func validRole(r string) error {
	if !KnownRole(r) {
		return problem.Invalid("role", "role must be one of %s", strings.Join(Roles, ", ")).WithMsg("error.msg.one_of", strings.Join(Roles, ", "))
	}
	return nil
}

// cleanText trims s and checks it is valid text of at most max bytes without control
// characters.
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", problem.Invalid(field, "%s is not valid text", field).WithMsg("error.msg.not_utf8")
	}
	if len(s) > max {
		return "", problem.Invalid(field, "%s is longer than %d bytes", field, max).WithMsg("error.msg.too_long_bytes", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", problem.Invalid(field, "%s must not contain control characters", field).WithMsg("error.msg.control_char")
		}
	}
	return s, nil
}

func validateProfile(displayName, email, locale string) (string, string, error) {
	dn, err := cleanText("display_name", displayName, 200)
	if err != nil {
		return "", "", err
	}
	em, err := cleanText("email", email, 254)
	if err != nil {
		return "", "", err
	}
	if em != "" {
		local, domain, ok := strings.Cut(em, "@")
		if !ok || local == "" || domain == "" || strings.ContainsAny(em, " \t,;<>") || strings.Contains(domain, "@") {
			return "", "", problem.Invalid("email", "email is not an e-mail address").WithMsg("error.msg.email")
		}
	}
	if err := validLocale(locale); err != nil {
		return "", "", err
	}
	return dn, em, nil
}

// CreateUser adds an account in org in.OrgID, which must be in a's scope. Accounts made
// by a signed-in administrator must change their password at first login.
func (s *Service) CreateUser(ctx context.Context, a actor.Actor, in UserInput) (User, error) {
	hash, err := s.prepareUser(a, &in)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		out, err = s.insertUser(ctx, tx, a, in, hash)
		return err
	})
	return out, err
}

// CreateUserTx is CreateUser inside the caller's transaction (used with
// ConsumeSetupToken when the first administrator is created).
func (s *Service) CreateUserTx(ctx context.Context, tx *store.Tx, a actor.Actor, in UserInput) (User, error) {
	hash, err := s.prepareUser(a, &in)
	if err != nil {
		return User{}, err
	}
	return s.insertUser(ctx, tx, a, in, hash)
}

// prepareUser checks permission and input and hashes the password (outside any
// transaction: hashing is slow on purpose).
func (s *Service) prepareUser(a actor.Actor, in *UserInput) (string, error) {
	if !can(a, PermUserManage) {
		return "", problem.Forbidden("your role does not allow managing users")
	}
	var err error
	if in.Username, err = NormalizeUsername(in.Username); err != nil {
		return "", err
	}
	if err := validRole(in.Role); err != nil {
		return "", err
	}
	if in.DisplayName, in.Email, err = validateProfile(in.DisplayName, in.Email, in.Locale); err != nil {
		return "", err
	}
	if err := ValidatePassword(in.Password, in.Username); err != nil {
		return "", err
	}
	return HashPassword(in.Password)
}

func (s *Service) insertUser(ctx context.Context, tx *store.Tx, a actor.Actor, in UserInput, hash string) (User, error) {
	if _, err := org.Visible(ctx, tx, a, in.OrgID); err != nil {
		return User{}, err
	}
	now := s.now()
	mustChange := !isSystem(a)
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO users (org_id, username, display_name, email, role, password_hash, locale,
		must_change_password, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.OrgID, in.Username, in.DisplayName, in.Email, in.Role, hash, in.Locale, mustChange, now, now, now).Scan(&id)
	if store.IsUniqueViolation(err) {
		return User{}, problem.Conflict("this username is taken").WithCode("username_taken").WithMsg("error.msg.username_taken")
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: create user: %w", err)
	}
	r, err := loadUser(ctx, tx, "id", id)
	if err != nil {
		return User{}, err
	}
	_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.create", ObjectType: "user", ObjectID: itoa(id),
		OrgID: r.OrgID, Summary: r.Username + " (" + r.Role + ")",
		Msg: trail.Msg("trail.summary.user.create", r.Username, roleWord(r.Role)), After: r.User})
	return r.User, err
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// UpdateUser changes an account's profile, org, role and disabled flag. A user may edit
// its own profile but not its own role, org or disabled flag (Forbidden); everything
// else needs user.manage.
func (s *Service) UpdateUser(ctx context.Context, a actor.Actor, id int64, in UserUpdate) (User, error) {
	self := a.UserID != 0 && a.UserID == id
	var err error
	if in.DisplayName, in.Email, err = validateProfile(in.DisplayName, in.Email, in.Locale); err != nil {
		return User{}, err
	}
	if in.Role != "" {
		if err := validRole(in.Role); err != nil {
			return User{}, err
		}
	}
	var out User
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := scopedUser(ctx, tx, a, id, PermUserManage)
		if err != nil {
			return err
		}
		if in.OrgID == 0 {
			in.OrgID = before.OrgID
		}
		if in.Role == "" {
			in.Role = before.Role
		}
		if self {
			switch {
			case in.Role != before.Role:
				return problem.Forbidden("you cannot change your own role").WithCode("own_role")
			case in.Disabled && !before.Disabled:
				return problem.Forbidden("you cannot disable your own account").WithCode("own_account")
			case in.OrgID != before.OrgID:
				return problem.Forbidden("you cannot move your own account").WithCode("own_account")
			}
		}
		if in.OrgID != before.OrgID {
			if _, err := org.Visible(ctx, tx, a, in.OrgID); err != nil {
				return err
			}
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET org_id = ?, display_name = ?, email = ?, role = ?, locale = ?,
			disabled = ?, updated_at = ? WHERE id = ?`,
			in.OrgID, in.DisplayName, in.Email, in.Role, in.Locale, in.Disabled, now, id); err != nil {
			return fmt.Errorf("auth: update user: %w", err)
		}
		if in.Disabled && !before.Disabled {
			if err := deleteSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		after, err := loadUser(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		out = after.User
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.update", ObjectType: "user", ObjectID: itoa(id),
			OrgID: after.OrgID, Summary: after.Username, Msg: trail.Msg("trail.summary.user.update", after.Username),
			Before: before.User, After: after.User})
		return err
	})
	return out, err
}

func deleteSessions(ctx context.Context, tx *store.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("auth: delete sessions: %w", err)
	}
	return nil
}

// SetPassword sets another user's password (an administrator's reset): the user must
// change it at next login, all its sessions end and all its API tokens are revoked, in
// one transaction.
func (s *Service) SetPassword(ctx context.Context, a actor.Actor, id int64, password string) error {
	return s.setPassword(ctx, a, id, password, true)
}

// SetPasswordNoChange sets a password without requiring a change at next sign-in. It is
// for scripted set-ups (the demo seeder's --admin-password), where the caller chose the
// password on purpose; people resetting someone else's password use SetPassword.
func (s *Service) SetPasswordNoChange(ctx context.Context, a actor.Actor, id int64, password string) error {
	return s.setPassword(ctx, a, id, password, false)
}

func (s *Service) setPassword(ctx context.Context, a actor.Actor, id int64, password string, mustChange bool) error {
	if !can(a, PermUserManage) {
		return problem.Forbidden("your role does not allow managing users")
	}
	u, err := scopedUser(ctx, s.db, a, id, PermUserManage)
	if err != nil {
		return err
	}
	if err := ValidatePassword(password, u.Username); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	summary := u.Username
	if !mustChange {
		summary += " (scripted)"
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := scopedUser(ctx, tx, a, id, PermUserManage)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?,
			failed_logins = 0, updated_at = ? WHERE id = ?`, hash, mustChange, now, now, id); err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		if err := deleteSessions(ctx, tx, id); err != nil {
			return err
		}
		if mustChange {
			// Whoever the reset is meant to shut out may hold a token too.
			if _, err := s.revokeTokensTx(ctx, tx, a, u.User, "password reset"); err != nil {
				return err
			}
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.password_reset", ObjectType: "user", ObjectID: itoa(id),
			OrgID: u.OrgID, Summary: summary, Msg: passwordResetMsg(u.Username, mustChange)})
		return err
	})
}

// ChangeOwnPassword changes a's own password after checking the current one; when it
// completes a forced change (after an administrator's reset), any API token the user
// still holds is revoked, as the reset would have done. A wrong
// current password is an Invalid problem on field "old_password" (code
// "bad_credentials"); attempts are rate limited like logins.
func (s *Service) ChangeOwnPassword(ctx context.Context, a actor.Actor, oldPassword, newPassword string) error {
	if a.UserID == 0 {
		return problem.Unauthorized("sign in first")
	}
	if !s.userLimits.allow("pw:"+itoa(a.UserID), s.opts.Now()) {
		return problem.TooMany("too many attempts; wait a minute").WithCode("rate_limited")
	}
	u, err := loadUser(ctx, s.db, "id", a.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.Unauthorized("sign in first")
	}
	if err != nil {
		return err
	}
	ok, err := CheckPassword(u.hash, oldPassword)
	if err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	if !ok {
		return problem.Invalid("old_password", "the current password is wrong").WithCode("bad_credentials")
	}
	if newPassword == oldPassword {
		return problem.Invalid("password", "the new password must differ from the current one").WithCode("password_reused").WithMsg("error.msg.password_reused")
	}
	if err := ValidatePassword(newPassword, u.Username); err != nil {
		return err
	}
	hash, err := HashPassword(newPassword)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?,
			updated_at = ? WHERE id = ?`, hash, false, now, now, u.ID); err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if u.MustChangePassword {
			// Completing a forced change: a token still live now predates the reset
			// (a user with a temporary password gets none), so it goes too.
			if _, err := s.revokeTokensTx(ctx, tx, a, u.User, "forced password change"); err != nil {
				return err
			}
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "user.password_change", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Summary: u.Username, Msg: trail.Msg("trail.summary.user.password_change", u.Username)})
		return err
	})
}

// DisableUser disables an account (not a's own): its sessions end and neither its
// password nor its API tokens authenticate any more.
func (s *Service) DisableUser(ctx context.Context, a actor.Actor, id int64) error {
	if a.UserID != 0 && a.UserID == id {
		return problem.Forbidden("you cannot disable your own account").WithCode("own_account")
	}
	return s.setDisabled(ctx, a, id, true)
}

// EnableUser re-enables an account (and clears a lockout left by an older version).
func (s *Service) EnableUser(ctx context.Context, a actor.Actor, id int64) error {
	return s.setDisabled(ctx, a, id, false)
}

func (s *Service) setDisabled(ctx context.Context, a actor.Actor, id int64, disabled bool) error {
	if !can(a, PermUserManage) {
		return problem.Forbidden("your role does not allow managing users")
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := scopedUser(ctx, tx, a, id, PermUserManage)
		if err != nil {
			return err
		}
		now := s.now()
		action := "user.enable"
		if disabled {
			action = "user.disable"
			_, err = tx.ExecContext(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, true, now, id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE users SET disabled = ?, failed_logins = 0, updated_at = ? WHERE id = ?`,
				false, now, id)
		}
		if err != nil {
			return fmt.Errorf("auth: %s: %w", action, err)
		}
		if disabled {
			if err := deleteSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		after := before.User
		after.Disabled, after.UpdatedAt = disabled, now
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "user", ObjectID: itoa(id),
			OrgID: before.OrgID, Summary: before.Username, Msg: enableMsg(before.Username, disabled),
			Before: before.User, After: after})
		return err
	})
}

// ResetMFA switches MFA off for a user, removing its secret and recovery codes, so that
// it can enrol again.
func (s *Service) ResetMFA(ctx context.Context, a actor.Actor, id int64) error {
	if !can(a, PermUserManage) {
		return problem.Forbidden("your role does not allow managing users")
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := scopedUser(ctx, tx, a, id, PermUserManage)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET mfa_secret = '', mfa_enabled = ?, mfa_last_step = 0, updated_at = ? WHERE id = ?`,
			false, s.now(), id); err != nil {
			return fmt.Errorf("auth: reset mfa: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("auth: reset mfa: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.mfa_reset", ObjectType: "user", ObjectID: itoa(id),
			OrgID: u.OrgID, Summary: u.Username, Msg: trail.Msg("trail.summary.user.mfa_reset", u.Username)})
		return err
	})
	return err
}

// SetLocale sets a's own user interface language ("", "en" or "zh-CN").
func (s *Service) SetLocale(ctx context.Context, a actor.Actor, locale string) error {
	if a.UserID == 0 {
		return problem.Unauthorized("sign in first")
	}
	if err := validLocale(locale); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := loadUser(ctx, tx, "id", a.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFound("user")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET locale = ?, updated_at = ? WHERE id = ?`, locale, s.now(), u.ID); err != nil {
			return fmt.Errorf("auth: set locale: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.update", ObjectType: "user", ObjectID: itoa(u.ID),
			OrgID: u.OrgID, Summary: u.Username + " locale " + strconv.Quote(locale),
			Msg: trail.Msg("trail.summary.user.locale", u.Username, strconv.Quote(locale))})
		return err
	})
}

// User returns account id: a's own, or one in a's subtree if a may read users
// (NotFound outside the subtree, Forbidden without user.read).
func (s *Service) User(ctx context.Context, a actor.Actor, id int64) (User, error) {
	r, err := scopedUser(ctx, s.db, a, id, PermUserRead)
	return r.User, err
}

// UserByName is User by username.
func (s *Service) UserByName(ctx context.Context, a actor.Actor, username string) (User, error) {
	r, err := loadUser(ctx, s.db, "username", strings.ToLower(strings.TrimSpace(username)))
	if errors.Is(err, store.ErrNotFound) {
		if !can(a, PermUserRead) {
			return User{}, problem.Forbidden("your role does not allow reading users")
		}
		return User{}, problem.NotFound("user")
	}
	if err != nil {
		return User{}, err
	}
	return s.User(ctx, a, r.ID)
}

// Users lists the accounts in a's subtree matching q, ordered by username, with the
// total number of matches. PerPage defaults to 50 and is at most 500.
func (s *Service) Users(ctx context.Context, a actor.Actor, q UserQuery) ([]User, int, error) {
	if !can(a, PermUserRead) {
		return nil, 0, problem.Forbidden("your role does not allow reading users")
	}
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage < 1 {
		q.PerPage = 50
	}
	if q.PerPage > 500 {
		q.PerPage = 500
	}
	cond, arg := a.SeesSQL("o.path")
	where := ` WHERE ` + cond
	args := []any{arg}
	if qq := strings.TrimSpace(q.Q); qq != "" {
		p := "%" + actor.EscapeLike(qq) + "%"
		where += ` AND (LOWER(u.username) LIKE LOWER(?) ESCAPE '\' OR LOWER(u.display_name) LIKE LOWER(?) ESCAPE '\' OR LOWER(u.email) LIKE LOWER(?) ESCAPE '\')`
		args = append(args, p, p, p)
	}
	if q.Role != "" {
		where += ` AND u.role = ?`
		args = append(args, q.Role)
	}
	offset := (q.Page - 1) * q.PerPage
	if q.Offset > 0 {
		offset = q.Offset
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+userFrom+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("auth: count users: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+userFrom+where+` ORDER BY u.username LIMIT ? OFFSET ?`,
		append(args, q.PerPage, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		r, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("auth: list users: %w", err)
		}
		out = append(out, r.User)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("auth: list users: %w", err)
	}
	return out, total, nil
}

// CountUsers returns the number of accounts (all of them, unscoped), for bootstrap.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("auth: count users: %w", err)
	}
	return n, nil
}
