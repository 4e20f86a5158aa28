package supply

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
)

// AlertPage returns one page of the alerts a may see, newest first — limit of them
// after skipping offset (the caller validates both) — and how many there are in all;
// open keeps only those not yet acknowledged.
func (s *Service) AlertPage(ctx context.Context, a actor.Actor, open bool, limit, offset int) ([]Alert, int, error) {
	cond, arg := a.SeesSQL("o.path")
	if open {
		cond += ` AND al.acknowledged_at IS NULL`
	}
	const from = ` FROM supply_alerts al JOIN orgs o ON o.id = al.org_id WHERE `
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from+cond, arg).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("supply: count alerts: %w", err)
	}
	out := []Alert{}
	if total == 0 || offset >= total {
		return out, total, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+alertColumns+from+cond+` ORDER BY al.created_at DESC, al.id DESC LIMIT ? OFFSET ?`, arg, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("supply: list alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		al, err := scanAlert(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("supply: list alerts: %w", err)
		}
		out = append(out, al)
	}
	return out, total, rows.Err()
}
