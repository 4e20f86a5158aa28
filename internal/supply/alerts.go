package supply

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/medguard/medguard/internal/i18n"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Alert is a notice raised by the supply chain: a new advisory hitting stored software,
// or a delivery that failed its integrity check.
type Alert struct {
	ID       int64  `json:"id"`
	OrgID    int64  `json:"org_id"`
	OrgName  string `json:"org_name"`
	Kind     string `json:"kind"` // new_vulnerability, delivery_failed
	VulnID   string `json:"vuln_id"`
	Severity string `json:"severity"`
	Title    string `json:"title"` // English
	// TitleMsg is Title as a catalogue key and arguments; nil for alerts raised before
	// titles were stored that way.
	TitleMsg       *i18n.Message   `json:"title_msg,omitempty"`
	Detail         json.RawMessage `json:"detail"`
	CreatedAt      time.Time       `json:"created_at"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at"`
	AcknowledgedBy string          `json:"acknowledged_by"`
}

func (s *Service) insertAlert(ctx context.Context, tx *store.Tx, orgID int64, kind, vulnID, severity, title string, titleMsg i18n.Message, detail any, now time.Time) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("supply: alert detail: %w", err)
	}
	tm, err := json.Marshal(titleMsg)
	if err != nil {
		return fmt.Errorf("supply: alert title: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO supply_alerts (org_id, kind, vuln_id, severity, title, title_msg, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, orgID, kind, vulnID, severity, title, string(tm), string(b), now); err != nil {
		return fmt.Errorf("supply: insert alert: %w", err)
	}
	return nil
}

const alertColumns = `al.id, al.org_id, o.name, al.kind, al.vuln_id, al.severity, al.title, al.title_msg, al.detail, al.created_at,
	al.acknowledged_at, al.acknowledged_by`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var al Alert
	var detail, titleMsg string
	var ack sql.NullTime
	err := sc.Scan(&al.ID, &al.OrgID, &al.OrgName, &al.Kind, &al.VulnID, &al.Severity, &al.Title, &titleMsg, &detail, &al.CreatedAt,
		&ack, &al.AcknowledgedBy)
	al.Detail = json.RawMessage(detail)
	if titleMsg != "" {
		var m i18n.Message
		if json.Unmarshal([]byte(titleMsg), &m) == nil && m.Key != "" {
			al.TitleMsg = &m
		}
	}
	al.CreatedAt = al.CreatedAt.UTC()
	if ack.Valid {
		t := ack.Time.UTC()
		al.AcknowledgedAt = &t
	}
	return al, err
}

// Alerts lists the most recent alerts in a's scope (unacknowledged only when open).
func (s *Service) Alerts(ctx context.Context, a actor.Actor, open bool, limit int) ([]Alert, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	cond, arg := a.SeesSQL("o.path")
	if open {
		cond += ` AND al.acknowledged_at IS NULL`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+alertColumns+` FROM supply_alerts al JOIN orgs o ON o.id = al.org_id
		WHERE `+cond+` ORDER BY al.created_at DESC, al.id DESC LIMIT ?`, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("supply: list alerts: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		al, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("supply: list alerts: %w", err)
		}
		out = append(out, al)
	}
	return out, rows.Err()
}

// Acknowledge marks alert id as seen by a.
func (s *Service) Acknowledge(ctx context.Context, a actor.Actor, id int64) (Alert, error) {
	var out Alert
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		cond, arg := a.SeesSQL("o.path")
		before, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM supply_alerts al JOIN orgs o ON o.id = al.org_id
			WHERE al.id = ? AND `+cond, id, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("alert")
		}
		if err != nil {
			return fmt.Errorf("supply: read alert %d: %w", id, err)
		}
		out = before
		if before.AcknowledgedAt != nil {
			return nil
		}
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `UPDATE supply_alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?`,
			now, a.Username, id); err != nil {
			return fmt.Errorf("supply: acknowledge alert %d: %w", id, err)
		}
		out.AcknowledgedAt, out.AcknowledgedBy = &now, a.Username
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.acknowledge", ObjectType: "supply_alert",
			ObjectID: idString(id), OrgID: before.OrgID, Summary: before.Title, Msg: alertMsg(before.Title, before.TitleMsg)})
		return err
	})
	return out, err
}
