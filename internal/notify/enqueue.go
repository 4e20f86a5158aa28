package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Event is an alert raised or incremented, as notify needs it. Package alert fills it in
// the transaction that stores the alert and passes it to Enqueue.
type Event struct {
	AlertID  int64
	OrgID    int64
	Source   string // module: supply, dlp, …
	Kind     string
	Severity string
	Title    i18n.Message
	Subject  string // masked: never a patient identifier or a raw value
	Silenced bool   // stored and shown as silenced, never notified
	// Created is false when the alert existed and was incremented (same dedup key):
	// it is notified again only when its severity rose above PrevSeverity.
	Created      bool
	PrevSeverity string
	FirstSeen    time.Time
	LastSeen     time.Time
	Count        int
}

// notifies reports whether ev is to be notified at all.
func (ev Event) notifies() bool {
	if ev.Silenced {
		return false
	}
	return ev.Created || severityRank(ev.Severity) > severityRank(ev.PrevSeverity)
}

// matchedRoute is a route that matched an event, with what Enqueue needs of it.
type matchedRoute struct {
	Route
	sameOrg bool
}

// Enqueue writes the notifications of ev in tx, the transaction that stores the alert:
// one outbox row per channel a matching route names (held until the route's quiet hours
// end unless the alert is critical; one more row, due after the route's escalation delay,
// for a critical alert with an escalation channel), and one inbox row per user a route
// names directly or through a role, among those who see the alert's organisation. A
// silenced alert, and an incremented one whose severity did not rise, writes nothing.
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, ev Event) error {
	if !ev.notifies() {
		return nil
	}
	routes, err := s.matchRoutes(ctx, tx, ev)
	if err != nil || len(routes) == 0 {
		return err
	}
	now := s.now()
	title, err := json.Marshal(ev.Title)
	if err != nil {
		return fmt.Errorf("notify: title: %w", err)
	}
	due := map[int64]time.Time{}      // channel → when its row may be sent
	escalate := map[int64]time.Time{} // escalation channel → when
	users := map[int64]bool{}
	var roles []string
	for _, r := range routes {
		if r.ChannelID != 0 {
			at := now
			if ev.Severity != "critical" {
				at = quietEnd(now, r.Route)
			}
			if t, ok := due[r.ChannelID]; !ok || at.Before(t) {
				due[r.ChannelID] = at
			}
		}
		if r.UserID != 0 {
			users[r.UserID] = true
		}
		if r.Role != "" {
			roles = append(roles, r.Role)
		}
		if ev.Severity == "critical" && r.EscalateMinutes > 0 && r.EscalateChannelID != 0 {
			at := now.Add(time.Duration(r.EscalateMinutes) * time.Minute)
			if t, ok := escalate[r.EscalateChannelID]; !ok || at.Before(t) {
				escalate[r.EscalateChannelID] = at
			}
		}
	}
	ins := func(channelID int64, at time.Time, escalation bool) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_outbox (channel_id, org_id, alert_id, source, kind, severity, title, subject,
			first_seen, last_seen, alert_count, escalation, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			channelID, ev.OrgID, ev.AlertID, ev.Source, ev.Kind, ev.Severity, string(title), ev.Subject,
			utcOrNil(ev.FirstSeen), utcOrNil(ev.LastSeen), max(ev.Count, 1), escalation, at, now)
		if err != nil {
			return fmt.Errorf("notify: enqueue: %w", err)
		}
		return nil
	}
	for id, at := range due {
		if err := ins(id, at, false); err != nil {
			return err
		}
	}
	for id, at := range escalate {
		if err := ins(id, at, true); err != nil {
			return err
		}
	}
	return s.fillInboxes(ctx, tx, ev, string(title), users, roles, now)
}

func utcOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// routeTTL is how long the routes of an organisation are kept in memory: a route or
// channel added by another process (the CLI, another node) applies within it; one added
// through this process applies at once.
const routeTTL = 5 * time.Second

// cachedRoutes are the routes that apply to the alerts of one organisation.
type cachedRoutes struct {
	at     time.Time
	routes []matchedRoute
}

// forgetRoutes drops the cached routes; every write to routes or channels calls it.
func (s *Service) forgetRoutes() {
	s.mu.Lock()
	s.routes = nil
	s.mu.Unlock()
}

// matchRoutes returns the routes of ev's organisation and of those above it that match
// ev's source, kind, severity and (for routes of an organisation above) subtree.
func (s *Service) matchRoutes(ctx context.Context, tx *store.Tx, ev Event) ([]matchedRoute, error) {
	all, err := s.orgRoutes(ctx, tx, ev.OrgID)
	if err != nil {
		return nil, err
	}
	var out []matchedRoute
	for _, r := range all {
		if (r.Source != "" && r.Source != ev.Source) || (r.Kind != "" && r.Kind != ev.Kind) {
			continue
		}
		if r.MinSeverity != "" && severityRank(ev.Severity) < severityRank(r.MinSeverity) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// orgRoutes returns the routes that apply to the alerts of organisation orgID (its own,
// and those of the organisations above it that include their subtree, whose channel is
// enabled), from the cache when it is younger than routeTTL.
func (s *Service) orgRoutes(ctx context.Context, tx *store.Tx, orgID int64) ([]matchedRoute, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.routes[orgID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < routeTTL && !now.Before(c.at) {
		return c.routes, nil
	}
	// A route to a disabled channel does not apply; one whose escalation channel is
	// disabled applies without its escalation.
	rows, err := tx.QueryContext(ctx, `SELECT `+routeCols+`, CASE WHEN ro.id = ao.id THEN 1 ELSE 0 END,
		CASE WHEN ec.id IS NULL OR ec.enabled THEN 1 ELSE 0 END
		FROM notify_routes r JOIN orgs ro ON ro.id = r.org_id JOIN orgs ao ON ao.id = ?
		LEFT JOIN notify_channels c ON c.id = r.channel_id LEFT JOIN notify_channels ec ON ec.id = r.escalate_channel_id
		WHERE `+actor.ContainsSQL("ro.path", "ao.path")+` AND (c.id IS NULL OR c.enabled) ORDER BY r.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("notify: routes: %w", err)
	}
	defer rows.Close()
	var out []matchedRoute
	for rows.Next() {
		var same, escalates int
		r, err := scanRoute(rows, &same, &escalates)
		if err != nil {
			return nil, fmt.Errorf("notify: routes: %w", err)
		}
		if escalates == 0 {
			r.EscalateMinutes, r.EscalateChannelID = 0, 0
		}
		if same == 0 && !r.Subtree {
			continue
		}
		out = append(out, matchedRoute{Route: r, sameOrg: same == 1})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: routes: %w", err)
	}
	s.mu.Lock()
	if s.routes == nil {
		s.routes = map[int64]cachedRoutes{}
	}
	s.routes[orgID] = cachedRoutes{at: now, routes: out}
	s.mu.Unlock()
	return out, nil
}

// quietEnd returns now, or the end of the route's quiet hours when now falls in them.
func quietEnd(now time.Time, r Route) time.Time {
	if r.QuietStart < 0 || r.QuietEnd < 0 || r.QuietStart == r.QuietEnd {
		return now
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	l := now.In(loc)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	m := l.Hour()*60 + l.Minute()
	at := func(day, minute int) time.Time {
		return midnight.AddDate(0, 0, day).Add(time.Duration(minute) * time.Minute).UTC()
	}
	if r.QuietStart < r.QuietEnd { // 12:00–14:00
		if m >= r.QuietStart && m < r.QuietEnd {
			return at(0, r.QuietEnd)
		}
		return now
	}
	// Across midnight: 22:00–07:00.
	if m >= r.QuietStart {
		return at(1, r.QuietEnd)
	}
	if m < r.QuietEnd {
		return at(0, r.QuietEnd)
	}
	return now
}

// fillInboxes writes an inbox row for each user named and each enabled user with one of
// roles, among those whose organisation contains the alert's; a row already there (an
// alert whose severity rose) becomes unread again.
func (s *Service) fillInboxes(ctx context.Context, tx *store.Tx, ev Event, title string, users map[int64]bool, roles []string, now time.Time) error {
	if len(users) == 0 && len(roles) == 0 {
		return nil
	}
	var who []string
	var args []any
	if len(users) > 0 {
		who = append(who, "u.id IN ("+store.Placeholders(len(users))+")")
		for id := range users {
			args = append(args, id)
		}
	}
	if len(roles) > 0 {
		c, a := tx.Dialect().AnyOf("u.role", roles)
		who, args = append(who, c), append(args, a...)
	}
	cond := who[0]
	if len(who) == 2 {
		cond = "(" + who[0] + " OR " + who[1] + ")"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notify_inbox (user_id, alert_id, org_id, severity, title, created_at)
		SELECT u.id, ?, ?, ?, ?, ? FROM users u JOIN orgs uo ON uo.id = u.org_id JOIN orgs ao ON ao.id = ?
		WHERE NOT u.disabled AND `+actor.ContainsSQL("uo.path", "ao.path")+` AND `+cond+`
		ON CONFLICT (user_id, alert_id) DO UPDATE SET read_at = NULL, severity = excluded.severity, title = excluded.title`,
		append([]any{ev.AlertID, ev.OrgID, ev.Severity, title, now, ev.OrgID}, args...)...)
	if err != nil {
		return fmt.Errorf("notify: inbox: %w", err)
	}
	return nil
}

// EnqueueTest writes a test message for a channel to the outbox and returns its row id.
func (s *Service) EnqueueTest(ctx context.Context, c Channel) (int64, error) {
	if !c.Enabled {
		return 0, problem.Conflict("the channel is disabled: enable it to send a test message").WithMsg("notify.error.channel_disabled")
	}
	title, _ := json.Marshal(i18n.M("notify.test.title"))
	now := s.now()
	var id int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO notify_outbox (channel_id, org_id, alert_id, source, kind, severity, title,
			first_seen, last_seen, test, not_before, created_at) VALUES (?, ?, 0, 'notify', 'test', 'info', ?, ?, ?, TRUE, ?, ?) RETURNING id`,
			c.ID, c.OrgID, string(title), now, now, now, now).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("notify: enqueue a test: %w", err)
	}
	s.Wake()
	return id, nil
}
