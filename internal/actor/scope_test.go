package actor_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// paths are the rows every case below is matched against. "/1_/" and "/1%/" are not
// paths the tree makes, but they show that the wildcards in a root are escaped on both
// engines (an unescaped "/1_/%" would also match "/12/", "/1%/%" would match "/10/").
var paths = []string{"/1/", "/1/4/", "/1/4/9/", "/10/", "/12/", "/1_/", "/1%/", "/2/"}

// matching returns the rows of paths that the condition cond with argument arg selects.
func matching(t *testing.T, db *store.DB, cond string, arg any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT path FROM scope_probe WHERE `+cond+` ORDER BY path`, arg)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func probe(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE scope_probe (path TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := db.ExecContext(ctx, `INSERT INTO scope_probe (path) VALUES (?)`, p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSeesSQLFailsClosed checks the tenancy predicate on both engines: an actor without
// an organisation path sees nothing (the old ScopePattern gave "%", every organisation),
// a platform-wide actor sees everything, anyone else exactly their subtree, with the
// wildcards of a path escaped; and it agrees with Sees row by row.
func TestSeesSQLFailsClosed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		probe(t, db)
		cases := []struct {
			name string
			path string
			want []string
		}{
			{"no organisation", "", []string{}},
			{"platform", "/", []string{"/1%/", "/1/", "/1/4/", "/1/4/9/", "/10/", "/12/", "/1_/", "/2/"}},
			{"region", "/1/", []string{"/1/", "/1/4/", "/1/4/9/"}},
			{"hospital", "/1/4/", []string{"/1/4/", "/1/4/9/"}},
			{"underscore is not a wildcard", "/1_/", []string{"/1_/"}},
			{"percent is not a wildcard", "/1%/", []string{"/1%/"}},
			{"no such node", "/3/", []string{}},
		}
		for _, c := range cases {
			a := actor.Actor{Username: "u", Role: "admin", OrgID: 1, OrgPath: c.path}
			cond, arg := a.SeesSQL("path")
			got := matching(t, db, cond, arg)
			slices.Sort(c.want)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: SeesSQL(%q) selects %q, want %q", c.name, c.path, got, c.want)
			}
			sees := []string{}
			for _, p := range paths {
				if a.Sees(p) {
					sees = append(sees, p)
				}
			}
			slices.Sort(sees)
			if !slices.Equal(got, sees) {
				t.Errorf("%s: SeesSQL selects %q but Sees admits %q", c.name, got, sees)
			}
			// The negation is the complement: an empty scope leaves everything outside.
			got = matching(t, db, `NOT (`+cond+`)`, arg)
			if len(got)+len(c.want) != len(paths) {
				t.Errorf("%s: NOT SeesSQL selects %q", c.name, got)
			}
		}
		if got := matching(t, db, actor.ContainsSQL("path", "?"), "/1/4/9/"); !slices.Equal(got, []string{"/1/", "/1/4/", "/1/4/9/"}) {
			t.Errorf("ContainsSQL: ancestors of /1/4/9/ = %q", got)
		}
		// SubtreeSQL is the same predicate for a root the caller has checked.
		cond, arg := actor.SubtreeSQL("path", "")
		if got := matching(t, db, cond, arg); len(got) != 0 {
			t.Errorf("SubtreeSQL with no root selects %q", got)
		}
	})
}

// TestGuardFindsHandMadeScopes shows that the guard can fail: each line of the sample is
// one way the tenancy rule used to be written by hand.
func TestGuardFindsHandMadeScopes(t *testing.T) {
	src := "package x\n\nfunc f(a actor.Actor, path string) {\n" +
		"\t_ = `SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\\'`\n" +
		"\t_ = a.ScopePattern()\n" +
		"\t_ = actor.EscapeLike(path) + \"%\"\n" +
		"\t_ = `JOIN orgs o ON ? LIKE o.path || '%'`\n" +
		"\t_ = `WHERE o.path NOT LIKE ?`\n" +
		"\t_ = `WHERE SUBSTR(o.path, 1, 4) = ?`\n" +
		"\t_ = `WHERE a.search LIKE ? ESCAPE '\\'`\n" + // a text search: allowed
		"}\n"
	p := filepath.Join(t.TempDir(), "x.go")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	found := handMadeScopes(t, p)
	lines := map[string]bool{}
	for _, f := range found {
		lines[strings.SplitN(f, ":", 2)[0]] = true
	}
	for _, l := range []string{"4", "5", "6", "7", "8", "9"} {
		if !lines[l] {
			t.Errorf("line %s of the sample not reported; found %q", l, found)
		}
	}
	if lines["10"] {
		t.Errorf("a text search was reported: %q", found)
	}
}
