package dataflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

const attachmentColumns = `id, name, kind, content_type, size, sha256, added_by, added_at`

func scanAttachment(sc store.Scanner) (Attachment, error) {
	var at Attachment
	var added store.Time
	if err := sc.Scan(&at.ID, &at.Name, &at.Kind, &at.ContentType, &at.Size, &at.SHA256, &at.AddedBy, &added); err != nil {
		return Attachment{}, err
	}
	at.AddedAt = added.Time
	return at, nil
}

// safeName keeps the base of an uploaded file's name, without control characters, at
// most 200 characters.
func safeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if name == "." || name == "/" {
		return ""
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// AddAttachment stores a document of flow id (its agreement, a destruction certificate):
// at most Options.MaxAttachment bytes, of a kind incident.Sniff takes with a name that
// agrees with its content; its SHA-256 is kept and the addition trailed.
func (s *Service) AddAttachment(ctx context.Context, a actor.Actor, id int64, name string, r io.Reader) (Attachment, error) {
	name = safeName(name)
	if name == "" {
		return Attachment{}, problem.Required("name")
	}
	if _, err := s.get(ctx, s.db, a, id); err != nil { // before reading a stranger's upload
		return Attachment{}, err
	}
	up, err := incident.ReadUpload(name, r, s.opt.MaxAttachment)
	if err != nil {
		return Attachment{}, incident.UploadProblem(err, s.opt.MaxAttachment, "incident")
	}
	data, ft := up.Data, up.Type
	at := Attachment{Name: name, Kind: ft.Kind, ContentType: ft.ContentType, Size: int64(len(data)), SHA256: up.SHA256,
		AddedBy: a.Username}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		f, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		at.AddedAt = s.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO dataflow_attachments (flow_id, name, kind, content_type, size, sha256, content,
			added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, name, ft.Kind, ft.ContentType, at.Size, at.SHA256,
			data, a.Username, at.AddedAt).Scan(&at.ID); err != nil {
			return fmt.Errorf("dataflow: attachment: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "dataflow.attach", ObjectType: "dataflow", ObjectID: itoa(id), OrgID: f.OrgID,
			Summary: fmt.Sprintf("data flow %d %s: document %s (%s, %d bytes, SHA-256 %s)", id, f.Name, name, ft.Kind, at.Size, at.SHA256),
			Msg:     trail.Msg("trail.summary.dataflow.attach", id, f.Name, name, at.SHA256),
			After:   map[string]any{"attachment": at.ID, "name": name, "kind": ft.Kind, "size": at.Size, "sha256": at.SHA256}})
		return err
	})
	if err != nil {
		return Attachment{}, err
	}
	return at, nil
}

// Attachment reads document attachmentID of flow flowID with its content, as a sees it.
func (s *Service) Attachment(ctx context.Context, a actor.Actor, flowID, attachmentID int64) (Attachment, error) {
	if _, err := s.get(ctx, s.db, a, flowID); err != nil {
		return Attachment{}, err
	}
	var at Attachment
	var added store.Time
	err := s.db.QueryRowContext(ctx, `SELECT `+attachmentColumns+`, content FROM dataflow_attachments WHERE id = ? AND flow_id = ?`,
		attachmentID, flowID).Scan(&at.ID, &at.Name, &at.Kind, &at.ContentType, &at.Size, &at.SHA256, &at.AddedBy, &added, &at.Content)
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, problem.NotFound("attachment")
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("dataflow: attachment %d: %w", attachmentID, err)
	}
	at.AddedAt = added.Time
	return at, nil
}
