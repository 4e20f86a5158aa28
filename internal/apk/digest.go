package apk

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// chunkSize is the chunk of the v2/v3 content digests: 1 MiB.
const chunkSize = 1 << 20

// contentDigest computes the chunked digest of APK Signature Scheme v2/v3 over the three
// sections the signature protects: the entries (everything before the signing block),
// the central directory, and the EOCD with its central-directory offset replaced by the
// signing block's offset (the offset as it was when the APK was signed, before the block
// was inserted).
//
//	chunk digest: H(0xa5 || uint32le(len) || chunk)
//	top digest:   H(0x5a || uint32le(number of chunks) || chunk digests…)
func contentDigest(r io.ReaderAt, l *layout, sigBlockOffset int64, h crypto.Hash) ([]byte, error) {
	eocd := append([]byte(nil), l.eocd...)
	binary.LittleEndian.PutUint32(eocd[16:], uint32(sigBlockOffset))
	sections := []*io.SectionReader{
		io.NewSectionReader(r, 0, sigBlockOffset),
		io.NewSectionReader(r, l.cdOffset, l.cdSize),
	}
	var chunks int64
	for _, s := range sections {
		chunks += (s.Size() + chunkSize - 1) / chunkSize
	}
	chunks += (int64(len(eocd)) + chunkSize - 1) / chunkSize
	if chunks > 1<<31 {
		return nil, fmt.Errorf("APK too large: %d chunks", chunks)
	}
	top := h.New()
	var head [5]byte
	head[0] = 0x5a
	binary.LittleEndian.PutUint32(head[1:], uint32(chunks))
	top.Write(head[:])
	buf := make([]byte, chunkSize)
	digestChunk := func(b []byte) {
		d := h.New()
		head[0] = 0xa5
		binary.LittleEndian.PutUint32(head[1:], uint32(len(b)))
		d.Write(head[:])
		d.Write(b)
		top.Write(d.Sum(nil))
	}
	for _, s := range sections {
		for off := int64(0); off < s.Size(); off += chunkSize {
			n := min(chunkSize, s.Size()-off)
			if k, err := s.ReadAt(buf[:n], off); int64(k) != n {
				return nil, fmt.Errorf("read for digest: %w", err)
			}
			digestChunk(buf[:n])
		}
	}
	for off := 0; off < len(eocd); off += chunkSize {
		digestChunk(eocd[off:min(off+chunkSize, len(eocd))])
	}
	return top.Sum(nil), nil
}

// verityPage is the block of the fs-verity Merkle tree behind the verity content digest.
const verityPage = 4096

// verityDigest computes the VERITY_CHUNKED_SHA256 content digest: the root of a SHA-256
// Merkle tree over 4 KiB pages of the same three sections (each digest salted with 8 zero
// bytes; the last chunk of each level padded with zeros),
// followed by the total length as uint64le, as apksig computes it.
func verityDigest(r io.ReaderAt, l *layout, sigBlockOffset int64) ([]byte, error) {
	eocd := append([]byte(nil), l.eocd...)
	binary.LittleEndian.PutUint32(eocd[16:], uint32(sigBlockOffset))
	data := io.MultiReader(io.NewSectionReader(r, 0, sigBlockOffset),
		io.NewSectionReader(r, l.cdOffset, l.cdSize), bytesReader(eocd))
	total := sigBlockOffset + l.cdSize + int64(len(eocd))
	// Leaves.
	var level []byte
	page := make([]byte, verityPage)
	for read := int64(0); read < total; read += verityPage {
		clear(page)
		n := min(verityPage, total-read)
		if _, err := io.ReadFull(data, page[:n]); err != nil {
			return nil, fmt.Errorf("read for verity digest: %w", err)
		}
		s := saltedSHA256(page) // the last chunk padded with zeros
		level = append(level, s[:]...)
	}
	// Upper levels until one page holds the level.
	for {
		if pad := len(level) % verityPage; pad != 0 {
			level = append(level, make([]byte, verityPage-pad)...)
		}
		if len(level) <= verityPage {
			break
		}
		var next []byte
		for off := 0; off < len(level); off += verityPage {
			s := saltedSHA256(level[off : off+verityPage])
			next = append(next, s[:]...)
		}
		level = next
	}
	if len(level) == 0 {
		level = make([]byte, verityPage)
	}
	root := saltedSHA256(level[:verityPage])
	out := make([]byte, 0, 40)
	out = append(out, root[:]...)
	return binary.LittleEndian.AppendUint64(out, uint64(total)), nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// saltedSHA256 is SHA-256 of 8 zero bytes (the verity salt) followed by b.
func saltedSHA256(b []byte) [32]byte {
	h := sha256.New()
	h.Write(make([]byte, 8))
	h.Write(b)
	var s [32]byte
	h.Sum(s[:0])
	return s
}
