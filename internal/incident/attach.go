package incident

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/textenc"
	"github.com/medguard/medguard/internal/trail"
)

// FileType is a kind of evidence file the incidents take, recognised by its content.
type FileType struct {
	// Kind is the stable name: pdf, png, jpeg, text, csv, docx, xlsx, pptx, pcap.
	Kind string
	// ContentType is the type the file is served as: never text/html, never a type a
	// browser runs.
	ContentType string
	// Exts are the extensions a file of this kind may be named with.
	Exts []string
}

// fileTypes are the kinds taken, by Kind.
var fileTypes = map[string]FileType{
	"pdf":  {"pdf", "application/pdf", []string{".pdf"}},
	"png":  {"png", "image/png", []string{".png"}},
	"jpeg": {"jpeg", "image/jpeg", []string{".jpg", ".jpeg"}},
	"text": {"text", "text/plain", []string{".txt", ".log", ".json", ".md"}},
	"csv":  {"csv", "text/csv", []string{".csv", ".tsv"}},
	"docx": {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []string{".docx"}},
	"xlsx": {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []string{".xlsx"}},
	"pptx": {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", []string{".pptx"}},
	"pcap": {"pcap", "application/vnd.tcpdump.pcap", []string{".pcap", ".pcapng", ".cap"}},
}

// activeExts are extensions of content a browser or a desktop would run; a file named
// so is refused whatever it holds.
var activeExts = []string{".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".js", ".mjs", ".hta", ".xml", ".xsl",
	".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".sh", ".elf", ".so", ".dylib", ".jar",
	".apk", ".docm", ".xlsm", ".pptm"}

// Reasons a file is refused by Sniff.
var (
	// ErrActive: HTML, script, SVG or XML, or a file named as such.
	ErrActive = errors.New("incident: active content (HTML, script, SVG) is not taken")
	// ErrExecutable: an executable (ELF, PE, Mach-O, a script with #!) or Office macros.
	ErrExecutable = errors.New("incident: executables and macros are not taken")
	// ErrDisguised: the name's extension disagrees with the content.
	ErrDisguised = errors.New("incident: the file's name disagrees with its content")
	// ErrUnknownType: content of a kind not taken.
	ErrUnknownType = errors.New("incident: a file of this type is not taken")
)

// Reasons ReadUpload refuses a file besides Sniff's.
var (
	ErrTooLarge = errors.New("incident: the file is too large")
	ErrEmpty    = errors.New("incident: the file is empty")
)

// Upload is an uploaded file read whole and checked by ReadUpload.
type Upload struct {
	Type   FileType
	Data   []byte
	SHA256 string // hex
}

// ReadUpload reads an uploaded file whole — at most max bytes — and checks its content
// against name with Sniff: the one reading of an upload for every module that stores
// documents (incident evidence, assessment evidence, policy documents, data-flow
// agreements). A refused file is ErrTooLarge, ErrEmpty or one of Sniff's errors (see
// Refused); any other error is the reader's.
func ReadUpload(name string, r io.Reader, max int64) (Upload, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return Upload{}, fmt.Errorf("read the upload: %w", err)
	}
	if int64(len(data)) > max {
		return Upload{}, ErrTooLarge
	}
	if len(data) == 0 {
		return Upload{}, ErrEmpty
	}
	ft, err := Sniff(name, data)
	if err != nil {
		return Upload{}, err
	}
	sum := sha256.Sum256(data)
	return Upload{Type: ft, Data: data, SHA256: hex.EncodeToString(sum[:])}, nil
}

// Refused reports whether err is ReadUpload's refusal of the file (the sender's doing)
// rather than a failure to read it.
func Refused(err error) bool {
	for _, e := range []error{ErrTooLarge, ErrEmpty, ErrActive, ErrExecutable, ErrDisguised, ErrUnknownType} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// sniffLen is how much of a text file is searched for markup.
const sniffLen = 4 << 10

// Sniff tells the kind of an evidence file from its content, and checks that name's
// extension agrees with it. It refuses HTML, scripts, SVG and XML (ErrActive),
// executables and Office documents with macros (ErrExecutable), a name that disagrees
// with the content (ErrDisguised) and anything else it does not know (ErrUnknownType).
// For text it returns the content type with the detected charset.
func Sniff(name string, data []byte) (FileType, error) {
	ext := strings.ToLower(path.Ext(name))
	if slices.Contains(activeExts, ext) {
		if ext == ".docm" || ext == ".xlsm" || ext == ".pptm" || ext == ".exe" || ext == ".dll" || ext == ".elf" {
			return FileType{}, ErrExecutable
		}
		return FileType{}, ErrActive
	}
	kind, err := sniffKind(data)
	if err != nil {
		return FileType{}, err
	}
	ft := fileTypes[kind]
	if !slices.Contains(ft.Exts, ext) {
		// A text file may hold CSV and the other way round: both are text.
		if kind == "text" && slices.Contains(fileTypes["csv"].Exts, ext) {
			ft = fileTypes["csv"]
		} else {
			return FileType{}, ErrDisguised
		}
	}
	if ft.Kind == "text" || ft.Kind == "csv" {
		t, _ := textenc.Decode(data) // sniffKind decoded it already
		ft.ContentType += "; charset=" + string(t.Encoding)
	}
	return ft, nil
}

// sniffKind returns the kind of data by its content alone.
func sniffKind(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "pdf", nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png", nil
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg", nil
	case bytes.HasPrefix(data, []byte("\xd4\xc3\xb2\xa1")), bytes.HasPrefix(data, []byte("\xa1\xb2\xc3\xd4")),
		bytes.HasPrefix(data, []byte("\x4d\x3c\xb2\xa1")), bytes.HasPrefix(data, []byte("\xa1\xb2\x3c\x4d")),
		bytes.HasPrefix(data, []byte("\x0a\x0d\x0d\x0a")):
		return "pcap", nil
	case bytes.HasPrefix(data, []byte("\x7fELF")), bytes.HasPrefix(data, []byte("MZ")),
		bytes.HasPrefix(data, []byte("\xfe\xed\xfa\xce")), bytes.HasPrefix(data, []byte("\xfe\xed\xfa\xcf")),
		bytes.HasPrefix(data, []byte("\xce\xfa\xed\xfe")), bytes.HasPrefix(data, []byte("\xcf\xfa\xed\xfe")),
		bytes.HasPrefix(data, []byte("\xca\xfe\xba\xbe")), bytes.HasPrefix(data, []byte("#!")),
		bytes.HasPrefix(data, []byte("\x00asm")):
		return "", ErrExecutable
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return officeKind(data)
	}
	t, err := textenc.Decode(data)
	if err != nil || len(data) == 0 {
		return "", ErrUnknownType
	}
	head := t.Bytes
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	if markup(head) {
		return "", ErrActive
	}
	return "text", nil
}

// markupSigns are what starts HTML, SVG, XML or a script a browser would run.
var markupSigns = [][]byte{[]byte("<!doctype"), []byte("<html"), []byte("<head"), []byte("<body"), []byte("<script"),
	[]byte("<svg"), []byte("<?xml"), []byte("<iframe"), []byte("<object"), []byte("<embed"), []byte("<meta"),
	[]byte("<style"), []byte("<img"), []byte("<a "), []byte("<div"), []byte("<table"), []byte("<!--"), []byte("<x:"),
	[]byte("javascript:")}

// markup reports whether text looks like HTML, SVG, XML or script: it starts with "<",
// or holds one of the tags browsers sniff anywhere near its start.
func markup(head []byte) bool {
	trimmed := bytes.TrimLeftFunc(head, unicode.IsSpace)
	if bytes.HasPrefix(trimmed, []byte("<")) {
		return true
	}
	lower := bytes.ToLower(head)
	for _, s := range markupSigns {
		if bytes.Contains(lower, s) {
			return true
		}
	}
	return false
}

// officeKind tells a ZIP-based Office document (docx, xlsx, pptx) from any other ZIP,
// refusing documents with macros.
func officeKind(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", ErrUnknownType
	}
	kind, types := "", false
	for _, f := range zr.File {
		n := strings.ToLower(f.Name)
		switch {
		case n == "[content_types].xml":
			types = true
		case strings.HasSuffix(n, "vbaproject.bin") || strings.HasSuffix(n, ".exe") || strings.HasSuffix(n, ".dll"):
			return "", ErrExecutable
		case strings.HasPrefix(n, "word/") && kind == "":
			kind = "docx"
		case strings.HasPrefix(n, "xl/") && kind == "":
			kind = "xlsx"
		case strings.HasPrefix(n, "ppt/") && kind == "":
			kind = "pptx"
		}
	}
	if !types || kind == "" {
		return "", ErrUnknownType
	}
	return kind, nil
}

// Attachment is an evidence file of an incident; Content is filled by
// Service.Attachment only.
type Attachment struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// ContentType is the type to serve it as (with Content-Disposition: attachment and
	// X-Content-Type-Options: nosniff); never text/html.
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	AddedBy     string    `json:"added_by"`
	AddedAt     time.Time `json:"added_at"`
	Content     []byte    `json:"-"`
}

// SafeName reduces an uploaded file's name to its last element, without control
// characters, at most 200 characters (keeping a short extension). The modules that
// store uploaded documents (assessment evidence, policy documents) use it too.
func SafeName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == '/' || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 200 {
		ext := []rune(path.Ext(name))
		if len(ext) > 20 { // no extension, only a dot far in ("a." and 300 more)
			ext = nil
		}
		name = string(r[:200-len(ext)]) + string(ext)
	}
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// AddAttachment stores an evidence file for incident id: at most Options.MaxAttachment
// bytes, of a kind Sniff takes, its name agreeing with its content; its SHA-256 is kept
// and the addition is on the timeline and in the trail.
func (s *Service) AddAttachment(ctx context.Context, a actor.Actor, id int64, name string, r io.Reader) (Attachment, error) {
	name = SafeName(name)
	if name == "" {
		return Attachment{}, problem.Required("name")
	}
	if _, err := s.get(ctx, s.db, a, id); err != nil { // before reading a stranger's upload
		return Attachment{}, err
	}
	up, err := ReadUpload(name, r, s.opt.MaxAttachment)
	if err != nil {
		return Attachment{}, UploadProblem(err, s.opt.MaxAttachment, "incident")
	}
	data, ft := up.Data, up.Type
	at := Attachment{Name: name, Kind: ft.Kind, ContentType: ft.ContentType, Size: int64(len(data)), SHA256: up.SHA256,
		AddedBy: a.Username}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Status == StatusClosed {
			return problem.Conflict("the incident is closed").WithMsg("incident.error.closed")
		}
		now := s.now()
		at.AddedAt = now
		if err := tx.QueryRowContext(ctx, `INSERT INTO incident_attachments (incident_id, name, kind, content_type, size,
			sha256, content, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, name, ft.Kind,
			ft.ContentType, at.Size, at.SHA256, data, a.Username, now).Scan(&at.ID); err != nil {
			return fmt.Errorf("incident: attachment: %w", err)
		}
		txt := fmt.Sprintf("evidence %s (%s, %d bytes, SHA-256 %s)", name, ft.Kind, at.Size, at.SHA256)
		msg := i18n.M("incident.timeline.evidence", name, ft.Kind, at.SHA256)
		if err := entry(ctx, tx, id, now, a.Username, EntryEvidence, txt, &msg); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.attach", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): %s", id, in.Title, txt),
			Msg:   trail.Msg("trail.summary.incident.attach", id, in.Title, name, at.SHA256),
			After: map[string]any{"attachment": at.ID, "name": name, "kind": ft.Kind, "size": at.Size, "sha256": at.SHA256}})
		return err
	})
	if err != nil {
		return Attachment{}, err
	}
	return at, nil
}

// UploadProblem says why ReadUpload refused a file (max its limit) as a problem of the
// field "file" (messages upload.error.*); a failure to read the upload stays an internal
// error, named after the module (prefix).
func UploadProblem(err error, max int64, prefix string) error {
	msg := strings.TrimPrefix(err.Error(), "incident: ")
	switch {
	case !Refused(err):
		return fmt.Errorf("%s: %w", prefix, err)
	case errors.Is(err, ErrTooLarge):
		return problem.Invalid("file", "is larger than %d bytes", max).WithMsg("upload.error.too_large", max>>20)
	case errors.Is(err, ErrEmpty):
		return problem.Invalid("file", "is empty").WithMsg("upload.error.empty_file")
	case errors.Is(err, ErrActive):
		return problem.Invalid("file", "%s", msg).WithMsg("upload.error.file_active")
	case errors.Is(err, ErrExecutable):
		return problem.Invalid("file", "%s", msg).WithMsg("upload.error.file_executable")
	case errors.Is(err, ErrDisguised):
		return problem.Invalid("file", "%s", msg).WithMsg("upload.error.file_disguised")
	}
	return problem.Invalid("file", "%s", msg).WithMsg("upload.error.file_unknown_type")
}

// Attachment returns evidence file attachmentID of incident incidentID with its content.
func (s *Service) Attachment(ctx context.Context, a actor.Actor, incidentID, attachmentID int64) (Attachment, error) {
	if _, err := s.get(ctx, s.db, a, incidentID); err != nil {
		return Attachment{}, err
	}
	var at Attachment
	var added store.Time
	err := s.db.QueryRowContext(ctx, `SELECT id, name, kind, content_type, size, sha256, added_by, added_at, content
		FROM incident_attachments WHERE id = ? AND incident_id = ?`, attachmentID, incidentID).Scan(&at.ID, &at.Name,
		&at.Kind, &at.ContentType, &at.Size, &at.SHA256, &at.AddedBy, &added, &at.Content)
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, problem.NotFound("attachment")
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("incident: attachment: %w", err)
	}
	at.AddedAt = added.Time
	if strings.Contains(strings.ToLower(at.ContentType), "html") { // never, but never served so either
		at.ContentType = "application/octet-stream"
	}
	return at, nil
}

func attachments(ctx context.Context, q store.Querier, id int64) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, kind, content_type, size, sha256, added_by, added_at
		FROM incident_attachments WHERE incident_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: attachments: %w", err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		var at Attachment
		var added store.Time
		if err := rows.Scan(&at.ID, &at.Name, &at.Kind, &at.ContentType, &at.Size, &at.SHA256, &at.AddedBy, &added); err != nil {
			return nil, fmt.Errorf("incident: attachments: %w", err)
		}
		at.AddedAt = added.Time
		out = append(out, at)
	}
	return out, rows.Err()
}
