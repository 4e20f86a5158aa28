package vuln

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/store"
)

// Import limits.
const (
	batchSize        = 500       // records written per transaction
	parseChunk       = 256       // records read and parsed in parallel at a time
	maxImportRecords = 5_000_000 // records read per import (osv.dev holds ~500,000)
	maxZipMembers    = 2_000_000 // members read per zip file
	maxStoredNotes   = 200       // notes kept in vuln_imports.notes
)

// ImportOptions tunes Import.
type ImportOptions struct {
	// Progress, when set, is called with the files and records read so far after
	// every few hundred records, after each zip file and once at the end.
	Progress func(files, records int)
	// Source names the import in the record of imports (ImportResult.Source and
	// vuln_imports.source), e.g. an uploaded file's name; empty means path, which
	// may be a server's temporary directory.
	Source string
}

// Note says why something was skipped: Place is "file" or "file.zip!member". Code says
// what kind of problem it was (one of the Note* constants; empty in notes stored before
// codes existed), for pages to say in the reader's language; Reason is the detail, in
// English.
type Note struct {
	Place  string `json:"place"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
}

// The codes of a Note.
const (
	NoteUnreadable     = "unreadable"       // the file or member could not be read
	NoteInvalidRecord  = "invalid_record"   // not a valid OSV record
	NoteBadZip         = "bad_zip"          // not a readable zip file
	NoteZipTooMany     = "zip_too_many"     // the zip holds more record members than one import reads
	NoteMemberTooLarge = "member_too_large" // a zip member larger than a record may be
)

// ImportResult reports one import.
type ImportResult struct {
	Source           string `json:"source"`
	Files            int    `json:"files"`              // record and zip files read
	Records          int    `json:"records"`            // records parsed (duplicates included)
	Added            int    `json:"added"`              // records new to the database
	Updated          int    `json:"updated"`            // records newer than the stored copy, or as new with other content
	Unchanged        int    `json:"unchanged"`          // records older than the stored copy, or as new with the same content (not written)
	Withdrawn        int    `json:"withdrawn"`          // records written as withdrawn that were not withdrawn before
	Duplicates       int    `json:"duplicates"`         // further copies of an id within this import (the newest wins)
	GitRangesIgnored int    `json:"git_ranges_ignored"` // GIT ranges, which matching cannot evaluate
	Skipped          []Note `json:"skipped"`
	// Changed lists, sorted, the ids added, updated or newly withdrawn: the records
	// whose matches must be recomputed.
	Changed []string `json:"changed"`
}

// Import reads every .json, .yaml/.yml and .zip file (members .json/.yaml/.yml) under
// path — a file or a directory tree such as osv.dev's <Ecosystem>/all.zip exports —
// and stores the records. It is incremental: a record replaces the stored copy when its
// modified time is newer, or equal with other content (the Go vulnerability database
// dates every record 0001-01-01, so only the content tells a change; see
// contentHash); otherwise it is left alone. Records that do not parse are skipped with a
// note naming the file and zip member; the rest imports. Writes go in transactions of
// 500 records, so an error (or a cancelled ctx) leaves the earlier batches stored and a
// re-run completes the work. A successful run is recorded in vuln_imports.
func (d *DB) Import(ctx context.Context, path string, opt ImportOptions) (ImportResult, error) {
	started := d.now().UTC().Truncate(time.Microsecond)
	im := &importer{
		d:     d,
		ctx:   ctx,
		opt:   opt,
		res:   ImportResult{Source: cmp.Or(opt.Source, path)},
		batch: map[string]pending{},
		seen:  map[string]time.Time{},
		stamp: started,
	}
	info, err := os.Stat(path)
	if err != nil {
		return im.res, fmt.Errorf("vuln: import: %w", err)
	}
	if info.IsDir() {
		err = filepath.WalkDir(path, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				if p == path {
					return err
				}
				rel, _ := filepath.Rel(path, p)
				im.skip(filepath.ToSlash(rel), NoteUnreadable, err.Error())
				if de != nil && de.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if de.IsDir() {
				return nil
			}
			if de.Type()&fs.ModeSymlink != 0 {
				// Follow links to files (not to directories, which could loop).
				if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
					return nil
				}
			} else if !de.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(path, p)
			if err != nil {
				return err
			}
			return im.file(p, filepath.ToSlash(rel))
		})
	} else {
		err = im.file(path, filepath.Base(path))
	}
	if err == nil {
		err = im.drain()
	}
	if err == nil {
		err = im.flush()
	}
	im.progress()
	sort.Strings(im.res.Changed)
	if err != nil {
		return im.res, fmt.Errorf("vuln: import %s: %w", path, err)
	}
	if err := d.recordRun(ctx, started, &im.res); err != nil {
		return im.res, err
	}
	if im.res.Added+im.res.Updated > 0 {
		if err := d.db.Optimize(ctx); err != nil {
			return im.res, fmt.Errorf("vuln: import %s: %w", path, err)
		}
	}
	return im.res, nil
}

// recordRun writes the vuln_imports row of a finished import.
func (d *DB) recordRun(ctx context.Context, started time.Time, r *ImportResult) error {
	notes := r.Skipped
	if len(notes) > maxStoredNotes {
		notes = append(append([]Note(nil), notes[:maxStoredNotes]...),
			Note{Place: "", Reason: fmt.Sprintf("%d further notes not stored", len(r.Skipped)-maxStoredNotes)})
	}
	if r.GitRangesIgnored > 0 {
		notes = append(notes, Note{Reason: fmt.Sprintf("%d GIT ranges ignored", r.GitRangesIgnored)})
	}
	var text string
	if len(notes) > 0 {
		b, err := json.Marshal(notes)
		if err != nil {
			return fmt.Errorf("vuln: record import: %w", err)
		}
		text = string(b)
	}
	finished := d.now().UTC().Truncate(time.Microsecond)
	_, err := d.db.ExecContext(ctx, `INSERT INTO vuln_imports (started_at, finished_at, source, files, records, added, updated,
		unchanged, withdrawn, skipped, git_ranges_ignored, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		started, finished, clean(r.Source), r.Files, r.Records, r.Added, r.Updated, r.Unchanged, r.Withdrawn, len(r.Skipped),
		r.GitRangesIgnored, clean(text))
	if err != nil {
		return fmt.Errorf("vuln: record import: %w", err)
	}
	return nil
}

type pending struct {
	rec   *Record
	place string
	hash  string // contentHash of rec.Raw
}

// contentHash returns the hex SHA-256 of a record's canonical JSON (Record.Raw), which
// is stored in vulns.content_hash next to it in vulns.raw. The canonical form rather
// than the bytes as read, so that a record does not count as changed because it was
// read from YAML instead of JSON, or re-serialised with other key order, spacing or
// escapes; and so that the hash of a row stored before the column existed can be
// computed from its raw column, exactly as it would have been stored.
func contentHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

type importer struct {
	d     *DB
	ctx   context.Context
	opt   ImportOptions
	res   ImportResult
	queue []source             // record sources not yet parsed
	batch map[string]pending   // id → newest copy read since the last flush
	seen  map[string]time.Time // id → modified time of the copy written by this import
	stamp time.Time
}

func (im *importer) skip(place, code, reason string) {
	im.res.Skipped = append(im.res.Skipped, Note{Place: place, Code: code, Reason: reason})
}

func (im *importer) progress() {
	if im.opt.Progress != nil {
		im.opt.Progress(im.res.Files, im.res.Records)
	}
}

// recordFile reports whether name is a record file by its extension.
func recordFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

// file queues one file found by the walk; rel is its place in notes.
func (im *importer) file(p, rel string) error {
	if err := im.ctx.Err(); err != nil {
		return err
	}
	switch {
	case recordFile(p):
		im.res.Files++
		return im.enqueue(source{place: rel, read: func() ([]byte, error) { return readLimited(p) }})
	case strings.EqualFold(filepath.Ext(p), ".zip"):
		im.res.Files++
		return im.zipFile(p, rel)
	}
	return nil
}

// source is one record to read and parse: a file or a zip member.
type source struct {
	place string
	read  func() ([]byte, error)
}

// enqueue adds a record source, parsing a full queue.
func (im *importer) enqueue(s source) error {
	im.queue = append(im.queue, s)
	if len(im.queue) >= parseChunk {
		return im.drain()
	}
	return nil
}

// drain reads and parses the queued sources on every CPU, then adds the records in
// queue order, so that the outcome does not depend on scheduling.
func (im *importer) drain() error {
	srcs := im.queue
	im.queue = nil
	if len(srcs) == 0 {
		return nil
	}
	type parsed struct {
		rec     *Record
		readErr error
		err     error
	}
	results := make([]parsed, len(srcs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), len(srcs)); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(srcs) || im.ctx.Err() != nil {
					return
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							results[i] = parsed{err: fmt.Errorf("vuln: %s: parser failed: %v", srcs[i].place, r)}
						}
					}()
					data, err := srcs[i].read()
					if err != nil {
						results[i] = parsed{readErr: err}
						return
					}
					rec, err := ParseRecord(data, srcs[i].place)
					results[i] = parsed{rec: rec, err: err}
				}()
			}
		}()
	}
	wg.Wait()
	if err := im.ctx.Err(); err != nil {
		return err
	}
	for i, r := range results {
		place := srcs[i].place
		switch {
		case r.readErr != nil:
			im.skip(place, NoteUnreadable, r.readErr.Error())
		case r.err != nil:
			im.skip(place, NoteInvalidRecord, strings.TrimPrefix(strings.TrimPrefix(r.err.Error(), "vuln: "), place+": "))
		default:
			if err := im.add(r.rec, place); err != nil {
				return err
			}
		}
	}
	im.progress()
	return nil
}

// readLimited reads a record file of at most MaxRecordSize bytes.
func readLimited(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxRecordSize)
	}
	return data, nil
}

// zipFile imports the record members of one zip file.
func (im *importer) zipFile(p, rel string) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		im.skip(rel, NoteBadZip, fmt.Sprintf("not a readable zip file: %v", err))
		return nil
	}
	defer zr.Close()
	members := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !recordFile(f.Name) {
			continue
		}
		place := rel + "!" + f.Name
		members++
		if members > maxZipMembers {
			im.skip(place, NoteZipTooMany, fmt.Sprintf("zip has more than %d record members; the rest is not read", maxZipMembers))
			return im.drain()
		}
		if f.UncompressedSize64 > MaxRecordSize {
			im.skip(place, NoteMemberTooLarge, fmt.Sprintf("member of %d bytes exceeds %d bytes", f.UncompressedSize64, MaxRecordSize))
			continue
		}
		if err := im.enqueue(source{place: place, read: func() ([]byte, error) { return readMember(f) }}); err != nil {
			return err
		}
	}
	// The members must be read before the zip file is closed.
	return im.drain()
}

// readMember reads one zip member, never more than MaxRecordSize bytes whatever its
// header claims.
func readMember(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("member exceeds %d bytes", MaxRecordSize)
	}
	return data, nil
}

// add queues one parsed record for writing, flushing full batches.
func (im *importer) add(rec *Record, place string) error {
	im.res.Records++
	if im.res.Records > maxImportRecords {
		return fmt.Errorf("more than %d records in one import", maxImportRecords)
	}
	im.res.GitRangesIgnored += rec.GitRanges
	if prev, ok := im.batch[rec.ID]; ok {
		im.res.Duplicates++
		if !rec.Modified.After(prev.rec.Modified) {
			return nil
		}
	} else if mod, ok := im.seen[rec.ID]; ok {
		im.res.Duplicates++
		if !rec.Modified.After(mod) {
			return nil
		}
	}
	im.batch[rec.ID] = pending{rec: rec, place: place, hash: contentHash(rec.Raw)}
	if len(im.batch) >= batchSize {
		return im.flush()
	}
	return nil
}

type stored struct {
	modified  time.Time
	withdrawn bool
	hash      string // "" for rows stored before migration 0010
}

// newer reports whether p replaces the stored copy old: its modified time is later, or
// the same with other content.
func (p pending) newer(old stored) bool {
	return p.rec.Modified.After(old.modified) || p.rec.Modified.Equal(old.modified) && p.hash != old.hash
}

// flush writes the queued records in one transaction.
func (im *importer) flush() error {
	if len(im.batch) == 0 {
		return nil
	}
	ids := make([]string, 0, len(im.batch))
	for id := range im.batch {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var added, updated, unchanged, withdrawn int
	var changed []string
	err := im.d.db.InTx(im.ctx, func(tx *store.Tx) error {
		added, updated, unchanged, withdrawn, changed = 0, 0, 0, 0, nil
		have := map[string]stored{}
		for rest := ids; len(rest) > 0; {
			chunk := rest[:min(len(rest), maxInParams)]
			rest = rest[len(chunk):]
			rows, err := tx.QueryContext(im.ctx, `SELECT id, modified, withdrawn, content_hash FROM vulns WHERE id IN (`+
				store.Placeholders(len(chunk))+`)`, anys(chunk)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id, hash string
				var mod, wd store.Time
				if err := rows.Scan(&id, &mod, &wd, &hash); err != nil {
					rows.Close()
					return err
				}
				have[id] = stored{modified: mod.Time, withdrawn: wd.Valid, hash: hash}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return err
			}
		}
		backfill, err := im.hashStored(tx, ids, have)
		if err != nil {
			return err
		}
		var inserts, updates []pending
		var hashes [][2]string // content_hash, id of unchanged rows stored without hash
		for _, id := range ids {
			p := im.batch[id]
			_, again := im.seen[id] // an earlier copy of this import is stored: count it once
			old, ok := have[id]
			switch {
			case !ok:
				inserts = append(inserts, p)
			case !p.newer(old):
				if !again {
					unchanged++
				}
				if backfill[id] {
					hashes = append(hashes, [2]string{old.hash, id})
				}
				continue
			default:
				updates = append(updates, p)
			}
			if !again {
				if ok {
					updated++
				} else {
					added++
				}
				changed = append(changed, id)
			}
			if p.rec.Withdrawn != nil && (!ok || !old.withdrawn) {
				withdrawn++
			}
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(im.ctx, `UPDATE vulns SET content_hash = ? WHERE id = ?`, h[0], h[1]); err != nil {
				return err
			}
		}
		return im.write(tx, inserts, updates)
	})
	if err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	for _, id := range ids {
		im.seen[id] = im.batch[id].rec.Modified
	}
	im.res.Added += added
	im.res.Updated += updated
	im.res.Unchanged += unchanged
	im.res.Withdrawn += withdrawn
	im.res.Changed = append(im.res.Changed, changed...)
	clear(im.batch)
	return nil
}

// hashStored fills in the hash of the stored rows of have that have none (stored before
// migration 0010) and whose modified time equals that of the record being imported: it
// is computed from the row's raw column, the canonical JSON the hash is taken of. So an
// identical record stays unchanged, and a changed one with the same modified time (the
// Go database's) is updated, rather than every such row counting as updated once, with
// its advisories re-matched, on the first import after the upgrade. It returns the ids
// whose hash was computed, for the caller to store when the row is not rewritten.
func (im *importer) hashStored(tx *store.Tx, ids []string, have map[string]stored) (map[string]bool, error) {
	var need []string
	for _, id := range ids {
		if old, ok := have[id]; ok && old.hash == "" && im.batch[id].rec.Modified.Equal(old.modified) {
			need = append(need, id)
		}
	}
	done := map[string]bool{}
	for len(need) > 0 {
		chunk := need[:min(len(need), maxInParams)]
		need = need[len(chunk):]
		rows, err := tx.QueryContext(im.ctx, `SELECT id, raw FROM vulns WHERE id IN (`+store.Placeholders(len(chunk))+`)`, anys(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, raw string
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return nil, err
			}
			old := have[id]
			old.hash = contentHash([]byte(raw))
			have[id] = old
			done[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return done, nil
}

// write inserts new records and replaces updated ones with their aliases and affected
// entries.
func (im *importer) write(tx *store.Tx, inserts, updates []pending) error {
	ctx := im.ctx
	var rows [][]any
	for _, p := range inserts {
		rows = append(rows, append([]any{clean(p.rec.ID)}, vulnColumns(p, im.stamp)...))
	}
	if err := insertRows(ctx, tx, `INSERT INTO vulns (id, modified, published, withdrawn, summary, details, severity_type,
		severity_vector, severity_score, severity_level, ecosystems, source, raw, content_hash, imported_at) VALUES `, 15, rows); err != nil {
		return err
	}
	var upd []string
	for _, p := range updates {
		args := append(vulnColumns(p, im.stamp), p.rec.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE vulns SET modified = ?, published = ?, withdrawn = ?, summary = ?, details = ?,
			severity_type = ?, severity_vector = ?, severity_score = ?, severity_level = ?, ecosystems = ?, source = ?, raw = ?,
			content_hash = ?, imported_at = ? WHERE id = ?`, args...); err != nil {
			return err
		}
		upd = append(upd, p.rec.ID)
	}
	for rest := upd; len(rest) > 0; {
		chunk := rest[:min(len(rest), maxInParams)]
		rest = rest[len(chunk):]
		for _, table := range []string{"vuln_affected", "vuln_aliases"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE vuln_id IN (`+store.Placeholders(len(chunk))+`)`, anys(chunk)...); err != nil {
				return err
			}
		}
	}
	var aliases, affected [][]any
	for _, list := range [][]pending{inserts, updates} {
		for _, p := range list {
			r := p.rec
			for _, k := range []struct {
				kind string
				ids  []string
			}{{"alias", r.Aliases}, {"related", r.Related}, {"upstream", r.Upstream}} {
				for _, a := range k.ids {
					aliases = append(aliases, []any{r.ID, clean(a), k.kind})
				}
			}
			for i := range r.Affected {
				a := &r.Affected[i]
				data, err := json.Marshal(a)
				if err != nil {
					return err
				}
				key := a.Key()
				affected = append(affected, []any{r.ID, clean(key.Ecosystem), clean(key.Name), string(data)})
			}
		}
	}
	if err := insertRows(ctx, tx, `INSERT INTO vuln_aliases (vuln_id, alias, kind) VALUES `, 3, aliases); err != nil {
		return err
	}
	return insertRows(ctx, tx, `INSERT INTO vuln_affected (vuln_id, ecosystem, name, data) VALUES `, 4, affected)
}

// vulnColumns returns the vulns columns after id, in the order of the INSERT.
func vulnColumns(p pending, stamp time.Time) []any {
	r := p.rec
	var published, withdrawn any
	if !r.Published.IsZero() {
		published = r.Published
	}
	if r.Withdrawn != nil {
		withdrawn = *r.Withdrawn
	}
	ecos, _ := json.Marshal(r.Ecosystems)
	if r.Ecosystems == nil {
		ecos = []byte("[]")
	}
	return []any{r.Modified, published, withdrawn, clean(r.Summary), clean(r.Details), r.Severity.Type,
		clean(r.Severity.Vector), r.Severity.Score, r.Severity.Level, clean(string(ecos)), clean(p.place), string(r.Raw), p.hash, stamp}
}

// insertRows inserts rows of ncol values with multi-row INSERTs.
func insertRows(ctx context.Context, tx *store.Tx, head string, ncol int, rows [][]any) error {
	per := max(1, min(maxInParams, 4000/ncol))
	row := "(" + store.Placeholders(ncol) + ")"
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), per)]
		rows = rows[len(chunk):]
		var q strings.Builder
		q.WriteString(head)
		args := make([]any, 0, len(chunk)*ncol)
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(row)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// clean drops NUL characters and replaces invalid UTF-8 (zip member names can be any
// bytes), which PostgreSQL text cannot hold.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}
