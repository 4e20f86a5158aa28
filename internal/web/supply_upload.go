package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/supply"
)

// Upload limits of the supply-chain routes.
const (
	maxSBOMUpload     = supply.MaxSBOMSize // one SBOM document
	maxManifestUpload = 4 << 20            // one delivery manifest
	maxDeliveryUpload = 512 << 20          // a manifest and every delivered file together
	maxVulnDBUpload   = 256 << 20          // an OSV export (zip) or record
)

// isMultipart reports whether the request body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "multipart/form-data"
}

// tooLarge is the problem for an upload over limit bytes; code names what was uploaded.
func tooLarge(field, code string, limit int64) error {
	return problem.Invalid(field, "the upload is larger than %d MiB", limit>>20).WithCode(code).WithMsg("error.msg.upload_too_large", limit>>20)
}

// parseMultipart parses a multipart/form-data body of at most limit bytes (plus room for
// the other fields), unless the CSRF check already did. File parts beyond
// multipartMemory are kept in temporary files, which wrap removes after the handler.
func parseMultipart(w http.ResponseWriter, r *http.Request, field, code string, limit int64) error {
	if r.MultipartForm != nil {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartOverhead)
	if err := r.ParseMultipartForm(multipartMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(field, code, limit)
		}
		return problem.Invalid(field, "the upload is not a valid multipart form").WithCode("bad_upload")
	}
	return nil
}

// readLimited reads r to its end, refusing more than limit bytes.
func readLimited(r io.Reader, field, code string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge(field, code, limit)
	case err != nil:
		return nil, problem.Invalid(field, "the upload could not be read").WithCode("bad_upload")
	case int64(len(b)) > limit:
		return nil, tooLarge(field, code, limit)
	}
	return b, nil
}

// uploadedDocument returns a document sent as the raw request body or as the multipart
// file (or text) field named field, with its file name when it has one.
func uploadedDocument(w http.ResponseWriter, r *http.Request, field, tooLargeCode, requiredCode string, limit int64) ([]byte, string, error) {
	if !isMultipart(r) {
		data, err := readLimited(http.MaxBytesReader(w, r.Body, limit+1), field, tooLargeCode, limit)
		if err != nil {
			return nil, "", err
		}
		if len(data) == 0 {
			return nil, "", problem.Invalid(field, "the request body is empty").WithCode(requiredCode).WithMsg("supply.error.msg.body_empty")
		}
		return data, "", nil
	}
	if err := parseMultipart(w, r, field, tooLargeCode, limit); err != nil {
		return nil, "", err
	}
	if fhs := r.MultipartForm.File[field]; len(fhs) > 0 {
		fh := fhs[0]
		if fh.Size > limit {
			return nil, "", tooLarge(field, tooLargeCode, limit)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, "", problem.Invalid(field, "the upload could not be read").WithCode("bad_upload")
		}
		defer f.Close()
		data, err := readLimited(f, field, tooLargeCode, limit)
		if err != nil {
			return nil, "", err
		}
		if len(data) == 0 {
			return nil, "", problem.Invalid(field, "the file is empty").WithCode(requiredCode).WithMsg("error.msg.file_empty")
		}
		return data, fh.Filename, nil
	}
	if v := r.MultipartForm.Value[field]; len(v) > 0 && strings.TrimSpace(v[0]) != "" {
		if int64(len(v[0])) > limit {
			return nil, "", tooLarge(field, tooLargeCode, limit)
		}
		return []byte(v[0]), "", nil
	}
	return nil, "", problem.Invalid(field, "choose a file to upload").WithCode(requiredCode).WithMsg("supply.error.msg.choose_file")
}

// deliveryUpload reads a delivery check from a multipart body: the manifest (field
// "manifest", a file or text), the received files (fields "files", each named by its
// file name as sent, which must equal the artifact's name in the manifest) and
// require_signature.
func deliveryUpload(w http.ResponseWriter, r *http.Request, versionID int64) (supply.DeliveryInput, error) {
	in := supply.DeliveryInput{VersionID: versionID}
	if !isMultipart(r) {
		return in, problem.Invalid("manifest", "send the manifest and the files as multipart/form-data").WithCode("manifest_required")
	}
	if err := parseMultipart(w, r, "files", "delivery_too_large", maxDeliveryUpload); err != nil {
		return in, err
	}
	form := r.MultipartForm
	switch {
	case len(form.File["manifest"]) > 0:
		fh := form.File["manifest"][0]
		if fh.Size > maxManifestUpload {
			return in, tooLarge("manifest", "manifest_too_large", maxManifestUpload)
		}
		f, err := fh.Open()
		if err != nil {
			return in, problem.Invalid("manifest", "the manifest could not be read").WithCode("bad_upload")
		}
		in.Manifest, err = readLimited(f, "manifest", "manifest_too_large", maxManifestUpload)
		f.Close()
		if err != nil {
			return in, err
		}
	case len(form.Value["manifest"]) > 0 && strings.TrimSpace(form.Value["manifest"][0]) != "":
		if len(form.Value["manifest"][0]) > maxManifestUpload {
			return in, tooLarge("manifest", "manifest_too_large", maxManifestUpload)
		}
		in.Manifest = []byte(form.Value["manifest"][0])
	default:
		return in, problem.Invalid("manifest", "choose the delivery manifest").WithCode("manifest_required")
	}
	for _, fh := range form.File["files"] {
		in.Files = append(in.Files, delivery.File{Name: uploadName(fh), Open: func() (io.ReadCloser, error) { return fh.Open() }})
	}
	if len(in.Files) == 0 {
		return in, problem.Invalid("files", "choose the delivered files").WithCode("files_required")
	}
	var err error
	if v := form.Value["require_signature"]; len(v) > 0 {
		in.RequireSignature, err = parseBool("require_signature", v[len(v)-1])
	}
	return in, err
}

// uploadName is the file name a client sent for a part. mime/multipart keeps only the
// last path element; a delivery's artifacts may sit in folders ("sbom/app.cdx.json"), so
// the name is taken from the part's own header. The delivery check refuses names that
// are not clean relative paths.
func uploadName(fh *multipart.FileHeader) string {
	if _, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return fh.Filename
}

// vulnDBExtensions are the file types an OSV upload may have.
var vulnDBExtensions = map[string]bool{".zip": true, ".json": true, ".yaml": true, ".yml": true}

// vulnDBMediaTypes name the extension of a raw (not multipart) OSV upload.
var vulnDBMediaTypes = map[string]string{
	"application/zip": ".zip", "application/x-zip-compressed": ".zip", "application/json": ".json",
	"application/yaml": ".yaml", "application/x-yaml": ".yaml", "text/yaml": ".yaml",
}

// saveVulnDBUpload writes an uploaded OSV file (multipart field "file", or the raw body
// with a zip, JSON or YAML content type) into dir and returns its path and the name the
// client gave it.
func saveVulnDBUpload(w http.ResponseWriter, r *http.Request, dir string) (string, string, error) {
	var src io.Reader
	var name string
	if isMultipart(r) {
		if err := parseMultipart(w, r, "file", "vulndb_too_large", maxVulnDBUpload); err != nil {
			return "", "", err
		}
		fhs := r.MultipartForm.File["file"]
		if len(fhs) == 0 {
			return "", "", problem.Invalid("file", "choose an OSV file (.zip, .json or .yaml)").WithCode("vulndb_file_required")
		}
		if fhs[0].Size > maxVulnDBUpload {
			return "", "", tooLarge("file", "vulndb_too_large", maxVulnDBUpload)
		}
		f, err := fhs[0].Open()
		if err != nil {
			return "", "", problem.Invalid("file", "the upload could not be read").WithCode("bad_upload")
		}
		defer f.Close()
		src, name = f, fhs[0].Filename
	} else {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		ext, ok := vulnDBMediaTypes[ct]
		if !ok {
			return "", "", problem.Invalid("file", "send a zip, JSON or YAML file").WithCode("vulndb_bad_type")
		}
		src, name = http.MaxBytesReader(w, r.Body, maxVulnDBUpload+1), "upload"+ext
	}
	ext := filepath.Ext(name)
	if !vulnDBExtensions[strings.ToLower(ext)] {
		return "", "", problem.Invalid("file", "the file must end in .zip, .json, .yaml or .yml").WithCode("vulndb_bad_type")
	}
	path := filepath.Join(dir, safeFileName(name, strings.ToLower(ext)))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("web: save upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(src, maxVulnDBUpload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || n > maxVulnDBUpload:
		return "", "", tooLarge("file", "vulndb_too_large", maxVulnDBUpload)
	case err != nil:
		return "", "", problem.Invalid("file", "the upload could not be read").WithCode("bad_upload")
	case n == 0:
		return "", "", problem.Invalid("file", "the file is empty").WithCode("vulndb_file_required")
	}
	return path, name, nil
}

// safeFileName keeps the last element of a client's file name, without its extension
// ext, with only letters, digits, '.', '-' and '_', and appends ext: the result names a
// file inside our own directory, whatever the client sent.
func safeFileName(name, ext string) string {
	name = strings.TrimSuffix(name[strings.LastIndexAny(name, `/\`)+1:], ext)
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if len(s) > 80 {
		s = s[:80]
	}
	if s == "" {
		s = "upload"
	}
	return s + ext
}
