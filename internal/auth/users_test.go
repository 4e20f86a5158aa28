package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestCreateUserValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		good := UserInput{OrgID: e.hospA.ID, Username: "Dr.Wang", DisplayName: "王医生", Email: "wang@a.example",
			Role: RoleSecurity, Password: testPassword, Locale: "zh-CN"}
		u, err := e.svc.CreateUser(ctx, e.adminA.Actor(""), good)
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "dr.wang" || u.OrgPath != e.hospA.Path || u.OrgName != "A" || !u.MustChangePassword || u.Locale != "zh-CN" {
			t.Fatalf("created %+v", u)
		}
		tests := []struct {
			name  string
			actor actor.Actor
			edit  func(*UserInput)
			kind  problem.Kind
			code  string
		}{
			{"duplicate username, other case", e.adminA.Actor(""), func(in *UserInput) { in.Username = "DR.WANG" }, problem.KindConflict, "username_taken"},
			{"short username", e.adminA.Actor(""), func(in *UserInput) { in.Username = "ab" }, problem.KindInvalid, "invalid_username"},
			{"long username", e.adminA.Actor(""), func(in *UserInput) { in.Username = strings.Repeat("a", 65) }, problem.KindInvalid, "invalid_username"},
			{"username with space", e.adminA.Actor(""), func(in *UserInput) { in.Username = "dr wang" }, problem.KindInvalid, "invalid_username"},
			{"username with unicode", e.adminA.Actor(""), func(in *UserInput) { in.Username = "王医生" }, problem.KindInvalid, "invalid_username"},
			{"unknown role", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.Role = "superuser" }, problem.KindInvalid, ""},
			{"system role", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.Role = "system" }, problem.KindInvalid, ""},
			{"weak password", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.Password = "short" }, problem.KindInvalid, "weak_password"},
			{"password contains username", e.adminA.Actor(""), func(in *UserInput) { in.Username = "horse"; in.Password = "Big-HORSE-99-x" }, problem.KindInvalid, "weak_password"},
			{"bad locale", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.Locale = "fr" }, problem.KindInvalid, ""},
			{"bad email", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.Email = "not-an-address" }, problem.KindInvalid, ""},
			{"control char in name", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.DisplayName = "a\x00b" }, problem.KindInvalid, ""},
			{"org of another hospital", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.OrgID = e.hospB.ID }, problem.KindNotFound, ""},
			{"org that does not exist", e.adminA.Actor(""), func(in *UserInput) { in.Username = "x.one"; in.OrgID = 9999 }, problem.KindNotFound, ""},
			{"role without user.manage", u.Actor(""), func(in *UserInput) { in.Username = "x.one" }, problem.KindForbidden, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := good
				tt.edit(&in)
				_, err := e.svc.CreateUser(ctx, tt.actor, in)
				wantProblem(t, err, tt.kind, tt.code)
			})
		}
		if n, err := e.svc.CountUsers(ctx); err != nil || n != 4 {
			t.Fatalf("CountUsers = %d, %v; want 4 (rejected inputs created nothing)", n, err)
		}
	})
}

func TestUserScoping(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		aud := e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "audit.a", RoleAuditor)
		opsA := e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "ops.a", RoleITOps)
		opsB := e.mkUser(t, e.adminB.Actor(""), e.hospB.ID, "ops.b", RoleITOps)
		adminA := e.adminA.Actor("")

		// Another hospital's user is not found, for every operation.
		_, err := e.svc.User(ctx, adminA, opsB.ID)
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = e.svc.UserByName(ctx, adminA, "ops.b")
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = e.svc.UpdateUser(ctx, adminA, opsB.ID, UserUpdate{DisplayName: "x"})
		wantProblem(t, err, problem.KindNotFound, "")
		wantProblem(t, e.svc.DisableUser(ctx, adminA, opsB.ID), problem.KindNotFound, "")
		wantProblem(t, e.svc.SetPassword(ctx, adminA, opsB.ID, "Another-Good-Pass-7"), problem.KindNotFound, "")
		_, err = e.svc.UpdateUser(ctx, adminA, opsA.ID, UserUpdate{OrgID: e.hospB.ID})
		wantProblem(t, err, problem.KindNotFound, "")
		// ...and an unknown id looks the same.
		_, err = e.svc.User(ctx, adminA, 424242)
		wantProblem(t, err, problem.KindNotFound, "")

		users, total, err := e.svc.Users(ctx, adminA, UserQuery{})
		if err != nil || total != 3 || len(users) != 3 {
			t.Fatalf("Users(adminA) = %d/%d, %v", len(users), total, err)
		}
		for i, want := range []string{"admin-a", "audit.a", "ops.a"} {
			if users[i].Username != want {
				t.Fatalf("Users(adminA)[%d] = %s, want %s (ordered by username)", i, users[i].Username, want)
			}
		}
		// The region admin sees both hospitals; search and role filters; paging.
		_, total, err = e.svc.Users(ctx, e.root.Actor(""), UserQuery{})
		if err != nil || total != 6 {
			t.Fatalf("Users(root) total = %d, %v", total, err)
		}
		users, total, err = e.svc.Users(ctx, e.root.Actor(""), UserQuery{Q: "OPS", Role: RoleITOps, PerPage: 1, Page: 2})
		if err != nil || total != 2 || len(users) != 1 || users[0].Username != "ops.b" {
			t.Fatalf("Users(root, ops, page 2) = %v/%d, %v", users, total, err)
		}
		if _, total, _ := e.svc.Users(ctx, e.root.Actor(""), UserQuery{Q: "%"}); total != 0 {
			t.Fatalf("search for %% matched %d users: LIKE wildcards not escaped", total)
		}

		// Readers: auditors read users in scope; it_ops only themselves.
		if _, err := e.svc.User(ctx, aud.Actor(""), opsA.ID); err != nil {
			t.Fatalf("auditor reads a user: %v", err)
		}
		_, err = e.svc.User(ctx, opsA.Actor(""), aud.ID)
		wantProblem(t, err, problem.KindForbidden, "")
		if got, err := e.svc.User(ctx, opsA.Actor(""), opsA.ID); err != nil || got.ID != opsA.ID {
			t.Fatalf("self read: %v", err)
		}
		_, _, err = e.svc.Users(ctx, opsA.Actor(""), UserQuery{})
		wantProblem(t, err, problem.KindForbidden, "")
		_, err = e.svc.UpdateUser(ctx, aud.Actor(""), opsA.ID, UserUpdate{DisplayName: "x"})
		wantProblem(t, err, problem.KindForbidden, "")
		wantProblem(t, e.svc.DisableUser(ctx, aud.Actor(""), opsA.ID), problem.KindForbidden, "")
	})
}

func TestUpdateUserRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		ops := e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "ops.a", RoleITOps)
		adminA := e.adminA.Actor("")

		// Self: profile yes; own role, own disabling, own org no.
		got, err := e.svc.UpdateUser(ctx, ops.Actor(""), ops.ID, UserUpdate{DisplayName: " Sun Ops ", Email: "sun@a.example", Locale: "en"})
		if err != nil || got.DisplayName != "Sun Ops" || got.Role != RoleITOps || got.OrgID != e.hospA.ID {
			t.Fatalf("self profile update = %+v, %v", got, err)
		}
		_, err = e.svc.UpdateUser(ctx, ops.Actor(""), ops.ID, UserUpdate{Role: RoleAdmin})
		wantProblem(t, err, problem.KindForbidden, "own_role")
		_, err = e.svc.UpdateUser(ctx, adminA, e.adminA.ID, UserUpdate{Role: RoleAuditor})
		wantProblem(t, err, problem.KindForbidden, "own_role")
		_, err = e.svc.UpdateUser(ctx, adminA, e.adminA.ID, UserUpdate{Disabled: true})
		wantProblem(t, err, problem.KindForbidden, "own_account")
		wantProblem(t, e.svc.DisableUser(ctx, adminA, e.adminA.ID), problem.KindForbidden, "own_account")

		// Admin: role and disabled flag of others.
		res, err := e.svc.Login(ctx, "ops.a", testPassword, "", "")
		mustNotErr(t, err)
		got, err = e.svc.UpdateUser(ctx, adminA, ops.ID, UserUpdate{DisplayName: "Sun", Role: RoleSecurity, Disabled: true})
		if err != nil || got.Role != RoleSecurity || !got.Disabled || got.Email != "" {
			t.Fatalf("admin update = %+v, %v", got, err)
		}
		if _, _, err := e.svc.Session(ctx, res.Token); err == nil {
			t.Fatal("session survived disabling through UpdateUser")
		}
		_, err = e.svc.UpdateUser(ctx, adminA, ops.ID, UserUpdate{Role: "owner"})
		wantProblem(t, err, problem.KindInvalid, "")
		mustNotErr(t, e.svc.EnableUser(ctx, adminA, ops.ID))

		// Admin reset: must change at next login, sessions end, old password dead.
		res, err = e.svc.Login(ctx, "ops.a", testPassword, "", "")
		mustNotErr(t, err)
		wantProblem(t, e.svc.SetPassword(ctx, adminA, ops.ID, "weak"), problem.KindInvalid, "weak_password")
		mustNotErr(t, e.svc.SetPassword(ctx, adminA, ops.ID, "Reset-By-Admin-42"))
		if _, _, err := e.svc.Session(ctx, res.Token); err == nil {
			t.Fatal("session survived a password reset")
		}
		_, err = e.svc.Login(ctx, "ops.a", testPassword, "", "")
		wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		res, err = e.svc.Login(ctx, "ops.a", "Reset-By-Admin-42", "", "")
		if err != nil || !res.User.MustChangePassword {
			t.Fatalf("login after reset: %+v, %v", res.User, err)
		}
		wantProblem(t, e.svc.SetPassword(ctx, res.User.Actor(""), e.adminA.ID, "Hijack-Admin-Pass-1"), problem.KindForbidden, "")

		// Own change: old password checked, must differ, policy applies.
		me := res.User.Actor("")
		wantProblem(t, e.svc.ChangeOwnPassword(ctx, me, "wrong", "Brand-New-Pass-77"), problem.KindInvalid, "bad_credentials")
		wantProblem(t, e.svc.ChangeOwnPassword(ctx, me, "Reset-By-Admin-42", "Reset-By-Admin-42"), problem.KindInvalid, "password_reused")
		wantProblem(t, e.svc.ChangeOwnPassword(ctx, me, "Reset-By-Admin-42", "ops.a-Pass-777"), problem.KindInvalid, "weak_password")
		mustNotErr(t, e.svc.ChangeOwnPassword(ctx, me, "Reset-By-Admin-42", "Brand-New-Pass-77"))
		res, err = e.svc.Login(ctx, "ops.a", "Brand-New-Pass-77", "", "")
		if err != nil || res.User.MustChangePassword {
			t.Fatalf("login after own change: %+v, %v", res.User, err)
		}

		// Locale.
		wantProblem(t, e.svc.SetLocale(ctx, me, "de"), problem.KindInvalid, "")
		mustNotErr(t, e.svc.SetLocale(ctx, me, "zh-CN"))
		if u, _ := e.svc.User(ctx, me, ops.ID); u.Locale != "zh-CN" {
			t.Fatalf("locale = %q", u.Locale)
		}

		for _, pw := range []string{testPassword, "Reset-By-Admin-42", "Brand-New-Pass-77"} {
			if dbContains(t, db, "trail", trailTextColumns, pw) {
				t.Fatal("a password reached the trail")
			}
		}
		acts := trailActions(t, db)
		for _, a := range []string{"user.create", "user.update", "user.password_reset", "user.password_change", "user.enable", "auth.login"} {
			if acts[a] == 0 {
				t.Errorf("no %s in the trail: %v", a, acts)
			}
		}
	})
}

func FuzzNormalizeUsername(f *testing.F) {
	f.Add("Dr.Wang")
	f.Add("  a_b-c.d ")
	f.Add("王医生")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := NormalizeUsername(s)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("error %v is not a problem", err)
			}
			return
		}
		if len(u) < 3 || len(u) > 64 || strings.Trim(u, "abcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
			t.Fatalf("accepted %q as %q", s, u)
		}
	})
}
