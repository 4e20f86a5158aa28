package input

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/textenc"
)

// ratioFloor is the uncompressed size below which the compression ratio of
// a member is not checked: small, repetitive texts compress very well.
const ratioFloor = 1 << 20

// zip opens a ZIP archive: an office document becomes one unit of text;
// any other archive has its members decoded recursively under the limits.
func (d *decoder) zip(path string, data []byte, depth int) error {
	if depth >= d.lim.MaxDepth {
		d.problem(path, ReasonTooDeep, "archive nested deeper than %d", d.lim.MaxDepth)
		return nil
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		d.problem(path, ReasonUnreadable, "zip: %v", err)
		return nil
	}
	files := zr.File
	if len(files) > d.lim.MaxMembers {
		d.problem(path, ReasonTooMany, "%d entries, only the first %d read", len(files), d.lim.MaxMembers)
		files = files[:d.lim.MaxMembers]
	}
	if kind := officeKind(ext(path), files); kind != "" {
		return d.office(path, kind, files)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name, "/") || f.Mode().IsDir() {
			continue
		}
		mpath := path + "!/" + memberName(f.Name)
		if !safeName(f.Name) {
			// Nothing is written to disk, so the member is still scanned.
			d.problem(mpath, ReasonTraversal, "member name escapes the extraction directory")
		}
		body, ok := d.member(mpath, f)
		if !ok {
			continue
		}
		if err := d.decode(mpath, body, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// memberName returns an archive member name as UTF-8: names not marked
// UTF-8 are often GBK, written by Chinese Windows tools.
func memberName(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	if text, _, ok := textenc.DecodeGB18030([]byte(name)); ok {
		return string(text)
	}
	return strings.ToValidUTF8(name, "\uFFFD")
}

// safeName reports whether an archive member name stays inside the
// directory it would be extracted to.
func safeName(name string) bool {
	n := strings.ReplaceAll(name, `\`, "/")
	if n == "" || strings.HasPrefix(n, "/") || strings.IndexByte(n, 0) >= 0 || len(n) >= 2 && n[1] == ':' {
		return false
	}
	for seg := range strings.SplitSeq(n, "/") {
		if seg == ".." {
			return false
		}
	}
	return true
}

// member reads one archive member within the limits, reporting why when
// it cannot.
func (d *decoder) member(mpath string, f *zip.File) ([]byte, bool) {
	if f.Flags&0x1 != 0 {
		d.problem(mpath, ReasonEncrypted, "password-protected archive member")
		return nil, false
	}
	size, packed := f.UncompressedSize64, f.CompressedSize64
	if size > uint64(d.lim.MaxMemberSize) {
		d.problem(mpath, ReasonTooBig, "declared %d bytes > limit %d", size, d.lim.MaxMemberSize)
		return nil, false
	}
	if size > ratioFloor && (packed == 0 || float64(size)/float64(packed) > d.lim.MaxRatio) {
		d.problem(mpath, ReasonZipBomb, "compression ratio %d/%d above %g", size, packed, d.lim.MaxRatio)
		return nil, false
	}
	if d.extracted+int64(size) > d.lim.MaxTotalExtracted {
		d.problem(mpath, ReasonZipBomb, "total extracted bytes would exceed %d", d.lim.MaxTotalExtracted)
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			d.problem(mpath, ReasonUnsupported, "zip compression method %d", f.Method)
		} else {
			d.problem(mpath, ReasonUnreadable, "zip: %v", err)
		}
		return nil, false
	}
	defer rc.Close()
	// archive/zip fails a member that inflates beyond its declared size;
	// the limit reader is a second guard.
	body, err := io.ReadAll(io.LimitReader(rc, int64(size)+1))
	d.extracted += int64(len(body))
	switch {
	case errors.Is(err, zip.ErrFormat) || uint64(len(body)) > size:
		d.problem(mpath, ReasonZipBomb, "member inflates beyond its declared size %d", size)
		return nil, false
	case err != nil:
		d.problem(mpath, ReasonUnreadable, "zip: %v", err)
		return nil, false
	}
	return body, true
}

// gzip decompresses a gzip stream within the limits and decodes its
// content as the member "path!/name" (the name without ".gz").
func (d *decoder) gzip(path string, data []byte, depth int) error {
	if depth >= d.lim.MaxDepth {
		d.problem(path, ReasonTooDeep, "archive nested deeper than %d", d.lim.MaxDepth)
		return nil
	}
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	name := strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".GZ")
	if name == base {
		name = strings.TrimSuffix(base, ".tgz") + ".tar"
	}
	mpath := path + "!/" + name
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		d.problem(path, ReasonUnreadable, "gzip: %v", err)
		return nil
	}
	limit := min(d.lim.MaxMemberSize, d.lim.MaxTotalExtracted-d.extracted)
	if ratio := int64(d.lim.MaxRatio * float64(len(data))); ratio > ratioFloor {
		limit = min(limit, ratio)
	} else {
		limit = min(limit, ratioFloor)
	}
	body, err := io.ReadAll(io.LimitReader(zr, limit+1))
	d.extracted += int64(len(body))
	switch {
	case int64(len(body)) > limit:
		d.problem(mpath, ReasonZipBomb, "gzip stream inflates beyond %d bytes", limit)
		return nil
	case err != nil:
		d.problem(mpath, ReasonUnreadable, "gzip: %v", err)
		return nil
	}
	return d.decode(mpath, body, depth+1)
}
