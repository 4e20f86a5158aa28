// Package store owns the database connection: it opens the embedded SQLite store or a
// PostgreSQL server, applies the embedded versioned migrations, rewrites portable `?`
// placeholders for the dialect in use and runs write transactions. Domain packages keep
// their own SQL; this package only makes the same SQL run on both engines.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the database/sql driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned by lookups that match no row.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write violates a uniqueness constraint.
var ErrConflict = errors.New("already exists")

// Config selects the database. DSN, when set, must be a postgres:// URL; otherwise the
// SQLite file medguard.db under DataDir is used.
type Config struct {
	DataDir string
	DSN     string
}

// DB is an open database. Reads go to a pool; writes go through Tx, which on SQLite uses
// a single connection so that writers queue in Go instead of failing with SQLITE_BUSY.
type DB struct {
	dialect Dialect
	read    *sql.DB
	write   *sql.DB
	rebinds sync.Map // query string → rebound string (Postgres only)
	stmts   stmtCache
	gate    writeGate // SQLite: the order of the transactions waiting for the writer
	// SQLite: the background checkpoints (checkpoints), stopped by Close.
	stopCheckpoints context.CancelFunc
	checkpointsDone chan struct{}
}

// stmtCache keeps the writer's prepared statements on SQLite, which otherwise parses each
// statement of a transaction anew: for a long statement run once per row (raising an
// alert, say) the parsing cost more than the running. PostgreSQL's driver caches its
// own. At most maxCached statements, the first ones asked for: the others are parsed
// each time, as before.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

const maxCached = 512

// cached returns the writer's prepared statement of query, or nil when there is none
// (yet): a statement worth keeping is noted, and prepared once the transaction has
// ended — the writer's one connection is the transaction's until then.
func (tx *Tx) cached(query string) *sql.Stmt {
	db := tx.db
	if db.dialect != SQLite || !isDML(query) {
		return nil
	}
	c := &db.stmts
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCached
	c.mu.Unlock()
	if ok {
		return st
	}
	if !full && !slices.Contains(tx.want, query) {
		tx.want = append(tx.want, query)
	}
	return nil
}

// prepare prepares on the writer the statements noted by a transaction that has ended.
// One that fails to prepare is left out: it runs uncached and reports its error there.
func (db *DB) prepare(ctx context.Context, queries []string) {
	c := &db.stmts
	for _, q := range queries {
		c.mu.Lock()
		_, ok := c.m[q]
		full := len(c.m) >= maxCached
		c.mu.Unlock()
		if ok || full {
			continue
		}
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.m[q]; ok || c.closed {
			st.Close()
		} else {
			if c.m == nil {
				c.m = map[string]*sql.Stmt{}
			}
			c.m[q] = st
		}
		c.mu.Unlock()
	}
}

// isDML reports whether q reads or changes rows (not a schema or pragma statement, which
// change what a prepared statement means).
func isDML(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n")
	for _, w := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"} {
		if len(q) >= len(w) && strings.EqualFold(q[:len(w)], w) {
			return true
		}
	}
	return false
}

// Open opens (and for SQLite creates) the database named by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.DSN != "" {
		if !strings.HasPrefix(cfg.DSN, "postgres://") && !strings.HasPrefix(cfg.DSN, "postgresql://") {
			return nil, fmt.Errorf("store: database URL must start with postgres:// (got scheme %q)", schemeOf(cfg.DSN))
		}
		return openPostgres(ctx, cfg.DSN)
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	return OpenSQLiteFile(ctx, filepath.Join(dir, "medguard.db"))
}

func schemeOf(dsn string) string {
	if i := strings.Index(dsn, "://"); i > 0 {
		return dsn[:i]
	}
	return ""
}

// OpenSQLiteFile opens the SQLite database in the file at path (WAL, foreign keys,
// busy timeout). The file holds patient data: it is created 0600 (in a directory
// created 0700), and an existing one readable by others is made 0600; SQLite gives its
// -wal and -shm files the mode of the database file.
func OpenSQLiteFile(ctx context.Context, path string) (*DB, error) {
	if err := privateFile(path); err != nil {
		return nil, err
	}
	dsn := sqliteDSN(path)
	write, err := sql.Open("sqlite", sqliteWriterDSN(dsn))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	db := &DB{dialect: SQLite, read: read, write: write}
	cctx, stop := context.WithCancel(context.Background())
	db.stopCheckpoints, db.checkpointsDone = stop, make(chan struct{})
	go db.checkpoints(cctx)
	return db, nil
}

// checkpointEvery is how often a SQLite store copies its write-ahead log into the
// database file in the background.
const checkpointEvery = 250 * time.Millisecond

// checkpoints runs a PASSIVE checkpoint every checkpointEvery until ctx ends, on a reader
// connection: it waits for no reader or writer and holds no write lock, so that the
// writer's commits no longer do it. With SQLite's automatic checkpoint (every 1,000
// pages) the commit that crossed the mark copied the log and synced the file while it
// held the one writer: 0.7 s of a 15 s latency run went there, in stalls every ingest
// batch and alert behind it waited for (bench/RESULTS.md). The writer's own automatic
// checkpoint stays, at a mark this rarely reaches (sqliteWriterDSN), should these fall
// behind.
func (db *DB) checkpoints(ctx context.Context) {
	defer close(db.checkpointsDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// An error (SQLITE_BUSY while another process checkpoints, say) is tried again
		// at the next tick; the writer's own checkpoint is the backstop.
		_, _ = db.read.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// sqliteDSN is the modernc.org/sqlite data source name for the file at path. The driver
// runs the _pragma values in the order given, on every new connection: busy_timeout
// comes first, so that journal_mode(WAL) and the others wait for a lock held by another
// connection or process instead of failing at once with SQLITE_BUSY.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_time_format", "sqlite")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// sqliteWriterDSN adds to dsn the pragmas of the one writer connection: a 64 MiB page
// cache (the default 2 MiB spills dirty index pages of a large append to the WAL before
// the commit and reads them back), the statement journal of a multi-row statement
// kept in memory instead of a temporary file, and its automatic checkpoint at 16,384
// pages (64 MiB of log) instead of 1,000, a backstop for the background checkpoints. None
// changes durability: the commit still writes the WAL as before.
func sqliteWriterDSN(dsn string) string {
	return dsn + "&_pragma=" + url.QueryEscape("cache_size(-65536)") + "&_pragma=" + url.QueryEscape("temp_store(MEMORY)") +
		"&_pragma=" + url.QueryEscape("wal_autocheckpoint(16384)")
}

// privateFile creates the database file at path with mode 0600 when it does not exist
// (and its directory with 0700), and takes the group's and others' permissions off it
// and off its -wal and -shm files when they exist.
func privateFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: create database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("store: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: create database file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: database file: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("store: make the database file private: %w", err)
			}
		}
	}
	return nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres URL: %w", redactErr(err))
	}
	// pgx prepares and caches statements; after five runs PostgreSQL may switch to a
	// generic plan that ignores the actual scope and page, which for paged lists reads
	// and sorts the whole table. Always plan with the real parameters.
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(16)
	pool.SetMaxIdleConns(16)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", redactErr(err))
	}
	return &DB{dialect: Postgres, read: pool, write: pool}, nil
}

// Optimize refreshes the query planner's statistics; call it after bulk writes (imports,
// seeding), when the planner would otherwise plan for an empty table.
func (db *DB) Optimize(ctx context.Context) error {
	var err error
	if db.dialect == Postgres {
		_, err = db.write.ExecContext(ctx, `ANALYZE`)
	} else {
		_, err = db.write.ExecContext(ctx, `PRAGMA optimize=0x10002`)
	}
	if err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	return nil
}

// redactErr drops connection strings (which may carry a password) from driver errors.
func redactErr(err error) error {
	var pgErr *pgconn.ConnectError
	if errors.As(err, &pgErr) {
		return errors.New("connection refused or rejected by server")
	}
	return err
}

// Dialect reports the engine in use.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes every connection.
func (db *DB) Close() error {
	if db.stopCheckpoints != nil {
		db.stopCheckpoints()
		<-db.checkpointsDone
	}
	db.stmts.mu.Lock()
	for q, st := range db.stmts.m {
		st.Close()
		delete(db.stmts.m, q)
	}
	db.stmts.closed = true
	db.stmts.mu.Unlock()
	err := db.read.Close()
	if db.write != db.read {
		if werr := db.write.Close(); err == nil {
			err = werr
		}
	}
	return err
}

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.PingContext(ctx)
}

// Querier is what both DB and Tx offer: portable-placeholder queries.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	Dialect() Dialect
}

// QueryContext runs a read query; `?` placeholders are rewritten for the dialect.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.rebind(query), args...)
}

// QueryRowContext runs a read query that returns at most one row.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.rebind(query), args...)
}

// ExecContext runs one statement outside an explicit transaction (on the writer).
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.rebind(query), args...)
}

func (db *DB) rebind(q string) string {
	if db.dialect != Postgres {
		return q
	}
	if v, ok := db.rebinds.Load(q); ok {
		return v.(string)
	}
	r := Rebind(q)
	db.rebinds.Store(q, r)
	return r
}

// Rebind rewrites `?` placeholders to PostgreSQL's `$1, $2, …`, leaving quoted text alone.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Tx is a write transaction.
type Tx struct {
	tx   *sql.Tx
	db   *DB
	want []string // statements to prepare for the next transactions (stmtCache)
}

// Dialect reports the engine in use.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// QueryContext runs a query inside the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.cached(query); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, tx.db.rebind(query), args...)
}

// QueryRowContext runs a query that returns at most one row inside the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.cached(query); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, tx.db.rebind(query), args...)
}

// ExecContext runs a statement inside the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.cached(query); st != nil {
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, tx.db.rebind(query), args...)
}

// PrepareContext prepares a statement inside the transaction, for one statement run many
// times (a bulk append); the statement is closed when the transaction ends.
func (tx *Tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return tx.tx.PrepareContext(ctx, tx.db.rebind(query))
}

// WithPgx runs fn on one connection of the PostgreSQL pool as a pgx connection, for the
// bulk paths database/sql does not offer (COPY). fn owns any transaction it begins. It
// fails on SQLite.
func (db *DB) WithPgx(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	if db.dialect != Postgres {
		return errors.New("store: a pgx connection exists on PostgreSQL only")
	}
	c, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connection: %w", err)
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: driver connection %T is not pgx", dc)
		}
		return fn(pc.Conn())
	})
}

// InTx runs fn in a write transaction, committing when fn returns nil and rolling back
// otherwise (also on panic). On SQLite the transactions waiting for the one writer
// begin in the order they asked.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, false, fn)
}

// InTxFirst is InTx for a small transaction that should not wait behind bulk ones: on
// SQLite it begins ahead of the InTx calls waiting for the writer (after those that
// asked first earlier). The live detection runner commits its alerts this way, so that
// an alert waits for at most the ingest batch being written, not for every one queued.
func (db *DB) InTxFirst(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, true, fn)
}

func (db *DB) inTx(ctx context.Context, first bool, fn func(tx *Tx) error) (err error) {
	if db.dialect == SQLite {
		if err := db.gate.acquire(ctx, first); err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		defer db.gate.release()
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, db: db}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if len(tx.want) > 0 {
		db.prepare(ctx, tx.want)
	}
	return nil
}

// IsUniqueViolation reports whether err comes from a UNIQUE or PRIMARY KEY constraint.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// IsForeignKeyViolation reports whether err comes from a FOREIGN KEY constraint.
func IsForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return false
}

// ForUpdate returns " FOR UPDATE" on PostgreSQL and "" on SQLite, whose write
// transactions already hold the database lock.
func (d Dialect) ForUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
