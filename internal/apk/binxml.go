package apk

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Android's binary resource formats (compiled XML, resources.arsc) are parsed with
// androidbinary, which trusts the sizes and counts it reads: a zero chunk size loops for
// ever, a string count of 2^32 allocates gigabytes. The structure is checked here first,
// so that what androidbinary reads is bounded by the file.

const (
	chunkStringPool  = 0x0001
	chunkTable       = 0x0002
	chunkXML         = 0x0003
	chunkXMLElement  = 0x0102
	chunkTablePkg    = 0x0200
	chunkTableType   = 0x0201
	chunkTableSpec   = 0x0202
	stringPoolHeader = 28
	utf8Flag         = 1 << 8
	xmlNodeHeader    = 16
	xmlAttrExt       = 20
	xmlAttribute     = 20
	tablePkgHeader   = 284
	tableTypeMin     = 20
)

// chunk is a ResChunk_header: type, header size, size.
type chunk struct {
	typ        uint16
	headerSize uint32
	size       uint32
	body       []byte // the whole chunk
}

// readChunk reads the chunk at b[off:], checking that it lies within b.
func readChunk(b []byte, off int) (chunk, error) {
	if off < 0 || len(b)-off < 8 {
		return chunk{}, fmt.Errorf("chunk at %d: truncated header", off)
	}
	c := chunk{typ: binary.LittleEndian.Uint16(b[off:]), headerSize: uint32(binary.LittleEndian.Uint16(b[off+2:])),
		size: binary.LittleEndian.Uint32(b[off+4:])}
	if c.headerSize < 8 || c.size < c.headerSize {
		return chunk{}, fmt.Errorf("chunk at %d: header size %d, size %d", off, c.headerSize, c.size)
	}
	if uint64(c.size) > uint64(len(b)-off) {
		return chunk{}, fmt.Errorf("chunk at %d: size %d runs past the end (%d bytes)", off, c.size, len(b)-off)
	}
	c.body = b[off : off+int(c.size)]
	return c, nil
}

// children walks the chunks inside c after its header, calling fn on each.
func (c chunk) children(fn func(chunk) error) error {
	for off := int(c.headerSize); off < len(c.body); {
		k, err := readChunk(c.body, off)
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		off += int(k.size)
	}
	return nil
}

// checkBinaryXML checks compiled XML before androidbinary reads it.
func checkBinaryXML(b []byte) error {
	top, err := readChunk(b, 0)
	if err != nil {
		return err
	}
	if top.typ != chunkXML {
		return errors.New("not Android binary XML")
	}
	return top.children(func(c chunk) error {
		switch c.typ {
		case chunkStringPool:
			return checkStringPool(c)
		case chunkXMLElement:
			if c.headerSize < xmlNodeHeader || uint64(c.headerSize)+xmlAttrExt > uint64(c.size) {
				return errors.New("element chunk too short")
			}
			ext := c.body[c.headerSize:]
			start, size, count := binary.LittleEndian.Uint16(ext[8:]), binary.LittleEndian.Uint16(ext[10:]), binary.LittleEndian.Uint16(ext[12:])
			if count > 0 && (size < xmlAttribute || uint64(c.headerSize)+uint64(start)+uint64(count)*uint64(size) > uint64(c.size)) {
				return fmt.Errorf("element with %d attributes of %d bytes from %d does not fit its %d bytes", count, size, start, c.size)
			}
		}
		return nil
	})
}

// checkStringPool checks a ResStringPool chunk: its offsets tables and every string
// (with its length prefix) lie within the chunk.
func checkStringPool(c chunk) error {
	if c.headerSize < stringPoolHeader {
		return errors.New("string pool header too short")
	}
	h := c.body
	strings, styles := uint64(binary.LittleEndian.Uint32(h[8:])), uint64(binary.LittleEndian.Uint32(h[12:]))
	flags := binary.LittleEndian.Uint32(h[16:])
	stringsStart, stylesStart := uint64(binary.LittleEndian.Uint32(h[20:])), uint64(binary.LittleEndian.Uint32(h[24:]))
	size := uint64(c.size)
	if uint64(c.headerSize)+4*(strings+styles) > size {
		return fmt.Errorf("string pool: %d strings and %d styles do not fit %d bytes", strings, styles, size)
	}
	if strings > 0 && stringsStart >= size {
		return errors.New("string pool: strings start past the end")
	}
	if styles > 0 && stylesStart >= size {
		return errors.New("string pool: styles start past the end")
	}
	for i := uint64(0); i < strings; i++ {
		at := stringsStart + uint64(binary.LittleEndian.Uint32(h[uint64(c.headerSize)+4*i:]))
		if at >= size {
			return fmt.Errorf("string pool: string %d starts past the end", i)
		}
		var n, length uint64
		if flags&utf8Flag != 0 {
			skip, _, ok := utf8Len(h, at)
			if !ok {
				return fmt.Errorf("string pool: string %d truncated", i)
			}
			l, k, ok := utf8Len(h, at+skip)
			if !ok {
				return fmt.Errorf("string pool: string %d truncated", i)
			}
			n, length = skip+k, l
		} else {
			if at+2 > size {
				return fmt.Errorf("string pool: string %d truncated", i)
			}
			first := uint64(binary.LittleEndian.Uint16(h[at:]))
			n, length = 2, first
			if first&0x8000 != 0 {
				if at+4 > size {
					return fmt.Errorf("string pool: string %d truncated", i)
				}
				n, length = 4, (first&0x7fff)<<16|uint64(binary.LittleEndian.Uint16(h[at+2:]))
			}
			length *= 2
		}
		if at+n+length > size {
			return fmt.Errorf("string pool: string %d of %d bytes runs past the end", i, length)
		}
	}
	for i := uint64(0); i < styles; i++ {
		at := stylesStart + uint64(binary.LittleEndian.Uint32(h[uint64(c.headerSize)+4*(strings+i):]))
		if at+12 > size { // a ResStringPool_span
			return fmt.Errorf("string pool: style %d runs past the end", i)
		}
	}
	return nil
}

// utf8Len decodes the 1- or 2-byte length of a UTF-8 pool string at h[at:]: the length
// and how many bytes it took.
func utf8Len(h []byte, at uint64) (length, n uint64, ok bool) {
	if at >= uint64(len(h)) {
		return 0, 0, false
	}
	first := uint64(h[at])
	if first&0x80 == 0 {
		return first, 1, true
	}
	if at+1 >= uint64(len(h)) {
		return 0, 0, false
	}
	return (first&0x7f)<<8 | uint64(h[at+1]), 2, true
}

// checkTable checks resources.arsc before androidbinary reads it.
func checkTable(b []byte) error {
	top, err := readChunk(b, 0)
	if err != nil {
		return err
	}
	if top.typ != chunkTable || top.headerSize < 12 {
		return errors.New("not a resource table")
	}
	return top.children(func(c chunk) error {
		switch c.typ {
		case chunkStringPool:
			return checkStringPool(c)
		case chunkTablePkg:
			return checkPackage(c)
		}
		return nil
	})
}

func checkPackage(c chunk) error {
	if c.headerSize < tablePkgHeader {
		return errors.New("package chunk header too short")
	}
	for _, at := range []int{268, 276} { // typeStrings, keyStrings
		off := binary.LittleEndian.Uint32(c.body[at:])
		if uint64(off) >= uint64(c.size) {
			return errors.New("package string pool past the end")
		}
		pool, err := readChunk(c.body, int(off))
		if err != nil {
			return fmt.Errorf("package string pool: %w", err)
		}
		if pool.typ != chunkStringPool {
			return errors.New("package string pool is not a string pool")
		}
		if err := checkStringPool(pool); err != nil {
			return err
		}
	}
	return c.children(func(k chunk) error {
		switch k.typ {
		case chunkTableType:
			if k.headerSize < tableTypeMin || k.size < tableTypeMin {
				return errors.New("type chunk too short")
			}
			entries, start := uint64(binary.LittleEndian.Uint32(k.body[12:])), uint64(binary.LittleEndian.Uint32(k.body[16:]))
			if uint64(k.headerSize)+4*entries > uint64(k.size) || start > uint64(k.size) {
				return fmt.Errorf("type chunk: %d entries do not fit %d bytes", entries, k.size)
			}
		case chunkTableSpec:
			if k.size < 16 {
				return errors.New("type spec chunk too short")
			}
			entries := uint64(binary.LittleEndian.Uint32(k.body[12:]))
			if uint64(k.headerSize)+4*entries > uint64(k.size) {
				return fmt.Errorf("type spec chunk: %d entries do not fit %d bytes", entries, k.size)
			}
		}
		return nil
	})
}
