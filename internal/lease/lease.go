// Package lease owns the leases through which the medguard processes serving one
// database share out background work. A lease names a piece of work, the process that
// holds it (its holder) and when it expires; the holder renews it — its heartbeat —
// every third of its time to live. A process takes a lease only when it is free, expired
// or already its own, in one statement that is atomic on SQLite and PostgreSQL, so two
// processes never hold one lease, and the work of a process that died is taken over
// once its lease expires.
//
// Times are the holders' clocks: the nodes of one database must keep their clocks
// synchronised (NTP) to well within a lease's time to live.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// DefaultTTL is the time to live of a lease unless configured otherwise: how long the
// work of a process that died waits before another takes it over.
const DefaultTTL = 30 * time.Second

// NodePrefix begins the name of the lease each serving process holds for itself.
const NodePrefix = "node:"

// NewHolder returns a name for this process that no other process shares: the host
// name, the process id and a random suffix, prefixed with NodePrefix.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%s-%d-%s", NodePrefix, host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Manager takes, renews and releases leases for one holder.
type Manager struct {
	db     *store.DB
	holder string
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger
}

// New returns a Manager of holder's leases on db, each taken for ttl (DefaultTTL when
// ttl is not positive).
func New(db *store.DB, holder string, ttl time.Duration, logger *slog.Logger) *Manager {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Manager{db: db, holder: holder, ttl: ttl, now: time.Now, log: logger}
}

// Holder returns the name of the holder whose leases m takes.
func (m *Manager) Holder() string { return m.holder }

// TTL returns the time to live of the leases m takes.
func (m *Manager) TTL() time.Duration { return m.ttl }

// Heartbeat returns how often a held lease is renewed: a third of its time to live.
func (m *Manager) Heartbeat() time.Duration { return m.ttl / 3 }

// SetClock replaces the manager's clock; tests use it to let leases expire.
func (m *Manager) SetClock(now func() time.Time) { m.now = now }

func (m *Manager) stamp() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

// Acquire takes lease name for the time to live when it is free, expired or already
// this holder's (then it renews it), and reports whether it holds it now.
func (m *Manager) Acquire(ctx context.Context, name string) (bool, error) {
	now := m.stamp()
	res, err := m.db.ExecContext(ctx, `INSERT INTO leases (name, holder, acquired_at, heartbeat, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, heartbeat = excluded.heartbeat, expires_at = excluded.expires_at,
			acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
		WHERE leases.holder = excluded.holder OR leases.expires_at < excluded.heartbeat`,
		name, m.holder, now, now, now.Add(m.ttl))
	if err != nil {
		return false, fmt.Errorf("lease: acquire %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease: acquire %s: %w", name, err)
	}
	return n == 1, nil
}

// Renew extends lease name by the time to live when this holder still holds it, and
// reports whether it does.
func (m *Manager) Renew(ctx context.Context, name string) (bool, error) {
	now := m.stamp()
	res, err := m.db.ExecContext(ctx, `UPDATE leases SET heartbeat = ?, expires_at = ? WHERE name = ? AND holder = ?`,
		now, now.Add(m.ttl), name, m.holder)
	if err != nil {
		return false, fmt.Errorf("lease: renew %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease: renew %s: %w", name, err)
	}
	return n == 1, nil
}

// Release gives lease name up when this holder holds it, so that another process may
// take it at once.
func (m *Manager) Release(ctx context.Context, name string) error {
	if _, err := m.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, m.holder); err != nil {
		return fmt.Errorf("lease: release %s: %w", name, err)
	}
	return nil
}

// Prune deletes the leases that expired more than a time to live ago; a missing lease
// and an expired one mean the same.
func (m *Manager) Prune(ctx context.Context) error {
	if _, err := m.db.ExecContext(ctx, `DELETE FROM leases WHERE expires_at < ?`, m.stamp().Add(-m.ttl)); err != nil {
		return fmt.Errorf("lease: prune: %w", err)
	}
	return nil
}

// Live returns the SQL condition that lease column (an expression naming a lease) is
// held and not expired, and its argument: for queries that leave alone the work of
// living processes.
func (m *Manager) Live(column string) (string, any) {
	return `EXISTS (SELECT 1 FROM leases WHERE leases.name = ` + column + ` AND leases.expires_at >= ?)`, m.stamp()
}

// heartbeat renews lease name every heartbeat until ctx ends, calling lose when it
// is lost.
func (m *Manager) heartbeat(ctx context.Context, name string, lose func()) {
	t := time.NewTicker(m.Heartbeat())
	defer t.Stop()
	last := m.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := m.Renew(ctx, name)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && m.now().Sub(last) < m.ttl:
			m.log.Warn("renew a lease", "lease", name, "err", err)
			continue
		case err != nil || !ok:
			m.log.Error("lost a lease: its work stops here", "lease", name, "err", err)
			lose()
			return
		}
		last = m.now()
	}
}
