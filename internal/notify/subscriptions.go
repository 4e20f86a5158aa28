package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Subscription is a user's own route: the alerts of the user's organisation and of those
// below it that match Source, Kind and MinSeverity ("" matches all) go to the user's
// in-app inbox. It is stored as a route whose only receiver is the user.
type Subscription struct {
	ID          int64  `json:"id"`
	OrgID       int64  `json:"org_id"`
	Source      string `json:"source,omitempty"`
	Kind        string `json:"kind,omitempty"`
	MinSeverity string `json:"min_severity,omitempty"`
}

// SubscriptionInput is what a user chooses when subscribing.
type SubscriptionInput struct {
	Source      string `json:"source"`
	Kind        string `json:"kind"`
	MinSeverity string `json:"min_severity"`
}

// subscriptionOf is the condition that makes a route a subscription of user ?: the user is
// its only receiver.
const subscriptionOf = `r.user_id = ? AND r.channel_id IS NULL AND r.role = '' AND r.escalate_channel_id IS NULL`

// Subscribe stores a subscription of a to alerts of a's own organisation subtree. Whom it
// sends to and which organisation it covers come from a alone, so no one can subscribe
// another user, another organisation or a channel this way; the inbox is filled only
// for users who see the alert's organisation.
func (s *Service) Subscribe(ctx context.Context, a actor.Actor, in SubscriptionInput) (Subscription, error) {
	if a.UserID == 0 || a.OrgID == 0 {
		return Subscription{}, problem.Forbidden("only a signed-in user of an organisation can subscribe").WithMsg("notify.error.subscribe_user")
	}
	in.Source, in.Kind = strings.TrimSpace(in.Source), strings.TrimSpace(in.Kind)
	if utf8.RuneCountInString(in.Source) > 100 || utf8.RuneCountInString(in.Kind) > 100 {
		return Subscription{}, problem.Invalid("kind", "the source and the kind are at most 100 characters").WithMsg("notify.error.subscription_long")
	}
	r := Route{OrgID: a.OrgID, UserID: a.UserID, Source: in.Source, Kind: in.Kind, MinSeverity: in.MinSeverity, Subtree: true}
	if err := r.validate(); err != nil {
		return Subscription{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := orgPath(ctx, tx, a, r.OrgID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO notify_routes (org_id, user_id, role, source, kind, min_severity, subtree,
			quiet_start, quiet_end, time_zone, escalate_minutes, created_at)
			VALUES (?, ?, '', ?, ?, ?, TRUE, ?, ?, ?, 0, ?) RETURNING id`,
			r.OrgID, r.UserID, r.Source, r.Kind, r.MinSeverity, r.QuietStart, r.QuietEnd, r.TimeZone, s.now()).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("notify: subscribe: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "notify.subscribe", ObjectType: "notify_route",
			ObjectID: strconv.FormatInt(r.ID, 10), OrgID: r.OrgID, After: r,
			Summary: "subscribed to alerts", Msg: trail.Msg("trail.summary.notify.subscribe")})
		return err
	})
	s.forgetRoutes() // after the commit, so that no raise caches the routes without it
	if err != nil {
		return Subscription{}, err
	}
	return Subscription{ID: r.ID, OrgID: r.OrgID, Source: r.Source, Kind: r.Kind, MinSeverity: r.MinSeverity}, nil
}

// Subscriptions lists a's own subscriptions, oldest first.
func (s *Service) Subscriptions(ctx context.Context, a actor.Actor) ([]Subscription, error) {
	if a.UserID == 0 {
		return nil, nil
	}
	out, err := store.Collect(ctx, s.db, func(sc store.Scanner) (Subscription, error) {
		var x Subscription
		err := sc.Scan(&x.ID, &x.OrgID, &x.Source, &x.Kind, &x.MinSeverity)
		return x, err
	}, `SELECT r.id, r.org_id, r.source, r.kind, r.min_severity FROM notify_routes r WHERE `+subscriptionOf+` ORDER BY r.id`, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("notify: subscriptions: %w", err)
	}
	return out, nil
}

// Unsubscribe removes a's subscription id; any other route, another user's subscription
// among them, is not found.
func (s *Service) Unsubscribe(ctx context.Context, a actor.Actor, id int64) error {
	if a.UserID == 0 {
		return problem.NotFound("subscription")
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var orgID int64
		err := tx.QueryRowContext(ctx, `SELECT r.org_id FROM notify_routes r WHERE r.id = ? AND `+subscriptionOf, id, a.UserID).Scan(&orgID)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("subscription")
		}
		if err != nil {
			return fmt.Errorf("notify: unsubscribe %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_routes WHERE id = ?`, id); err != nil {
			return fmt.Errorf("notify: unsubscribe %d: %w", id, err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "notify.unsubscribe", ObjectType: "notify_route",
			ObjectID: strconv.FormatInt(id, 10), OrgID: orgID,
			Summary: "subscription removed", Msg: trail.Msg("trail.summary.notify.unsubscribe")})
		return err
	})
	s.forgetRoutes()
	return err
}

// RemoveRoute removes route id of an organisation a sees. Its alerts already in the
// outbox are still sent; new ones no longer match it, in this process at once.
func (s *Service) RemoveRoute(ctx context.Context, a actor.Actor, id int64) error {
	cond, arg := a.SeesSQL("o.path")
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := scanRoute(tx.QueryRowContext(ctx, `SELECT `+routeCols+` FROM notify_routes r JOIN orgs o ON o.id = r.org_id
			WHERE r.id = ? AND `+cond, id, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("route")
		}
		if err != nil {
			return fmt.Errorf("notify: remove route %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_routes WHERE id = ?`, id); err != nil {
			return fmt.Errorf("notify: remove route %d: %w", id, err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "notify.route_remove", ObjectType: "notify_route",
			ObjectID: strconv.FormatInt(id, 10), OrgID: r.OrgID, Before: r,
			Summary: "route removed", Msg: trail.Msg("trail.summary.notify.route_remove", id)})
		return err
	})
	s.forgetRoutes() // after the commit: the next raise reads the routes again
	return err
}

// SetChannelEnabled disables or enables channel id of an organisation a sees. A disabled
// channel gets no new outbox rows (neither from its routes nor as an escalation
// channel); what already waits for it stays in the outbox, unsent, and is sent once the
// channel is enabled again. Setting the state it already has changes nothing.
func (s *Service) SetChannelEnabled(ctx context.Context, a actor.Actor, id int64, enabled bool) (Channel, error) {
	cond, arg := a.SeesSQL("o.path")
	var c Channel
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = scanChannel(tx.QueryRowContext(ctx, `SELECT `+channelCols+` FROM notify_channels c JOIN orgs o ON o.id = c.org_id
			WHERE c.id = ? AND `+cond, id, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("channel")
		}
		if err != nil {
			return fmt.Errorf("notify: channel %d: %w", id, err)
		}
		if c.Enabled == enabled {
			return nil
		}
		c.Enabled = enabled
		if _, err := tx.ExecContext(ctx, `UPDATE notify_channels SET enabled = ?, updated_at = ? WHERE id = ?`, enabled, s.now(), id); err != nil {
			return fmt.Errorf("notify: channel %d: %w", id, err)
		}
		ev := trail.Event{Action: "notify.channel_disable", ObjectType: "notify_channel",
			ObjectID: strconv.FormatInt(id, 10), OrgID: c.OrgID, Summary: "channel disabled: " + c.Name,
			Msg: trail.Msg("trail.summary.notify.channel_disable", c.Name)}
		if enabled {
			ev.Action, ev.Summary, ev.Msg = "notify.channel_enable", "channel enabled: "+c.Name, trail.Msg("trail.summary.notify.channel_enable", c.Name)
		}
		_, err = s.trail.Append(ctx, tx, a, ev)
		return err
	})
	s.forgetRoutes() // after the commit, so that no raise caches the routes of the old state
	if err == nil && enabled {
		s.Wake()
	}
	return c, err
}
