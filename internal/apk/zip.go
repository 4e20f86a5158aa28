package apk

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The ZIP layout of an APK as the signature schemes see it: the entries, the APK Signing
// Block (if any) right before the central directory, the central directory and the End of
// Central Directory record (EOCD).

const (
	eocdSig        = 0x06054b50
	eocdMinSize    = 22
	maxCommentSize = 0xffff
	zip64LocSig    = 0x07064b50
	zip64LocSize   = 20

	// MaxEntrySize bounds what is read of one ZIP entry (uncompressed): the manifest,
	// resources.arsc and the JAR signature files are read whole into memory.
	MaxEntrySize = 64 << 20
)

// ErrNotAPK is returned by Inspect when the input is not an APK: not a ZIP archive, or a
// ZIP archive without AndroidManifest.xml.
var ErrNotAPK = errors.New("not an APK")

// ErrMalformed is returned by Inspect when the input is a ZIP archive too damaged to be
// checked as Android would (a truncated central directory, ZIP64, duplicate entries…).
// Android refuses to install such a file.
var ErrMalformed = errors.New("malformed APK")

// layout is where the sections of the archive are.
type layout struct {
	size       int64
	cdOffset   int64
	cdSize     int64
	eocdOffset int64
	eocd       []byte // the EOCD record and its comment
}

// findLayout locates the EOCD and the central directory. Like apksig it takes the last
// EOCD whose comment runs exactly to the end of the file.
func findLayout(r io.ReaderAt, size int64) (*layout, error) {
	if size < eocdMinSize {
		return nil, fmt.Errorf("%w: %d bytes is too short for a ZIP archive", ErrNotAPK, size)
	}
	tail := min(size, eocdMinSize+maxCommentSize)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("apk: read: %w", err)
	}
	at := -1
	for i := len(buf) - eocdMinSize; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) != eocdSig {
			continue
		}
		if int(binary.LittleEndian.Uint16(buf[i+20:])) == len(buf)-i-eocdMinSize {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("%w: no ZIP End of Central Directory record", ErrNotAPK)
	}
	l := &layout{size: size, eocdOffset: size - tail + int64(at), eocd: buf[at:]}
	e := l.eocd
	if binary.LittleEndian.Uint16(e[4:]) != 0 || binary.LittleEndian.Uint16(e[6:]) != 0 {
		return nil, fmt.Errorf("%w: multi-disk ZIP archive", ErrMalformed)
	}
	if binary.LittleEndian.Uint16(e[8:]) != binary.LittleEndian.Uint16(e[10:]) {
		return nil, fmt.Errorf("%w: EOCD entry counts disagree", ErrMalformed)
	}
	l.cdSize = int64(binary.LittleEndian.Uint32(e[12:]))
	l.cdOffset = int64(binary.LittleEndian.Uint32(e[16:]))
	if l.eocdOffset >= zip64LocSize {
		var loc [4]byte
		if _, err := r.ReadAt(loc[:], l.eocdOffset-zip64LocSize); err == nil && binary.LittleEndian.Uint32(loc[:]) == zip64LocSig {
			return nil, fmt.Errorf("%w: ZIP64 archives are not APKs", ErrMalformed)
		}
	}
	if l.cdOffset > l.eocdOffset || l.cdSize > l.eocdOffset-l.cdOffset {
		return nil, fmt.Errorf("%w: central directory (offset %d, size %d) runs past the EOCD at %d",
			ErrMalformed, l.cdOffset, l.cdSize, l.eocdOffset)
	}
	return l, nil
}

// archive is an APK opened as a ZIP archive.
type archive struct {
	layout *layout
	zr     *zip.Reader
	files  map[string]*zip.File
}

// openArchive reads the central directory. Duplicate entry names are rejected, as
// Android does: two entries of one name let a verifier and an installer see different
// contents.
func openArchive(r io.ReaderAt, size int64) (*archive, error) {
	l, err := findLayout(r, size)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	a := &archive{layout: l, zr: zr, files: make(map[string]*zip.File, len(zr.File))}
	// archive/zip reads the central directory where the EOCD says it is; check that it
	// fills exactly the space the EOCD gives it, as apksig does.
	if err := checkCentralDirectory(r, l, len(zr.File)); err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		if _, dup := a.files[f.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate ZIP entry %q", ErrMalformed, f.Name)
		}
		a.files[f.Name] = f
	}
	return a, nil
}

// checkCentralDirectory walks the central directory records and checks that n of them
// fill exactly cdSize bytes.
func checkCentralDirectory(r io.ReaderAt, l *layout, n int) error {
	const cdHeader = 46
	if l.cdSize > 256<<20 {
		return fmt.Errorf("%w: central directory of %d bytes", ErrMalformed, l.cdSize)
	}
	cd := make([]byte, l.cdSize)
	if _, err := r.ReadAt(cd, l.cdOffset); err != nil {
		return fmt.Errorf("%w: central directory: %v", ErrMalformed, err)
	}
	off, count := 0, 0
	for off < len(cd) {
		if len(cd)-off < cdHeader || binary.LittleEndian.Uint32(cd[off:]) != 0x02014b50 {
			return fmt.Errorf("%w: central directory record %d is truncated or corrupt", ErrMalformed, count)
		}
		rec := cdHeader + int(binary.LittleEndian.Uint16(cd[off+28:])) +
			int(binary.LittleEndian.Uint16(cd[off+30:])) + int(binary.LittleEndian.Uint16(cd[off+32:]))
		if rec > len(cd)-off {
			return fmt.Errorf("%w: central directory record %d runs past the central directory", ErrMalformed, count)
		}
		off += rec
		count++
	}
	if count != n {
		return fmt.Errorf("%w: central directory holds %d records, archive/zip read %d", ErrMalformed, count, n)
	}
	return nil
}

// read returns the uncompressed content of the named entry, at most MaxEntrySize bytes.
func (a *archive) read(name string) ([]byte, error) {
	f, ok := a.files[name]
	if !ok {
		return nil, fmt.Errorf("no entry %s", name)
	}
	return readEntry(f)
}

func readEntry(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > MaxEntrySize {
		return nil, fmt.Errorf("entry %s: %d bytes is more than the %d read", f.Name, f.UncompressedSize64, MaxEntrySize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	defer rc.Close()
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(rc, MaxEntrySize+1))
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	if n > MaxEntrySize {
		return nil, fmt.Errorf("entry %s: more than %d bytes", f.Name, MaxEntrySize)
	}
	return b.Bytes(), nil
}

// metaInf lists the names of the entries directly under META-INF/ (case-insensitive, as
// Android compares them) with the given suffixes.
func (a *archive) metaInf(suffixes ...string) []string {
	var names []string
	for _, f := range a.zr.File {
		up := strings.ToUpper(f.Name)
		if !strings.HasPrefix(up, "META-INF/") || strings.Contains(up[len("META-INF/"):], "/") {
			continue
		}
		for _, s := range suffixes {
			if strings.HasSuffix(up, s) {
				names = append(names, f.Name)
				break
			}
		}
	}
	return names
}
