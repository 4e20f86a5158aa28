package auth

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestNoOrganisationSeesNoUsers lists users as an admin whose organisation path is empty:
// no user is listed and no user can be created anywhere. The old scope pattern of an
// empty path was "%", which listed every user of every hospital.
func TestNoOrganisationSeesNoUsers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, generous(Options{}))
		ctx := context.Background()
		nobody := actor.Actor{UserID: e.adminA.ID, Username: "admin-a", Role: RoleAdmin, OrgID: e.hospA.ID}
		users, total, err := e.svc.Users(ctx, nobody, UserQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if total != 0 || len(users) != 0 {
			t.Errorf("Users: total %d, %d listed, want none", total, len(users))
		}
		_, err = e.svc.CreateUser(ctx, nobody, UserInput{OrgID: e.hospA.ID, Username: "eve", Role: RoleAdmin,
			DisplayName: "Eve", Password: testPassword})
		wantProblem(t, err, problem.KindNotFound, "")
	})
}
