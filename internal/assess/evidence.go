package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Link is a platform record: a module and the record's id.
type Link struct {
	Module string `json:"module"`
	ID     int64  `json:"id"`
}

// linkTables are the modules a piece of evidence may link to: their table, id column
// and organisation column.
var linkTables = map[string][3]string{
	"risk":     {"risks", "id", "org_id"},
	"incident": {"incidents", "id", "org_id"},
	"dlp_scan": {"dlp_scans", "id", "org_id"},
	"delivery": {"deliveries", "id", "org_id"},
	"finding":  {"findings", "id", "org_id"},
	"alert":    {"alerts", "id", "org_id"},
	"app":      {"apps", "id", "org_id"},
	"plan":     {"plans", "id", "org_id"},
	"trail":    {"trail", "seq", "org_id"},
}

// LinkModules lists the modules evidence may link to; each has a catalogue key
// "assess.module.<id>".
var LinkModules = []string{"risk", "incident", "dlp_scan", "delivery", "finding", "alert", "app", "plan", "trail"}

// LinkInput links a platform record as evidence of an item, until ExpiresAt (default
// Options.FileValidity from now).
type LinkInput struct {
	Module    string     `json:"module"`
	ID        int64      `json:"id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// expiry checks an expiry given by a person (nil: the default validity from now).
func (s *Service) expiry(exp *time.Time, now time.Time) (time.Time, error) {
	if exp == nil || exp.IsZero() {
		return now.Add(s.opt.FileValidity), nil
	}
	if !exp.After(now) {
		return time.Time{}, problem.Invalid("expires_at", "is in the past").WithMsg("assess.error.expiry_past")
	}
	return exp.UTC(), nil
}

// AddLink links a platform record of the assessment's organisation (or below) as
// evidence of item itemID; the trail entry of a platform-wide change (no organisation)
// may be linked too.
func (s *Service) AddLink(ctx context.Context, a actor.Actor, id int64, itemID string, in LinkInput) (Evidence, error) {
	t, ok := linkTables[in.Module]
	if !ok {
		return Evidence{}, problem.OneOf("module", LinkModules...)
	}
	var e Evidence
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		x, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		it, err := s.item(ctx, tx, id, itemID)
		if err != nil {
			return err
		}
		var path sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT o.path FROM `+t[0]+` r LEFT JOIN orgs o ON o.id = r.`+t[2]+` WHERE r.`+t[1]+` = ?`,
			in.ID).Scan(&path)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return problem.Invalid("id", "no such record").WithMsg("assess.error.record")
		case err != nil:
			return fmt.Errorf("assess: link: %w", err)
		case !path.Valid && in.Module == "trail":
		case !path.Valid || !strings.HasPrefix(path.String, x.orgPath):
			return problem.Invalid("id", "no such record").WithMsg("assess.error.record")
		}
		now := s.now()
		exp, err := s.expiry(in.ExpiresAt, now)
		if err != nil {
			return err
		}
		e = Evidence{Kind: EvidenceLink, Module: in.Module, RecordID: in.ID, ExpiresAt: &exp, AddedBy: a.Username, AddedAt: now}
		if err := tx.QueryRowContext(ctx, `INSERT INTO assess_evidence (item_id, kind, module, record_id, expires_at, added_by, added_at)
			VALUES (?, 'link', ?, ?, ?, ?, ?) RETURNING id`, it.RowID, in.Module, in.ID, exp, a.Username, now).Scan(&e.ID); err != nil {
			return fmt.Errorf("assess: link: %w", err)
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "assess.link", ObjectType: "assessment", ObjectID: itoa(id),
			OrgID: x.OrgID, Summary: fmt.Sprintf("assessment %d %s: item %s evidence %s %d", id, x.Title, itemID, in.Module, in.ID),
			Msg:   trail.Msg("trail.summary.assess.link", id, x.Title, itemID, in.Module, in.ID),
			After: map[string]any{"item": itemID, "module": in.Module, "id": in.ID, "expires_at": exp}})
		return err
	})
	return e, err
}

// safeName is incident.SafeName: an uploaded file's name, reduced to its last element.
var safeName = incident.SafeName

// AddFile stores an evidence file for item itemID: at most Options.MaxAttachment bytes,
// of a kind incident.Sniff takes, its name agreeing with its content, valid until
// expires (nil: Options.FileValidity from now). Its SHA-256 is kept and trailed.
func (s *Service) AddFile(ctx context.Context, a actor.Actor, id int64, itemID, name string, expires *time.Time, r io.Reader) (Evidence, error) {
	name = safeName(name)
	if name == "" {
		return Evidence{}, problem.Required("name")
	}
	if _, err := s.get(ctx, s.db, a, id); err != nil { // before reading a stranger's upload
		return Evidence{}, err
	}
	up, err := incident.ReadUpload(name, r, s.opt.MaxAttachment)
	if err != nil {
		return Evidence{}, incident.UploadProblem(err, s.opt.MaxAttachment, "incident")
	}
	data, ft := up.Data, up.Type
	e := Evidence{Kind: EvidenceFile, Name: name, FileKind: ft.Kind, ContentType: ft.ContentType, Size: int64(len(data)),
		SHA256: up.SHA256, AddedBy: a.Username}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		x, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		it, err := s.item(ctx, tx, id, itemID)
		if err != nil {
			return err
		}
		now := s.now()
		exp, err := s.expiry(expires, now)
		if err != nil {
			return err
		}
		e.AddedAt, e.ExpiresAt = now, &exp
		if err := tx.QueryRowContext(ctx, `INSERT INTO assess_evidence (item_id, kind, name, file_kind, content_type, size, sha256,
			content, expires_at, added_by, added_at) VALUES (?, 'file', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, it.RowID, name,
			ft.Kind, ft.ContentType, e.Size, e.SHA256, data, exp, a.Username, now).Scan(&e.ID); err != nil {
			return fmt.Errorf("assess: file: %w", err)
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "assess.file", ObjectType: "assessment", ObjectID: itoa(id),
			OrgID: x.OrgID, Summary: fmt.Sprintf("assessment %d %s: item %s evidence file %s (%s, %d bytes, SHA-256 %s)", id,
				x.Title, itemID, name, ft.Kind, e.Size, e.SHA256),
			Msg:   trail.Msg("trail.summary.assess.file", id, x.Title, itemID, name, e.SHA256),
			After: map[string]any{"item": itemID, "evidence": e.ID, "name": name, "kind": ft.Kind, "size": e.Size, "sha256": e.SHA256}})
		return err
	})
	if err != nil {
		return Evidence{}, err
	}
	return e, nil
}

// EvidenceFile returns evidence file evidenceID of assessment id with its content.
func (s *Service) EvidenceFile(ctx context.Context, a actor.Actor, id, evidenceID int64) (Evidence, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return Evidence{}, err
	}
	var content []byte
	_, e, err := s.scanEvidence(scanWith(s.db.QueryRowContext(ctx, `SELECT `+evidenceColumns+`, e.content FROM assess_evidence e
		JOIN assess_items i ON i.id = e.item_id WHERE e.id = ? AND i.assessment_id = ? AND e.kind = 'file'`, evidenceID, id), &content))
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, problem.NotFound("evidence")
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("assess: evidence file: %w", err)
	}
	e.Content = content
	if strings.Contains(strings.ToLower(e.ContentType), "html") { // never, but never served so either
		e.ContentType = "application/octet-stream"
	}
	return e, nil
}

// scanWith is a scanner that fills extra after the columns its caller scans.
type extraScanner struct {
	sc    store.Scanner
	extra []any
}

func scanWith(sc store.Scanner, extra ...any) store.Scanner { return extraScanner{sc, extra} }

func (e extraScanner) Scan(dest ...any) error { return e.sc.Scan(slices.Concat(dest, e.extra)...) }
