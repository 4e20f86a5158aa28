package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Channel is a configured receiver of messages.
type Channel struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	URL       string    `json:"-"` // may carry a robot's access token
	Secret    string    `json:"-"` // as stored: sealed (see seal.go), or plain from before sealing
	HasSecret bool      `json:"has_secret"`
	Username  string    `json:"smtp_username,omitempty"`
	From      string    `json:"smtp_from,omitempty"`
	To        []string  `json:"smtp_to,omitempty"`
	StartTLS  bool      `json:"smtp_starttls"`
	Lang      string    `json:"lang"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
}

// RedactedURL is the channel's URL without its query and user information, to show.
func (c Channel) RedactedURL() string {
	u, err := url.Parse(c.URL)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// config is the channel as its sender needs it.
func (c Channel) config() channel.Config {
	return channel.Config{Kind: c.Kind, URL: c.URL, Secret: c.Secret, Username: c.Username, From: c.From, To: c.To, StartTLS: c.StartTLS}
}

// ChannelInput is a new channel.
type ChannelInput struct {
	OrgID    int64
	Name     string
	Kind     string
	URL      string
	Secret   string
	Lang     string // default zh-CN
	Username string // SMTP
	From     string
	To       []string
	StartTLS bool
}

func (in *ChannelInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return problem.Invalid("name", "a channel needs a name").WithMsg("notify.error.name")
	case utf8.RuneCountInString(in.Name) > 100:
		return problem.Invalid("name", "the channel name is longer than 100 characters").WithMsg("notify.error.name_long")
	case !slices.Contains(channel.Kinds(), in.Kind):
		list := strings.Join(channel.Kinds(), ", ")
		return problem.Invalid("kind", "the kind must be one of %s", list).WithMsg("notify.error.kind", list)
	}
	if in.Lang == "" {
		in.Lang = i18n.ZhCN
	}
	if !slices.Contains(i18n.Languages, in.Lang) {
		list := strings.Join(i18n.Languages, ", ")
		return problem.Invalid("lang", "the language must be one of %s", list).WithMsg("notify.error.lang", list)
	}
	if in.Kind == channel.KindSMTP {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.User != nil {
			return problem.Invalid("url", "the URL of an e-mail channel must be smtp://host:port or smtps://host:port").WithMsg("notify.error.smtp_url")
		}
		if len(in.To) == 0 || in.From == "" {
			return problem.Invalid("to", "an e-mail channel needs a sender and at least one recipient").WithMsg("notify.error.smtp_addresses")
		}
		return nil
	}
	if err := channel.CheckURL(in.URL); err != nil {
		return problem.Invalid("url", "the URL must be an http:// or https:// URL with a host").WithMsg("notify.error.url").WithErr(err)
	}
	// The sender's own checks: a robot's URL holds its key, so it must be https (plain
	// http only to a loopback address) and carry no user name.
	if _, err := channel.New(channel.Config{Kind: in.Kind, URL: in.URL, Secret: in.Secret}, channel.Options{}); err != nil {
		return problem.Invalid("url", "a robot URL must be https (http only to a loopback address) without a user name").
			WithMsg("notify.error.robot_url").WithErr(err)
	}
	return nil
}

// orgPath returns the path of organisation id if a sees it, else a not-found problem.
func orgPath(ctx context.Context, q store.Querier, a actor.Actor, id int64) (string, error) {
	var p string
	err := q.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(p)) {
		return "", problem.NotFound("organisation")
	}
	if err != nil {
		return "", fmt.Errorf("notify: organisation %d: %w", id, err)
	}
	return p, nil
}

// AddChannel stores a new channel of an organisation a sees.
func (s *Service) AddChannel(ctx context.Context, a actor.Actor, in ChannelInput) (Channel, error) {
	if err := in.validate(); err != nil {
		return Channel{}, err
	}
	stored, err := s.sealSecret(in.OrgID, in.Name, in.Secret)
	if err != nil {
		return Channel{}, err
	}
	now := s.now()
	c := Channel{OrgID: in.OrgID, Name: in.Name, Kind: in.Kind, URL: in.URL, Secret: stored, HasSecret: in.Secret != "",
		Username: in.Username, From: in.From, To: in.To, StartTLS: in.StartTLS, Lang: in.Lang, Enabled: true, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := orgPath(ctx, tx, a, in.OrgID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO notify_channels (org_id, name, kind, url, secret, smtp_username, smtp_from, smtp_to,
			smtp_starttls, lang, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?) RETURNING id`,
			c.OrgID, c.Name, c.Kind, c.URL, stored, c.Username, c.From, strings.Join(c.To, ","), c.StartTLS, c.Lang, now, now).Scan(&c.ID)
		if store.IsUniqueViolation(err) {
			return problem.Conflict("a channel of that name exists in the organisation").WithMsg("notify.error.channel_exists")
		}
		if err != nil {
			return fmt.Errorf("notify: add channel: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "notify.channel_add", ObjectType: "notify_channel",
			ObjectID: strconv.FormatInt(c.ID, 10), OrgID: c.OrgID, Summary: c.Kind + " " + c.Name, After: c,
			Msg: trail.Msg("trail.summary.notify.channel_add", c.Name, c.Kind)})
		return err
	})
	s.forgetRoutes() // after the commit, so that no raise caches the routes without it
	return c, err
}

const channelCols = `c.id, c.org_id, c.name, c.kind, c.url, c.secret, c.smtp_username, c.smtp_from, c.smtp_to, c.smtp_starttls, c.lang, c.enabled, c.created_at`

func scanChannel(sc interface{ Scan(...any) error }) (Channel, error) {
	var c Channel
	var to string
	var created store.Time
	if err := sc.Scan(&c.ID, &c.OrgID, &c.Name, &c.Kind, &c.URL, &c.Secret, &c.Username, &c.From, &to, &c.StartTLS, &c.Lang, &c.Enabled, &created); err != nil {
		return Channel{}, err
	}
	if to != "" {
		c.To = strings.Split(to, ",")
	}
	c.HasSecret = c.Secret != ""
	c.CreatedAt = created.Time
	return c, nil
}

// Channels lists the channels of the organisations a sees, by organisation and name.
func (s *Service) Channels(ctx context.Context, a actor.Actor) ([]Channel, error) {
	cond, arg := a.SeesSQL("o.path")
	out, err := store.Collect(ctx, s.db, func(sc store.Scanner) (Channel, error) { return scanChannel(sc) },
		`SELECT `+channelCols+` FROM notify_channels c JOIN orgs o ON o.id = c.org_id WHERE `+cond+` ORDER BY o.path, c.name`, arg)
	if err != nil {
		return nil, fmt.Errorf("notify: channels: %w", err)
	}
	return out, nil
}

// ChannelByName returns the channel called name that a sees; when several organisations
// have one of that name, the one nearest the top of the tree.
func (s *Service) ChannelByName(ctx context.Context, a actor.Actor, name string) (Channel, error) {
	cond, arg := a.SeesSQL("o.path")
	c, err := scanChannel(s.db.QueryRowContext(ctx, `SELECT `+channelCols+` FROM notify_channels c JOIN orgs o ON o.id = c.org_id
		WHERE c.name = ? AND `+cond+` ORDER BY LENGTH(o.path), o.path LIMIT 1`, name, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, problem.NotFound("channel")
	}
	if err != nil {
		return Channel{}, fmt.Errorf("notify: channel: %w", err)
	}
	return c, nil
}

// enabledChannels lists every enabled channel, for the dispatcher.
func (s *Service) enabledChannels(ctx context.Context) ([]Channel, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+channelCols+` FROM notify_channels c WHERE c.enabled ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("notify: channels: %w", err)
	}
	defer rows.Close()
	var out []Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("notify: channels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Route sends the alerts of an organisation (with Subtree, also of those below it) that
// match Source, Kind and MinSeverity ("" matches all) to a channel, a user's inbox or the
// inboxes of the users with a role.
type Route struct {
	ID          int64  `json:"id"`
	OrgID       int64  `json:"org_id"`
	ChannelID   int64  `json:"channel_id,omitempty"`
	UserID      int64  `json:"user_id,omitempty"`
	Role        string `json:"role,omitempty"`
	Source      string `json:"source,omitempty"`
	Kind        string `json:"kind,omitempty"`
	MinSeverity string `json:"min_severity,omitempty"`
	Subtree     bool   `json:"subtree"`
	// Quiet hours, minutes after midnight in TimeZone; -1 (or start = end): none.
	QuietStart int    `json:"quiet_start"`
	QuietEnd   int    `json:"quiet_end"`
	TimeZone   string `json:"time_zone"`
	// A critical alert not acknowledged within EscalateMinutes is sent to
	// EscalateChannelID too.
	EscalateMinutes   int   `json:"escalate_minutes,omitempty"`
	EscalateChannelID int64 `json:"escalate_channel_id,omitempty"`
}

func (r *Route) validate() error {
	if r.ChannelID == 0 && r.UserID == 0 && r.Role == "" {
		return problem.Invalid("channel", "a route needs a channel, a user or a role to send to").WithMsg("notify.error.receiver")
	}
	if r.MinSeverity != "" && severityRank(r.MinSeverity) == 0 {
		list := strings.Join(Severities, ", ")
		return problem.Invalid("min_severity", "the minimum severity must be one of %s", list).WithMsg("notify.error.severity", list)
	}
	if r.TimeZone == "" {
		r.TimeZone = "Asia/Shanghai"
	}
	if _, err := time.LoadLocation(r.TimeZone); err != nil {
		return problem.Invalid("time_zone", "the time zone is not a known one").WithMsg("notify.error.time_zone")
	}
	if r.QuietStart == 0 && r.QuietEnd == 0 {
		r.QuietStart, r.QuietEnd = -1, -1
	}
	for _, m := range []int{r.QuietStart, r.QuietEnd} {
		if m < -1 || m >= 24*60 {
			return problem.Invalid("quiet_start", "quiet hours are minutes of the day (0 to 1439)").WithMsg("notify.error.quiet_hours")
		}
	}
	if r.EscalateMinutes < 0 || (r.EscalateMinutes > 0) != (r.EscalateChannelID != 0) {
		return problem.Invalid("escalate_minutes", "escalation needs both minutes and a channel").WithMsg("notify.error.escalation")
	}
	return nil
}

// AddRoute stores a route of an organisation a sees; its channels must belong to that
// organisation or one above it.
func (s *Service) AddRoute(ctx context.Context, a actor.Actor, r Route) (Route, error) {
	if err := r.validate(); err != nil {
		return Route{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := orgPath(ctx, tx, a, r.OrgID); err != nil {
			return err
		}
		for _, id := range []int64{r.ChannelID, r.EscalateChannelID} {
			if id == 0 {
				continue
			}
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_channels c JOIN orgs co ON co.id = c.org_id
				JOIN orgs ro ON ro.id = ? WHERE c.id = ? AND `+actor.ContainsSQL("co.path", "ro.path"), r.OrgID, id).Scan(&n)
			if err != nil {
				return fmt.Errorf("notify: route channel: %w", err)
			}
			if n == 0 {
				return problem.NotFound("channel")
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO notify_routes (org_id, channel_id, user_id, role, source, kind, min_severity, subtree,
			quiet_start, quiet_end, time_zone, escalate_minutes, escalate_channel_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.OrgID, store.NullID(r.ChannelID), store.NullID(r.UserID), r.Role, r.Source, r.Kind, r.MinSeverity, r.Subtree,
			r.QuietStart, r.QuietEnd, r.TimeZone, r.EscalateMinutes, store.NullID(r.EscalateChannelID), s.now()).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("notify: add route: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "notify.route_add", ObjectType: "notify_route",
			ObjectID: strconv.FormatInt(r.ID, 10), OrgID: r.OrgID, After: r,
			Summary: "route to channel " + strconv.FormatInt(r.ChannelID, 10),
			Msg:     trail.Msg("trail.summary.notify.route_add", r.ChannelID)})
		return err
	})
	s.forgetRoutes() // after the commit, so that no raise caches the routes without it
	return r, err
}

// Routes lists the routes of the organisations a sees.
func (s *Service) Routes(ctx context.Context, a actor.Actor) ([]Route, error) {
	cond, arg := a.SeesSQL("o.path")
	out, err := store.Collect(ctx, s.db, func(sc store.Scanner) (Route, error) { return scanRoute(sc) },
		`SELECT `+routeCols+` FROM notify_routes r JOIN orgs o ON o.id = r.org_id WHERE `+cond+` ORDER BY o.path, r.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("notify: routes: %w", err)
	}
	return out, nil
}

const routeCols = `r.id, r.org_id, COALESCE(r.channel_id, 0), COALESCE(r.user_id, 0), r.role, r.source, r.kind, r.min_severity, r.subtree,
	r.quiet_start, r.quiet_end, r.time_zone, r.escalate_minutes, COALESCE(r.escalate_channel_id, 0)`

func scanRoute(sc interface{ Scan(...any) error }, extra ...any) (Route, error) {
	var r Route
	err := sc.Scan(append([]any{&r.ID, &r.OrgID, &r.ChannelID, &r.UserID, &r.Role, &r.Source, &r.Kind, &r.MinSeverity, &r.Subtree,
		&r.QuietStart, &r.QuietEnd, &r.TimeZone, &r.EscalateMinutes, &r.EscalateChannelID}, extra...)...)
	return r, err
}

// Channel returns channel id if a sees its organisation.
func (s *Service) Channel(ctx context.Context, a actor.Actor, id int64) (Channel, error) {
	cond, arg := a.SeesSQL("o.path")
	c, err := scanChannel(s.db.QueryRowContext(ctx, `SELECT `+channelCols+` FROM notify_channels c JOIN orgs o ON o.id = c.org_id
		WHERE c.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, problem.NotFound("channel")
	}
	if err != nil {
		return Channel{}, fmt.Errorf("notify: channel %d: %w", id, err)
	}
	return c, nil
}
