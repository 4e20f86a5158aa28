package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"
)

// explained is the SQL one API scenario runs, as asset.Service builds it (List: COUNT
// then the page SELECT; Stats: the org list then the GROUP BY). Keep in step with
// internal/asset/service.go.
type explained struct {
	name  string
	stmts []string // "?" is the scope pattern
}

const (
	xCount    = ` FROM assets a WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\')`
	xFrom     = ` FROM assets a JOIN orgs o ON o.id = a.org_id WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\')`
	xSearch   = ` AND a.zone = 'medical' AND a.search LIKE '%pacs%' ESCAPE '\'`
	xColumns  = `a.id, a.org_id, o.name, o.path, a.code, a.name, a.kind, a.subtype, a.owner, a.location, a.zone, a.mlps_level, a.ip, a.mac, a.vendor, a.model, a.serial, a.lifecycle, a.procured_on, a.in_service_on, a.retired_on, a.tags, a.notes, a.version, a.created_at, a.updated_at`
	xStatsOrg = `SELECT id, kind, name, path FROM orgs WHERE path LIKE ? ESCAPE '\'`
	xStats    = `SELECT a.org_id, a.kind, a.zone, a.lifecycle, a.mlps_level, COUNT(*) FROM assets a WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\') GROUP BY a.org_id, a.kind, a.zone, a.lifecycle, a.mlps_level`
)

var explainSet = []explained{
	{"list_first_page", []string{`SELECT COUNT(*)` + xCount, `SELECT ` + xColumns + xFrom + ` ORDER BY a.name, a.id LIMIT 50 OFFSET 0`}},
	{"list_filtered", []string{`SELECT COUNT(*)` + xCount + xSearch, `SELECT ` + xColumns + xFrom + xSearch + ` ORDER BY a.name, a.id LIMIT 50 OFFSET 0`}},
	{"list_deep_page", []string{`SELECT COUNT(*)` + xCount, `SELECT ` + xColumns + xFrom + ` ORDER BY a.updated_at DESC, a.id DESC LIMIT 50 OFFSET 24950`}},
	{"dashboard", []string{xStatsOrg, xStats}},
}

// explain prints, for every scenario's SQL in the scope of user, the query plan and the
// best of three single-threaded timings.
func explain(w io.Writer, target, user string) error {
	db, ph, err := openTarget(target)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scope, err := scopeOf(ctx, db, ph, user)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "### %s, scope of %s (%s)\n\n", strings.SplitN(target, ":", 2)[0], user, scope)
	for _, x := range explainSet {
		fmt.Fprintf(w, "#### %s\n\n", x.name)
		for _, q := range x.stmts {
			q = strings.ReplaceAll(q, "?", ph)
			fmt.Fprintf(w, "```sql\n%s\n```\n\n```\n", q)
			plan := "EXPLAIN QUERY PLAN "
			if ph != "?" {
				plan = "EXPLAIN (ANALYZE, BUFFERS) "
			}
			rows, err := db.QueryContext(ctx, plan+q, scope)
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return fmt.Errorf("explain: %w", err)
				}
				fmt.Fprintln(w, fmt.Sprint(vals[len(vals)-1]))
			}
			rows.Close()
			best := time.Duration(1 << 62)
			for range 3 {
				t0 := time.Now()
				rows, err := db.QueryContext(ctx, q, scope)
				if err != nil {
					return fmt.Errorf("explain: run: %w", err)
				}
				for rows.Next() {
				}
				rows.Close()
				best = min(best, time.Since(t0))
			}
			fmt.Fprintf(w, "```\n\nbest of 3 runs (one connection, from Go): %.1f ms\n\n", float64(best)/float64(time.Millisecond))
		}
	}
	return nil
}

// scopeOf returns the escaped LIKE pattern of user's organisation subtree.
func scopeOf(ctx context.Context, db *sql.DB, ph, user string) (string, error) {
	var scope string
	err := db.QueryRowContext(ctx, strings.ReplaceAll(`SELECT o.path FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.username = ?`, "?", ph), user).Scan(&scope)
	if err != nil {
		return "", fmt.Errorf("scope of %q: %w", user, err)
	}
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(scope) + "%", nil
}
