package apk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The APK Signing Block sits between the last entry and the central directory:
//
//	uint64 size (excluding this field) | pairs: uint64 len, uint32 id, value | uint64 size | "APK Sig Block 42"
//
// It holds one pair per signature scheme (and padding, stamps, others).

// Ids of the pairs of the APK Signing Block that inspection knows.
const (
	blockIDv2        = 0x7109871a
	blockIDv3        = 0xf05368c0
	blockIDv31       = 0x1b93ad61
	blockIDVerityPad = 0x42726577
)

const sigBlockMagic = "APK Sig Block 42"

// maxSigBlockSize bounds the APK Signing Block read into memory.
const maxSigBlockSize = 64 << 20

// ErrNoSigningBlock is the absence of an APK Signing Block: the APK is at most JAR signed.
var errNoSigningBlock = errors.New("no APK Signing Block")

// signingBlock is the APK Signing Block of an APK.
type signingBlock struct {
	offset int64             // where the block starts (its first size field)
	pairs  map[uint32][]byte // id → value
	ids    []uint32          // ids in the order of the block
}

// findSigningBlock reads the APK Signing Block before the central directory. It returns
// errNoSigningBlock when there is none (the magic is absent), and another error when one
// is there but cannot be read.
func findSigningBlock(r io.ReaderAt, l *layout) (*signingBlock, error) {
	if l.cdOffset < 32 {
		return nil, errNoSigningBlock
	}
	var footer [24]byte
	if _, err := r.ReadAt(footer[:], l.cdOffset-24); err != nil {
		return nil, errNoSigningBlock
	}
	if string(footer[8:]) != sigBlockMagic {
		return nil, errNoSigningBlock
	}
	size := binary.LittleEndian.Uint64(footer[:8])
	if size < 24 || size > maxSigBlockSize || int64(size) > l.cdOffset-8 {
		return nil, fmt.Errorf("APK Signing Block size %d out of range", size)
	}
	start := l.cdOffset - int64(size) - 8
	buf := make([]byte, size+8)
	if _, err := r.ReadAt(buf, start); err != nil {
		return nil, fmt.Errorf("APK Signing Block: %v", err)
	}
	return parseSigningBlock(buf, start)
}

// parseSigningBlock parses a whole APK Signing Block (both size fields and the magic
// included) found at offset. Duplicate ids of a signature scheme are rejected: Android
// reads the first v2 block and a careless verifier the last (the fdroidserver bypass
// of 2024), so an APK with two can be read two ways and is refused.
func parseSigningBlock(buf []byte, offset int64) (*signingBlock, error) {
	if len(buf) < 32 {
		return nil, errors.New("APK Signing Block too short")
	}
	if string(buf[len(buf)-16:]) != sigBlockMagic {
		return nil, errors.New("APK Signing Block magic missing")
	}
	head := binary.LittleEndian.Uint64(buf)
	foot := binary.LittleEndian.Uint64(buf[len(buf)-24:])
	if head != foot || head != uint64(len(buf)-8) {
		return nil, fmt.Errorf("APK Signing Block sizes disagree (header %d, footer %d, block %d)", head, foot, len(buf)-8)
	}
	b := &signingBlock{offset: offset, pairs: map[uint32][]byte{}}
	pairs := buf[8 : len(buf)-24]
	for n := 1; len(pairs) > 0; n++ {
		if len(pairs) < 8 {
			return nil, fmt.Errorf("APK Signing Block pair %d: truncated length", n)
		}
		plen := binary.LittleEndian.Uint64(pairs)
		pairs = pairs[8:]
		if plen < 4 || plen > uint64(len(pairs)) {
			return nil, fmt.Errorf("APK Signing Block pair %d: length %d out of range", n, plen)
		}
		id := binary.LittleEndian.Uint32(pairs)
		value := pairs[4:plen]
		pairs = pairs[plen:]
		if _, dup := b.pairs[id]; dup {
			switch id {
			case blockIDv2, blockIDv3, blockIDv31:
				return nil, fmt.Errorf("APK Signing Block holds two %s blocks (id %#x): Android rejects such APKs", schemeOfBlock(id), id)
			}
			// Other duplicates (padding, unknown ids) Android ignores; the first is kept.
			continue
		}
		b.pairs[id] = value
		b.ids = append(b.ids, id)
	}
	return b, nil
}

func schemeOfBlock(id uint32) string {
	switch id {
	case blockIDv2:
		return SchemeV2
	case blockIDv3:
		return SchemeV3
	case blockIDv31:
		return SchemeV31
	}
	return fmt.Sprintf("%#x", id)
}

// lpReader reads the little-endian, uint32-length-prefixed structures of the signing
// blocks. Every read is checked: a length past the end is an error, never a panic.
type lpReader struct {
	b    []byte
	what string
}

func (r *lpReader) empty() bool { return len(r.b) == 0 }

func (r *lpReader) uint32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, fmt.Errorf("%s: truncated", r.what)
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

// prefixed returns the next length-prefixed field.
func (r *lpReader) prefixed(what string) (*lpReader, error) {
	n, err := r.uint32()
	if err != nil {
		return nil, fmt.Errorf("%s: length: %w", what, err)
	}
	if uint64(n) > uint64(len(r.b)) {
		return nil, fmt.Errorf("%s: length %d exceeds the %d bytes left", what, n, len(r.b))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return &lpReader{b: v, what: what}, nil
}
