package delivery

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Digests are the size and lower-case hex SHA-256 and SM3 digests of a file.
type Digests struct {
	SHA256 string `json:"sha256,omitempty"`
	SM3    string `json:"sm3,omitempty"`
	Size   int64  `json:"size"`
}

// File is a file of a delivery: its name inside the delivery (a relative slash path) and
// how to read it. Open is called once per use and the reader closed after it.
type File struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// copyBufferSize is the read size when digesting; memory use does not grow with files.
const copyBufferSize = 256 << 10

// Digest reads r to its end once, computing its size, SHA-256 and SM3 together.
func Digest(r io.Reader) (Digests, error) {
	return digest(context.Background(), r, make([]byte, copyBufferSize))
}

// digest is Digest with cancellation between reads and a caller's buffer.
func digest(ctx context.Context, r io.Reader, buf []byte) (Digests, error) {
	hs, hm := sha256.New(), sm3.New()
	n, err := io.CopyBuffer(io.MultiWriter(hs, hm), ctxReader{ctx, r}, buf)
	if err != nil {
		return Digests{}, err
	}
	return Digests{SHA256: hex.EncodeToString(hs.Sum(nil)), SM3: hex.EncodeToString(hm.Sum(nil)), Size: n}, nil
}

// ctxReader stops reading once its context is done. It hides any WriterTo of the
// underlying reader so that io.CopyBuffer uses the given buffer.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// digestFile opens, digests and closes f.
func digestFile(ctx context.Context, f File, buf []byte) (Digests, error) {
	if f.Open == nil {
		return Digests{}, fmt.Errorf("delivery: %s: no way to open the file", f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return Digests{}, fmt.Errorf("delivery: %s: %w", f.Name, err)
	}
	d, err := digest(ctx, rc, buf)
	cerr := rc.Close()
	if err != nil {
		return Digests{}, fmt.Errorf("delivery: %s: %w", f.Name, err)
	}
	if cerr != nil {
		return Digests{}, fmt.Errorf("delivery: %s: %w", f.Name, cerr)
	}
	return d, nil
}

// Build digests files and returns a manifest for them, unsigned, with the artifacts sorted
// by name and at recorded in UTC to the second. It fails on a name that is not a clean
// relative slash path, a repeated name, a text field a manifest cannot hold or a file it
// cannot read.
func Build(vendor, product, version, deliveryID string, at time.Time, files []File) (*Manifest, error) {
	m := &Manifest{
		Schema:      SchemaV1,
		Vendor:      vendor,
		Product:     product,
		Version:     version,
		DeliveryID:  deliveryID,
		DeliveredAt: at.UTC().Truncate(time.Second),
	}
	if err := checkFiles("files", files, true); err != nil {
		return nil, err
	}
	// Check the text fields before reading what may be gigabytes.
	probe := *m
	probe.Artifacts = []Artifact{{Name: "probe", SHA256: strings.Repeat("0", 64)}}
	if err := probe.validate(); err != nil {
		return nil, err
	}
	buf := make([]byte, copyBufferSize)
	for _, f := range files {
		d, err := digestFile(context.Background(), f, buf)
		if err != nil {
			return nil, err
		}
		m.Artifacts = append(m.Artifacts, Artifact{Name: f.Name, Size: d.Size, SHA256: d.SHA256, SM3: d.SM3})
	}
	m.Artifacts = sortedArtifacts(m.Artifacts)
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkFiles checks that files have distinct names and openers, and, if artifacts is
// set, names that a manifest can hold.
func checkFiles(field string, files []File, artifacts bool) error {
	seen := make(map[string]int, len(files))
	for i, f := range files {
		ff := fmt.Sprintf("%s[%d]", field, i)
		if f.Name == "" {
			return invalid(ff+".name", "required")
		}
		if artifacts {
			if err := checkName(ff+".name", f.Name); err != nil {
				return err
			}
		}
		if j, dup := seen[f.Name]; dup {
			return invalid(ff+".name", "the name is given twice (also %s[%d])", field, j)
		}
		seen[f.Name] = i
		if f.Open == nil {
			return invalid(ff+".open", "no way to open the file")
		}
	}
	return nil
}

// FilesFromPaths returns the files at paths (absolute, or relative to the working
// directory), each named by its path relative to base with forward slashes. A directory
// stands for every regular file beneath it, so FilesFromPaths(dir, []string{dir}) lists a
// whole delivery. Every path must lie under base; symbolic links and other non-regular
// files inside a listed directory are refused rather than followed. Names are not
// otherwise checked: Build refuses one a manifest cannot hold, and Verify reports it as
// unexpected. The files are returned sorted by name.
func FilesFromPaths(base string, paths []string) ([]File, error) {
	absBase, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	var files []File
	add := func(abs string) error {
		rel, err := filepath.Rel(absBase, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("delivery: %s is not under %s", abs, absBase)
		}
		files = append(files, File{Name: filepath.ToSlash(rel), Open: func() (io.ReadCloser, error) { return os.Open(abs) }})
		return nil
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
		switch {
		case fi.Mode().IsRegular():
			err = add(abs)
		case fi.IsDir():
			err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
				switch {
				case err != nil:
					return fmt.Errorf("delivery: %w", err)
				case d.IsDir():
					return nil
				case d.Type().IsRegular():
					return add(path)
				case d.Type()&fs.ModeSymlink != 0:
					return fmt.Errorf("delivery: %s is a symbolic link; a delivery holds regular files only", path)
				}
				return fmt.Errorf("delivery: %s is not a regular file", path)
			})
		default:
			err = fmt.Errorf("delivery: %s is not a regular file", abs)
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Name, b.Name) })
	for i := 1; i < len(files); i++ {
		if files[i].Name == files[i-1].Name {
			return nil, fmt.Errorf("delivery: %s is given twice", files[i].Name)
		}
	}
	return files, nil
}
