package vuln

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// ErrNotFound is returned (wrapped) by Record when no record has the id or alias. It is
// store.ErrNotFound, so either sentinel matches.
var ErrNotFound = store.ErrNotFound

// maxInParams bounds the values of one IN (...) list.
const maxInParams = 500

// DB is the vulnerability database kept in medguard's store.
type DB struct {
	db  *store.DB
	now func() time.Time
}

// Open returns the vulnerability database kept in db (migrations 0005_vuln,
// 0009_nuget_keys and 0010_vuln_content_hash).
func Open(db *store.DB) *DB {
	return &DB{db: db, now: time.Now}
}

// Summary is what a findings list shows of a record.
type Summary struct {
	ID        string
	Aliases   []string
	Summary   string
	Severity  Severity
	Published time.Time
	Modified  time.Time
	Withdrawn *time.Time
	// Group is the same for records that name each other as aliases or share an alias:
	// the lexicographically smallest CVE id among them, else their smallest id.
	Group string
}

// Match is one advisory affecting one package.
type Match struct {
	ID       string
	Aliases  []string
	Group    string
	Summary  string
	Severity Severity
	Fixed    []string // fixed versions named by the matching affected entries
}

// Status describes the database's content.
type Status struct {
	Total      int               `json:"total"` // records, withdrawn ones included
	Withdrawn  int               `json:"withdrawn"`
	Ecosystems []EcosystemStatus `json:"ecosystems"`  // by base ecosystem, sorted by name
	LastImport *ImportRun        `json:"last_import"` // nil before the first import
}

// EcosystemStatus counts the records naming one base ecosystem.
type EcosystemStatus struct {
	Ecosystem    string    `json:"ecosystem"`
	Records      int       `json:"records"` // withdrawn ones included
	Withdrawn    int       `json:"withdrawn"`
	LastModified time.Time `json:"last_modified,omitzero"` // zero when no record of it carries one
}

// ImportRun is one row of vuln_imports.
type ImportRun struct {
	ID               int64     `json:"id"`
	StartedAt        time.Time `json:"started_at"`
	FinishedAt       time.Time `json:"finished_at"`
	Source           string    `json:"source"`
	Files            int       `json:"files"`
	Records          int       `json:"records"`
	Added            int       `json:"added"`
	Updated          int       `json:"updated"`
	Unchanged        int       `json:"unchanged"`
	Withdrawn        int       `json:"withdrawn"`
	Skipped          int       `json:"skipped"`
	GitRangesIgnored int       `json:"git_ranges_ignored"`
	Notes            []Note    `json:"notes"`
}

// Record returns the record with the given id or, failing that, the record listing it
// as an alias (the smallest such id). It wraps ErrNotFound when there is none.
func (d *DB) Record(ctx context.Context, idOrAlias string) (*Record, error) {
	var raw string
	err := d.db.QueryRowContext(ctx, `SELECT raw FROM vulns WHERE id = ?`, idOrAlias).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		var id string
		err = d.db.QueryRowContext(ctx, `SELECT vuln_id FROM vuln_aliases WHERE alias = ? AND kind = 'alias' ORDER BY vuln_id LIMIT 1`, idOrAlias).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("vuln: record %q: %w", idOrAlias, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("vuln: record %q: %w", idOrAlias, err)
		}
		err = d.db.QueryRowContext(ctx, `SELECT raw FROM vulns WHERE id = ?`, id).Scan(&raw)
	}
	if err != nil {
		return nil, fmt.Errorf("vuln: record %q: %w", idOrAlias, err)
	}
	return ParseRecord([]byte(raw), "db:"+idOrAlias+".json")
}

// AffectedFor returns the affected entries of non-withdrawn records for each key, in
// record id order. Entries are looked up by base ecosystem and normalised name; check
// Affected.AppliesTo for the release suffix before Contains.
func (d *DB) AffectedFor(ctx context.Context, keys []PackageKey) (map[PackageKey][]*Affected, error) {
	byEco := map[string]map[string]bool{}
	for _, k := range keys {
		if byEco[k.Ecosystem] == nil {
			byEco[k.Ecosystem] = map[string]bool{}
		}
		byEco[k.Ecosystem][k.Name] = true
	}
	ecos := make([]string, 0, len(byEco))
	for e := range byEco {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	// One query per chunk of names; the chunks run in parallel on the reader pool (JSON
	// decoding and compiling the entries is most of the cost) and are merged in order.
	type job struct {
		eco   string
		names []string
		list  []keyedAffected
		err   error
	}
	var jobs []*job
	for _, eco := range ecos {
		names := make([]string, 0, len(byEco[eco]))
		for n := range byEco[eco] {
			names = append(names, n)
		}
		sort.Strings(names)
		for len(names) > 0 {
			chunk := names[:min(len(names), affectedChunk)]
			names = names[len(chunk):]
			jobs = append(jobs, &job{eco: eco, names: chunk})
		}
	}
	sem := make(chan struct{}, affectedWorkers)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			args := make([]any, 0, len(j.names)+1)
			args = append(args, j.eco)
			for _, n := range j.names {
				args = append(args, n)
			}
			j.list, j.err = d.queryAffected(ctx, `SELECT a.vuln_id, a.name, a.data FROM vuln_affected a JOIN vulns v ON v.id = a.vuln_id
				WHERE v.withdrawn IS NULL AND a.ecosystem = ? AND a.name IN (`+store.Placeholders(len(j.names))+`) ORDER BY a.vuln_id, a.id`, args...)
		}()
	}
	wg.Wait()
	out := make(map[PackageKey][]*Affected)
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		for _, x := range j.list {
			k := PackageKey{Ecosystem: j.eco, Name: x.keyName}
			out[k] = append(out[k], x.a)
		}
	}
	return out, nil
}

// affectedChunk and affectedWorkers shape AffectedFor's parallel look-ups.
const (
	affectedChunk   = 250
	affectedWorkers = 4
)

// AffectedByVulns returns the affected entries of the given records that are not
// withdrawn, by record id: what re-matching after an import looks at.
func (d *DB) AffectedByVulns(ctx context.Context, ids []string) ([]*Affected, error) {
	ids = uniqueSorted(ids)
	var out []*Affected
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxInParams)]
		ids = ids[len(chunk):]
		list, err := d.queryAffected(ctx, `SELECT a.vuln_id, a.name, a.data FROM vuln_affected a JOIN vulns v ON v.id = a.vuln_id
			WHERE v.withdrawn IS NULL AND a.vuln_id IN (`+store.Placeholders(len(chunk))+`) ORDER BY a.vuln_id, a.id`, anys(chunk)...)
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			out = append(out, x.a)
		}
	}
	return out, nil
}

type keyedAffected struct {
	keyName string
	a       *Affected
}

func (d *DB) queryAffected(ctx context.Context, q string, args ...any) ([]keyedAffected, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("vuln: affected: %w", err)
	}
	defer rows.Close()
	var out []keyedAffected
	for rows.Next() {
		var id, name, data string
		if err := rows.Scan(&id, &name, &data); err != nil {
			return nil, fmt.Errorf("vuln: affected: %w", err)
		}
		a := &Affected{}
		if err := json.Unmarshal([]byte(data), a); err != nil {
			return nil, fmt.Errorf("vuln: affected entry of %s: %w", id, err)
		}
		a.VulnID = id
		a.Compile()
		out = append(out, keyedAffected{keyName: name, a: a})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vuln: affected: %w", err)
	}
	return out, nil
}

// Summaries returns the summary of each given record that exists, withdrawn ones
// included, with aliases and alias group.
func (d *DB) Summaries(ctx context.Context, ids []string) (map[string]Summary, error) {
	ids = uniqueSorted(ids)
	out := make(map[string]Summary, len(ids))
	dialect := d.db.Dialect()
	for rest := ids; len(rest) > 0; {
		chunk := rest[:min(len(rest), dialect.ListChunk(maxInParams))]
		rest = rest[len(chunk):]
		in, args := dialect.AnyOf("id", chunk)
		rows, err := d.db.QueryContext(ctx, `SELECT id, summary, severity_type, severity_vector, severity_score, severity_level,
			published, modified, withdrawn FROM vulns WHERE `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("vuln: summaries: %w", err)
		}
		for rows.Next() {
			var s Summary
			var pub, mod, wd store.Time
			if err := rows.Scan(&s.ID, &s.Summary, &s.Severity.Type, &s.Severity.Vector, &s.Severity.Score, &s.Severity.Level,
				&pub, &mod, &wd); err != nil {
				rows.Close()
				return nil, fmt.Errorf("vuln: summaries: %w", err)
			}
			s.Published, s.Modified, s.Withdrawn = pub.Time, mod.Time, wd.Ptr()
			out[s.ID] = s
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("vuln: summaries: %w", err)
		}
		in, args = dialect.AnyOf("vuln_id", chunk)
		rows, err = d.db.QueryContext(ctx, `SELECT vuln_id, alias FROM vuln_aliases WHERE kind = 'alias' AND `+in+`
			ORDER BY vuln_id, alias`, args...)
		if err != nil {
			return nil, fmt.Errorf("vuln: summaries: %w", err)
		}
		for rows.Next() {
			var id, alias string
			if err := rows.Scan(&id, &alias); err != nil {
				rows.Close()
				return nil, fmt.Errorf("vuln: summaries: %w", err)
			}
			s := out[id]
			s.Aliases = append(s.Aliases, alias)
			out[id] = s
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("vuln: summaries: %w", err)
		}
	}
	groups, members, err := d.groups(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, s := range out {
		s.Group = groups[id]
		out[id] = s
	}
	if err := d.aliasSeverities(ctx, out, members); err != nil {
		return nil, err
	}
	return out, nil
}

// aliasSeverities gives the records of out whose own severity is unknown (the Go
// vulnerability database rates nothing) the severity of another record of their alias
// group stored in the database — the existing alias handling of groups: records naming
// each other as aliases or sharing an alias (GO-… and GHSA-… of one CVE), transitively.
// members maps each id to the other nodes of its group. Of several rated records the
// highest score wins, then the higher level (a database rating has no score), then the
// smaller id: when sources disagree the gate errs on the side of blocking.
// Severity.From names the record it came from. Withdrawn records are not used.
func (d *DB) aliasSeverities(ctx context.Context, out map[string]Summary, members map[string][]string) error {
	// rates: record id → the unknown records of its group it can rate.
	rates := map[string][]string{}
	for id, s := range out {
		if s.Severity.Level != LevelUnknown && s.Severity.Level != "" {
			continue
		}
		for _, m := range members[id] {
			if m != id {
				rates[m] = append(rates[m], id)
			}
		}
	}
	if len(rates) == 0 {
		return nil
	}
	list := make([]string, 0, len(rates))
	for n := range rates {
		list = append(list, n)
	}
	sort.Strings(list)
	dialect := d.db.Dialect()
	for rest := list; len(rest) > 0; {
		chunk := rest[:min(len(rest), dialect.ListChunk(maxInParams))]
		rest = rest[len(chunk):]
		in, args := dialect.AnyOf("id", chunk)
		rows, err := d.db.QueryContext(ctx, `SELECT id, severity_type, severity_vector, severity_score, severity_level
			FROM vulns WHERE `+in+` AND withdrawn IS NULL AND severity_level NOT IN ('unknown', '')`, args...)
		if err != nil {
			return fmt.Errorf("vuln: alias severities: %w", err)
		}
		for rows.Next() {
			var sev Severity
			if err := rows.Scan(&sev.From, &sev.Type, &sev.Vector, &sev.Score, &sev.Level); err != nil {
				rows.Close()
				return fmt.Errorf("vuln: alias severities: %w", err)
			}
			for _, id := range rates[sev.From] {
				s := out[id]
				if s.Severity.From == "" || severityAbove(sev, s.Severity) {
					s.Severity = sev
					out[id] = s
				}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("vuln: alias severities: %w", err)
		}
	}
	return nil
}

// severityAbove orders severities taken from alias records: higher score, then higher
// level, then the smaller record id (so that the choice does not depend on row order).
func severityAbove(a, b Severity) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if ra, rb := levelRank(a.Level), levelRank(b.Level); ra != rb {
		return ra > rb
	}
	return a.From < b.From
}

// levelRank orders levels, higher is worse; unknown is 0.
func levelRank(l string) int {
	switch l {
	case LevelCritical:
		return 5
	case LevelHigh:
		return 4
	case LevelMedium:
		return 3
	case LevelLow:
		return 2
	case LevelNone:
		return 1
	}
	return 0
}

// maxGroupRounds and maxGroupNodes bound the alias-graph walk of groups.
const (
	maxGroupRounds = 16
	maxGroupNodes  = 20000
)

// groups computes the alias group of each id: the connected component of the graph
// whose edges are the alias claims of non-withdrawn records, keyed by its smallest CVE
// id, else its smallest id. members maps each id to the nodes of its component (ids and
// aliases, itself included).
func (d *DB) groups(ctx context.Context, ids []string) (keys map[string]string, members map[string][]string, err error) {
	parent := map[string]string{}
	find := func(x string) string {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	add := func(x string) bool {
		if _, ok := parent[x]; ok {
			return false
		}
		parent[x] = x
		return true
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[ra] = rb
		}
	}
	frontier := []string{}
	for _, id := range ids {
		if add(id) {
			frontier = append(frontier, id)
		}
	}
	dialect := d.db.Dialect()
	for round := 0; round < maxGroupRounds && len(frontier) > 0 && len(parent) < maxGroupNodes; round++ {
		var next []string
		sort.Strings(frontier)
		for len(frontier) > 0 {
			chunk := frontier[:min(len(frontier), dialect.ListChunk(maxInParams))]
			frontier = frontier[len(chunk):]
			// The edges from and to the chunk: two selects rather than one with OR, so that
			// each uses its index, in one statement.
			from, args := dialect.AnyOf("a.vuln_id", chunk)
			to, toArgs := dialect.AnyOf("a.alias", chunk)
			rows, err := d.db.QueryContext(ctx, `SELECT a.vuln_id, a.alias FROM vuln_aliases a JOIN vulns v ON v.id = a.vuln_id
				WHERE a.kind = 'alias' AND v.withdrawn IS NULL AND `+from+`
				UNION ALL SELECT a.vuln_id, a.alias FROM vuln_aliases a JOIN vulns v ON v.id = a.vuln_id
				WHERE a.kind = 'alias' AND v.withdrawn IS NULL AND `+to, append(args, toArgs...)...)
			if err != nil {
				return nil, nil, fmt.Errorf("vuln: alias groups: %w", err)
			}
			for rows.Next() {
				var a, b string
				if err := rows.Scan(&a, &b); err != nil {
					rows.Close()
					return nil, nil, fmt.Errorf("vuln: alias groups: %w", err)
				}
				for _, x := range []string{a, b} {
					if add(x) {
						next = append(next, x)
					}
				}
				union(a, b)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("vuln: alias groups: %w", err)
			}
		}
		frontier = next
	}
	key := map[string]string{} // root → group key
	for x := range parent {
		r := find(x)
		k, ok := key[r]
		if !ok || groupLess(x, k) {
			key[r] = x
		}
	}
	byRoot := map[string][]string{}
	for x := range parent {
		r := find(x)
		byRoot[r] = append(byRoot[r], x)
	}
	keys = make(map[string]string, len(ids))
	members = make(map[string][]string, len(ids))
	for _, id := range ids {
		r := find(id)
		keys[id] = key[r]
		members[id] = byRoot[r]
	}
	return keys, members, nil
}

// groupLess orders group key candidates: CVE ids first, then lexicographically.
func groupLess(a, b string) bool {
	ca, cb := strings.HasPrefix(a, "CVE-"), strings.HasPrefix(b, "CVE-")
	if ca != cb {
		return ca
	}
	return a < b
}

// Match returns, for each package, the advisories affecting it (non-withdrawn records
// whose affected entry names the package's ecosystem and name and contains its
// version), sorted by id. Packages without version match nothing.
func (d *DB) Match(ctx context.Context, pkgs []Package) ([][]Match, error) {
	keys := make([]PackageKey, 0, len(pkgs))
	for _, p := range pkgs {
		keys = append(keys, KeyOf(p))
	}
	aff, err := d.AffectedFor(ctx, keys)
	if err != nil {
		return nil, err
	}
	type hit struct {
		id    string
		fixed []string
	}
	hits := make([][]hit, len(pkgs))
	var ids []string
	for i, p := range pkgs {
		list := aff[keys[i]]
		if len(list) == 0 || p.Version == "" {
			continue
		}
		pv := newPkgVersion(keys[i].Ecosystem, p.Name, p.Version)
		var hs []hit
		for _, a := range list {
			if !a.AppliesTo(p) || !a.c.contains(pv) {
				continue
			}
			if n := len(hs); n > 0 && hs[n-1].id == a.VulnID {
				hs[n-1].fixed = appendUnique(hs[n-1].fixed, a.FixedVersions()...)
				continue
			}
			hs = append(hs, hit{id: a.VulnID, fixed: appendUnique(nil, a.FixedVersions()...)})
			ids = append(ids, a.VulnID)
		}
		hits[i] = hs
	}
	sums, err := d.Summaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([][]Match, len(pkgs))
	for i, hs := range hits {
		for _, h := range hs {
			s := sums[h.id]
			out[i] = append(out[i], Match{ID: h.id, Aliases: s.Aliases, Group: s.Group, Summary: s.Summary, Severity: s.Severity, Fixed: h.fixed})
		}
		sort.Slice(out[i], func(a, b int) bool { return out[i][a].ID < out[i][b].ID })
	}
	return out, nil
}

// Status reports record counts, per-ecosystem figures and the last import.
func (d *DB) Status(ctx context.Context) (Status, error) {
	var st Status
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(withdrawn) FROM vulns`).Scan(&st.Total, &st.Withdrawn); err != nil {
		return st, fmt.Errorf("vuln: status: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT a.ecosystem, COUNT(DISTINCT a.vuln_id),
		COUNT(DISTINCT CASE WHEN v.withdrawn IS NOT NULL THEN a.vuln_id END), MAX(v.modified)
		FROM vuln_affected a JOIN vulns v ON v.id = a.vuln_id GROUP BY a.ecosystem ORDER BY a.ecosystem`)
	if err != nil {
		return st, fmt.Errorf("vuln: status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EcosystemStatus
		var last store.Time
		if err := rows.Scan(&e.Ecosystem, &e.Records, &e.Withdrawn, &last); err != nil {
			return st, fmt.Errorf("vuln: status: %w", err)
		}
		e.LastModified = last.Time
		st.Ecosystems = append(st.Ecosystems, e)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("vuln: status: %w", err)
	}
	var run ImportRun
	var started, finished store.Time
	var notes string
	err = d.db.QueryRowContext(ctx, `SELECT id, started_at, finished_at, source, files, records, added, updated, unchanged,
		withdrawn, skipped, git_ranges_ignored, notes FROM vuln_imports ORDER BY id DESC LIMIT 1`).Scan(
		&run.ID, &started, &finished, &run.Source, &run.Files, &run.Records, &run.Added, &run.Updated, &run.Unchanged,
		&run.Withdrawn, &run.Skipped, &run.GitRangesIgnored, &notes)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("vuln: status: last import: %w", err)
	}
	run.StartedAt, run.FinishedAt = started.Time, finished.Time
	if notes != "" {
		if err := json.Unmarshal([]byte(notes), &run.Notes); err != nil {
			return st, fmt.Errorf("vuln: status: notes of import %d: %w", run.ID, err)
		}
	}
	st.LastImport = &run
	return st, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func uniqueSorted(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	w := 0
	for i, s := range out {
		if i == 0 || s != out[w-1] {
			out[w] = s
			w++
		}
	}
	return out[:w]
}

func appendUnique(dst []string, add ...string) []string {
	for _, s := range add {
		dup := false
		for _, x := range dst {
			if x == s {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, s)
		}
	}
	return dst
}

// EcosystemsWithData reports, for each of the given base ecosystems, whether the database
// holds a non-withdrawn advisory naming it: whether a package of that ecosystem can be
// checked at all. It is derived from the stored advisories, so it follows every import.
func (d *DB) EcosystemsWithData(ctx context.Context, bases []string) (map[string]bool, error) {
	out := make(map[string]bool, len(bases))
	for _, b := range uniqueSorted(bases) {
		var one int
		err := d.db.QueryRowContext(ctx, `SELECT 1 FROM vuln_affected a JOIN vulns v ON v.id = a.vuln_id
			WHERE a.ecosystem = ? AND v.withdrawn IS NULL LIMIT 1`, b).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out[b] = false
		case err != nil:
			return nil, fmt.Errorf("vuln: ecosystems with data: %w", err)
		default:
			out[b] = true
		}
	}
	return out, nil
}
