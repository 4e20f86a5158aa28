package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// testPassword passes the policy for every test username.
const testPassword = "Correct-Horse-9-Battery"

// clock is a fake clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a service on a fresh database with an org tree:
//
//	region "R" (root admin "root")
//	├── hospital "A" (admin "admin-a")
//	└── hospital "B" (admin "admin-b")
type env struct {
	db     *store.DB
	tl     *trail.Log
	svc    *Service
	clk    *clock
	orgs   *org.Service
	region org.Node
	hospA  org.Node
	hospB  org.Node
	root   User
	adminA User
	adminB User
}

// generous makes throttles and rate limits irrelevant for tests that are not about them.
func generous(o Options) Options {
	o.LoginFree, o.AddressFree = 1<<30, 1<<30
	o.UserRate, o.UserBurst = rate.Inf, 1
	return o
}

func newEnv(t *testing.T, db *store.DB, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, tl: tl, clk: newClock(), orgs: org.NewService(db, tl)}
	if opts.Now == nil {
		opts.Now = e.clk.Now
	}
	e.svc = NewService(db, tl, opts)
	sys := actor.System()
	if e.region, err = e.orgs.Create(ctx, sys, org.Input{Kind: org.KindRegion, Name: "R"}); err != nil {
		t.Fatal(err)
	}
	if e.hospA, err = e.orgs.Create(ctx, sys, org.Input{ParentID: e.region.ID, Kind: org.KindHospital, Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if e.hospB, err = e.orgs.Create(ctx, sys, org.Input{ParentID: e.region.ID, Kind: org.KindHospital, Name: "B"}); err != nil {
		t.Fatal(err)
	}
	e.root = e.mkUser(t, sys, e.region.ID, "root", RoleAdmin)
	e.adminA = e.mkUser(t, sys, e.hospA.ID, "admin-a", RoleAdmin)
	e.adminB = e.mkUser(t, sys, e.hospB.ID, "admin-b", RoleAdmin)
	return e
}

func (e *env) mkUser(t *testing.T, a actor.Actor, orgID int64, name, role string) User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), a, UserInput{OrgID: orgID, Username: name, Role: role,
		DisplayName: "User " + name, Password: testPassword})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// wantProblem fails unless err is a problem of kind k with code (when code != "").
func wantProblem(t *testing.T, err error, k problem.Kind, code string) {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok {
		t.Fatalf("error = %v, want a problem of kind %d code %q", err, k, code)
	}
	if pe.Kind != k || (code != "" && pe.Code != code) {
		t.Fatalf("problem = kind %d code %q (%v), want kind %d code %q", pe.Kind, pe.Code, pe, k, code)
	}
}

// trailActions verifies the chain and counts its entries by action.
func trailActions(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	ctx := context.Background()
	r, err := trailtest.New(t, trail.SHA256).Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("trail does not verify: %+v", r)
	}
	rows, err := db.QueryContext(ctx, `SELECT action FROM trail`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		m[a]++
	}
	return m
}

// dbContains reports whether any text column of table holds needle.
func dbContains(t *testing.T, db *store.DB, table string, cols []string, needle string) bool {
	t.Helper()
	for _, c := range cols {
		var n int
		err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE `+c+` LIKE ?`, "%"+needle+"%").Scan(&n)
		if err != nil {
			t.Fatalf("search %s.%s: %v", table, c, err)
		}
		if n > 0 {
			return true
		}
	}
	return false
}

var trailTextColumns = []string{"actor", "action", "object_type", "object_id", "summary", "ip", "digest"}

func mustNotErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
