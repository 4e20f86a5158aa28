package policy

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
	data, err := io.ReadAll(io.LimitReader(r, s.opt.MaxFile+1))
	if err != nil {
		return File{}, fmt.Errorf("policy: read the file: %w", err)
	}
	if int64(len(data)) > s.opt.MaxFile {
		return File{}, problem.Invalid("file", "is larger than %d bytes", s.opt.MaxFile).WithMsg("policy.error.too_large", s.opt.MaxFile>>20)
	}
	if len(data) == 0 {
		return File{}, problem.Invalid("file", "is empty").WithMsg("policy.error.empty_file")
	}
	ft, err := incident.Sniff(name, data)
	if err != nil {
		return File{}, fileProblem(err)
	}
	sum := sha256.Sum256(data)
	return File{Name: name, Kind: ft.Kind, ContentType: ft.ContentType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Content: data}, nil
}

// fileProblem says why Sniff refused a file, as a problem of the field "file".
func fileProblem(err error) *problem.Error {
	msg := strings.TrimPrefix(err.Error(), "incident: ")
	switch {
	case errors.Is(err, incident.ErrActive):
		return problem.Invalid("file", "%s", msg).WithMsg("policy.error.file_active")
	case errors.Is(err, incident.ErrExecutable):
		return problem.Invalid("file", "%s", msg).WithMsg("policy.error.file_executable")
	case errors.Is(err, incident.ErrDisguised):
		return problem.Invalid("file", "%s", msg).WithMsg("policy.error.file_disguised")
	}
	return problem.Invalid("file", "%s", msg).WithMsg("policy.error.file_unknown_type")
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
