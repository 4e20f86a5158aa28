package delivery_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/medguard/medguard/internal/delivery"
)

// The committed sample delivery (see testdata/README.md).
var (
	sampleDir      = filepath.Join("testdata", "sample")
	sampleFiles    = filepath.Join(sampleDir, "files")
	sampleManifest = filepath.Join(sampleDir, "manifest.json")
	sampleFP       = filepath.Join(sampleDir, "fingerprint.txt")
)

// TestSample checks the committed SM2-signed sample delivery, which other packages and
// the demo use. With -update it is written first if testdata/sample/manifest.json does
// not exist (delete the folder to regenerate it with a new key).
func TestSample(t *testing.T) {
	if *update {
		if _, err := os.Stat(sampleManifest); os.IsNotExist(err) {
			writeSample(t)
		}
	}
	data, err := os.ReadFile(sampleManifest)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSample -update to create the sample)", err)
	}
	m, err := delivery.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	fpData, err := os.ReadFile(sampleFP)
	if err != nil {
		t.Fatal(err)
	}
	fp := strings.TrimSpace(string(fpData))
	if got := mustFingerprint(t, m.Signature.Certificate); got != fp {
		t.Fatalf("fingerprint.txt says %s, the manifest's certificate has %s", fp, got)
	}
	files, err := delivery.FilesFromPaths(sampleFiles, []string{sampleFiles})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("sample has %d files, want 2", len(files))
	}
	rep, err := delivery.Verify(context.Background(), m, files, delivery.Trust{Fingerprints: []string{fp}},
		delivery.VerifyOptions{RequireSignature: true, Now: verifyAt})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Signature.Status != delivery.SignatureValid || rep.Signature.Algorithm != delivery.AlgSM2SM3 {
		t.Fatalf("sample does not verify: %+v\n%v", rep.Signature, rep.Problems())
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("sample has warnings: %v", rep.Warnings)
	}
	if want := "HIS 交付签名 (示例医疗软件有限公司)"; rep.Signature.Signer != want {
		t.Errorf("signer %q, want %q", rep.Signature.Signer, want)
	}
	// The sample is only trusted through its registered fingerprint.
	rep, err = delivery.Verify(context.Background(), m, files, delivery.Trust{}, delivery.VerifyOptions{RequireSignature: true, Now: verifyAt})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Signature.Status != delivery.SignatureUntrusted {
		t.Fatalf("sample verified without a registered fingerprint: %+v", rep.Signature)
	}
}

// writeSample writes testdata/sample: two artifact files, a manifest signed with a fresh
// SM2 key and self-signed certificate, and the certificate's fingerprint. The private key
// is not kept.
func writeSample(t *testing.T) {
	t.Helper()
	contents := map[string][]byte{
		"his-server-5.2.0.tar.gz": sampleTarGz(t),
		"sbom/his-5.2.0.cdx.json": []byte(sampleSBOM),
	}
	var files []delivery.File
	for name, c := range contents {
		path := filepath.Join(sampleFiles, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, memFile(name, c))
	}
	m, err := delivery.Build("示例医疗软件有限公司", "HIS", "5.2.0", "HIS-5.2.0-2026-11-01", deliveredAt, files)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := newCert(t, &key.PublicKey, key, "HIS 交付签名", "示例医疗软件有限公司",
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC))
	if err := delivery.SignSM2(m, key, der); err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sampleManifest, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sampleFP, []byte(mustFingerprint(t, certPEM(der))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sampleTarGz is a small, reproducible server package.
func sampleTarGz(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	mtime := time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC)
	for _, f := range []struct {
		name string
		mode int64
		body string
	}{
		{"his-server-5.2.0/README.txt", 0o644, "HIS 服务端 5.2.0（示例交付，仅供测试）\n"},
		{"his-server-5.2.0/bin/start.sh", 0o755, "#!/bin/sh\necho \"HIS server 5.2.0 (sample)\"\n"},
	} {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleSBOM is the sample delivery's CycloneDX SBOM; it names two components with
// well-known vulnerabilities so that the demo has something to find.
const sampleSBOM = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:6f1c3a52-2b1e-4d8a-9c55-0d3c2a7e9b10",
  "version": 1,
  "metadata": {
    "timestamp": "2026-10-30T12:00:00Z",
    "component": {
      "type": "application",
      "bom-ref": "his-server",
      "name": "his-server",
      "version": "5.2.0",
      "supplier": {"name": "示例医疗软件有限公司"}
    }
  },
  "components": [
    {
      "type": "library",
      "bom-ref": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
      "group": "org.apache.logging.log4j",
      "name": "log4j-core",
      "version": "2.14.1",
      "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
      "licenses": [{"license": {"id": "Apache-2.0"}}]
    },
    {
      "type": "library",
      "bom-ref": "pkg:maven/com.alibaba/fastjson@1.2.80",
      "group": "com.alibaba",
      "name": "fastjson",
      "version": "1.2.80",
      "purl": "pkg:maven/com.alibaba/fastjson@1.2.80",
      "licenses": [{"license": {"id": "Apache-2.0"}}]
    }
  ],
  "dependencies": [
    {"ref": "his-server", "dependsOn": ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:maven/com.alibaba/fastjson@1.2.80"]}
  ]
}
`
