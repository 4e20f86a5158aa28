package delivery_test

import (
	"bytes"
	"testing"

	"github.com/medguard/medguard/internal/delivery"
)

// BenchmarkDigest digests 64 MiB (SHA-256 and SM3 in one pass); ns/op and MB/s are for
// the whole 64 MiB.
func BenchmarkDigest(b *testing.B) {
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 31)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := delivery.Digest(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
