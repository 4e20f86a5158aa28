package events

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// MaxRateBuckets is the most buckets one Rates call counts: a week by the minute, or
// more than a year by the hour.
const MaxRateBuckets = 10_080

// SystemRate is how many events one system sent in each bucket of a Rates.
type SystemRate struct {
	System string  `json:"system"`
	Counts []int64 `json:"counts"` // one a bucket, in the order of Rates.Buckets
	Total  int64   `json:"total"`
}

// Rates is the event rate of the organisations an actor sees: events counted per system
// in buckets of Step, aligned on multiples of Step since the Unix epoch (minutes on the
// minute, hours on the hour, in UTC), covering [From, To).
type Rates struct {
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
	Step    int64        `json:"step_seconds"`
	Buckets []time.Time  `json:"buckets"` // the start of each bucket
	Systems []SystemRate `json:"systems"` // by system name
	Total   int64        `json:"total"`
}

// Rates counts the events (by event time) of the organisations a sees in [from, to),
// per system and per bucket of step, one SQL aggregate on either engine; from is moved
// back to the start of its bucket. Every bucket of the range is present, empty ones
// with zero counts. A step under a minute, a range that is empty or one of more than
// MaxRateBuckets buckets is refused (problem.Invalid).
func (s *Service) Rates(ctx context.Context, a actor.Actor, from, to time.Time, step time.Duration) (Rates, error) {
	if step < time.Minute || step%time.Second != 0 {
		return Rates{}, problem.Invalid("step", "must be whole seconds, at least a minute").WithMsg("events.err.rate_step")
	}
	sec := int64(step / time.Second)
	from, to = from.UTC(), to.UTC()
	start := time.Unix(floorDiv(from.Unix(), sec)*sec, 0).UTC()
	if !to.After(from) {
		return Rates{}, problem.Invalid("to", "must be after from").WithMsg("events.err.rate_range")
	}
	n := (to.Sub(start) + step - 1) / step
	if n > MaxRateBuckets {
		return Rates{}, problem.Invalid("to", "the range holds more than %d buckets", MaxRateBuckets).
			WithMsg("events.err.rate_buckets", MaxRateBuckets)
	}
	out := Rates{From: start, To: to, Step: sec, Buckets: make([]time.Time, n), Systems: []SystemRate{}}
	for i := range out.Buckets {
		out.Buckets[i] = start.Add(time.Duration(i) * step)
	}
	// The bucket as seconds since the epoch divided by the step: SQLite keeps event times
	// as UTC text (the driver's "YYYY-MM-DD HH:MM:SS[.f]+00:00"), whose first 19
	// characters strftime reads; PostgreSQL has the epoch of a timestamptz.
	epoch := `CAST(strftime('%s', substr(e.time, 1, 19)) AS INTEGER)`
	if s.db.Dialect() == store.Postgres {
		epoch = `CAST(FLOOR(EXTRACT(EPOCH FROM e.time)) AS BIGINT)`
	}
	bucket := fmt.Sprintf("(%s - %d) / %d", epoch, start.Unix(), sec)
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT `+bucket+` AS b, e.system, COUNT(*) FROM events e
		JOIN orgs o ON o.id = e.org_id
		WHERE `+cond+` AND e.time >= ? AND e.time < ?
		GROUP BY b, e.system`, arg, start, to)
	if err != nil {
		return Rates{}, fmt.Errorf("events: rates: %w", err)
	}
	defer rows.Close()
	bySystem := map[string]*SystemRate{}
	for rows.Next() {
		var b, c int64
		var system string
		if err := rows.Scan(&b, &system, &c); err != nil {
			return Rates{}, fmt.Errorf("events: rates: %w", err)
		}
		if b < 0 || b >= int64(n) {
			continue // cannot happen for rows of the range; never index out of it
		}
		sr := bySystem[system]
		if sr == nil {
			sr = &SystemRate{System: system, Counts: make([]int64, n)}
			bySystem[system] = sr
		}
		sr.Counts[b] += c
		sr.Total += c
		out.Total += c
	}
	if err := rows.Err(); err != nil {
		return Rates{}, fmt.Errorf("events: rates: %w", err)
	}
	for _, sr := range bySystem {
		out.Systems = append(out.Systems, *sr)
	}
	slices.SortFunc(out.Systems, func(x, y SystemRate) int {
		switch {
		case x.System < y.System:
			return -1
		case x.System > y.System:
			return 1
		}
		return 0
	})
	return out, nil
}

// floorDiv is a / b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
