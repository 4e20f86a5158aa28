package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// readFile reads an uploaded document: at most Options.MaxFile bytes, not empty, of a
// kind incident.Sniff takes, its name agreeing with its content.
func (s *Service) readFile(name string, r io.Reader) (File, error) {
	name = safeName(name)
	if name == "" {
		return File{}, problem.Required("name")
	}
	up, err := incident.ReadUpload(name, r, s.opt.MaxFile)
	if err != nil {
		return File{}, incident.UploadProblem(err, s.opt.MaxFile, "policy")
	}
	return File{Name: name, Kind: up.Type.Kind, ContentType: up.Type.ContentType, Size: int64(len(up.Data)),
		SHA256: up.SHA256, Content: up.Data}, nil
}

// safeName is incident.SafeName: an uploaded file's name, reduced to its last element.
var safeName = incident.SafeName

// AttachFile attaches a document to the latest version of policy id, a draft (replacing
// the one attached before).
func (s *Service) AttachFile(ctx context.Context, a actor.Actor, id int64, name string, r io.Reader) (Policy, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil { // before reading a stranger's upload
		return Policy{}, err
	}
	f, err := s.readFile(name, r)
	if err != nil {
		return Policy{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if p.Status != StatusDraft {
			return problem.Conflict("a document is attached to a draft").WithMsg("policy.error.state")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET file_name = ?, file_kind = ?, file_type = ?, file_size = ?,
			file_sha256 = ?, file_content = ? WHERE policy_id = ? AND version = ?`, f.Name, f.Kind, f.ContentType, f.Size, f.SHA256,
			f.Content, id, p.Version); err != nil {
			return fmt.Errorf("policy: attach: %w", err)
		}
		return s.record(ctx, tx, a, p, "policy.attach", fmt.Sprintf("policy %d %s: version %d document %s (%s, %d bytes, SHA-256 %s)",
			id, p.Title, p.Version, f.Name, f.Kind, f.Size, f.SHA256), []any{id, p.Title, p.Version, f.Name, f.SHA256},
			map[string]any{"version": p.Version, "name": f.Name, "kind": f.Kind, "size": f.Size, "sha256": f.SHA256})
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}

// File returns the document attached to version v of policy id, with its content.
func (s *Service) File(ctx context.Context, a actor.Actor, id int64, v int) (File, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return File{}, err
	}
	var f File
	err := s.db.QueryRowContext(ctx, `SELECT file_name, file_kind, file_type, file_size, file_sha256, file_content
		FROM policy_versions WHERE policy_id = ? AND version = ?`, id, v).Scan(&f.Name, &f.Kind, &f.ContentType, &f.Size, &f.SHA256, &f.Content)
	if err != nil || f.Name == "" {
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			return File{}, problem.NotFound("document")
		}
		return File{}, fmt.Errorf("policy: document: %w", err)
	}
	return served(f), nil
}

// served never serves a file as HTML.
func served(f File) File {
	if strings.Contains(strings.ToLower(f.ContentType), "html") {
		f.ContentType = "application/octet-stream"
	}
	return f
}
