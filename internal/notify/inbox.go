package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
)

// InboxItem is one alert in a user's in-app inbox.
type InboxItem struct {
	ID        int64        `json:"id"`
	AlertID   int64        `json:"alert_id"`
	Severity  string       `json:"severity"`
	Title     i18n.Message `json:"title"`
	CreatedAt time.Time    `json:"created_at"`
	ReadAt    *time.Time   `json:"read_at,omitempty"`
}

// Unread returns the count of unread items in a user's inbox (the bell).
func (s *Service) Unread(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_inbox WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("notify: unread: %w", err)
	}
	return n, nil
}

// Inbox lists a user's inbox, newest first, at most limit items.
func (s *Service) Inbox(ctx context.Context, userID int64, limit int) ([]InboxItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, alert_id, severity, title, created_at, read_at FROM notify_inbox
		WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxItem
	for rows.Next() {
		var it InboxItem
		var title string
		var created, read store.Time
		if err := rows.Scan(&it.ID, &it.AlertID, &it.Severity, &title, &created, &read); err != nil {
			return nil, fmt.Errorf("notify: inbox: %w", err)
		}
		_ = json.Unmarshal([]byte(title), &it.Title)
		it.CreatedAt, it.ReadAt = created.Time, read.Ptr()
		out = append(out, it)
	}
	return out, rows.Err()
}

// MarkRead marks items of a user's inbox read (all of them when ids is empty).
func (s *Service) MarkRead(ctx context.Context, userID int64, ids ...int64) error {
	q := `UPDATE notify_inbox SET read_at = ? WHERE user_id = ? AND read_at IS NULL`
	args := []any{s.now(), userID}
	if len(ids) > 0 {
		q += ` AND id IN (` + store.Placeholders(len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	return nil
}
