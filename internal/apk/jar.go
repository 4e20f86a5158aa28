package apk

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// v1 (JAR) signature verification, as Android N and later do it: every signature block
// file META-INF/NAME.RSA|DSA|EC signs META-INF/NAME.SF (PKCS#7, the first SignerInfo
// that verifies names the signer); the .SF protects MANIFEST.MF (whole or per section);
// MANIFEST.MF holds a digest of every entry outside META-INF/.

const manifestMF = "META-INF/MANIFEST.MF"

// jarDigests are the digest attributes of MANIFEST.MF and .SF files, strongest first;
// Android uses the strongest one present.
var jarDigests = []struct {
	names []string
	hash  crypto.Hash
}{
	{[]string{"SHA-512"}, crypto.SHA512},
	{[]string{"SHA-384"}, crypto.SHA384},
	{[]string{"SHA-256"}, crypto.SHA256},
	{[]string{"SHA1", "SHA-1"}, crypto.SHA1},
}

// v1Present says whether the APK carries a JAR signature (a .SF file or a signature
// block file under META-INF/).
func (a *archive) v1Present() bool {
	return len(a.metaInf(".SF", ".RSA", ".DSA", ".EC")) > 0
}

// verifyV1 verifies the JAR signature of the archive for the devices of minSDK and
// later. Android 7.0 (SDK 24) and later take the first SignerInfo of a block that
// verifies and check the content type of signed attributes; earlier versions take the
// first SignerInfo whatever it is and do not check the content type. When the app
// installs on both, both must accept the block with the same certificate, as apksig
// requires.
func verifyV1(a *archive, minSDK int) *schemeResult {
	res := &schemeResult{scheme: SchemeV1}
	fail := func(format string, args ...any) *schemeResult {
		res.err = fmt.Errorf(format, args...)
		return res
	}
	blocks := a.metaInf(".RSA", ".DSA", ".EC")
	sort.Strings(blocks)
	if len(blocks) == 0 {
		return fail("no signature block file (META-INF/*.RSA, *.DSA or *.EC)")
	}
	if len(blocks) > maxSigners {
		return fail("more than %d signers", maxSigners)
	}
	mfRaw, err := a.read(manifestMF)
	if err != nil {
		return fail("no %s", manifestMF)
	}
	mf, err := parseManifestMF(mfRaw)
	if err != nil {
		return fail("%s: %v", manifestMF, err)
	}
	// Each signer: its block signs its .SF, which protects MANIFEST.MF.
	type signer struct {
		sf *jarManifest
	}
	var signers []signer
	for _, b := range blocks {
		sfName := strings.TrimSuffix(b, path.Ext(b)) + ".SF"
		sfRaw, err := a.read(sfName)
		if err != nil {
			return fail("%s has no signature file %s", b, sfName)
		}
		blockRaw, err := a.read(b)
		if err != nil {
			return fail("%s: %v", b, err)
		}
		p, err := parsePKCS7(blockRaw)
		if err != nil {
			return fail("%s: %v", b, err)
		}
		var cert *x509.Certificate
		var alg string
		var errs []error
		chosen := -1
		for i, si := range p.signerInfos {
			c, name, err := p.verifySignerInfo(si, sfRaw, false)
			if err == nil {
				cert, alg, chosen = c, name, i
				break
			}
			errs = append(errs, fmt.Errorf("SignerInfo #%d: %w", i+1, err))
			var eb *errBlock
			if errors.As(err, &eb) {
				break
			}
		}
		if cert == nil {
			return fail("%s does not verify: %v", b, errors.Join(errs...))
		}
		if minSDK < 24 && chosen != 0 {
			// Before 7.0 Android takes the first SignerInfo; it failed from 7.0 on.
			return fail("%s: Android 7.0 and later accept SignerInfo #%d, earlier versions (this app's minSdk is %d) take SignerInfo #1, which Android 7.0 rejects: %v",
				b, chosen+1, minSDK, errors.Join(errs...))
		}
		sf, err := parseManifestMF(sfRaw)
		if err != nil {
			return fail("%s: %v", sfName, err)
		}
		if err := checkSF(sf, mf, mfRaw); err != nil {
			return fail("%s: %v", sfName, err)
		}
		for _, v := range strings.Split(sf.main["X-Android-APK-Signed"], ",") {
			if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				res.apkSigned = append(res.apkSigned, id)
			}
		}
		res.signers = append(res.signers, signerResult{cert: cert, alg: alg})
		signers = append(signers, signer{sf: sf})
	}

	// Every entry outside META-INF/ is in MANIFEST.MF with a digest that matches, and
	// every entry MANIFEST.MF names is there. Entries are digested as they are inflated,
	// within a budget of MaxUncompressed bytes for the whole APK (a ZIP bomb is refused).
	budget := int64(MaxUncompressed)
	for _, f := range a.zr.File {
		name := f.Name
		if strings.HasPrefix(name, "META-INF/") || strings.HasSuffix(name, "/") {
			continue
		}
		sec, ok := mf.sections[name]
		if !ok {
			return fail("entry %s is not in %s: it is not signed", name, manifestMF)
		}
		h, want, err := sec.digest()
		if err != nil {
			return fail("%s entry %s: %v", manifestMF, name, err)
		}
		d := h.New()
		n, err := digestEntry(f, d, budget)
		if err != nil {
			return fail("%v", err)
		}
		budget -= n
		if !bytes.Equal(d.Sum(nil), want) {
			return fail("entry %s does not match its digest in %s: it was modified after signing", name, manifestMF)
		}
		for i, s := range signers {
			if !s.sf.wholeManifest && s.sf.sections[name] == nil {
				return fail("entry %s is not in the signature file of signer #%d", name, i+1)
			}
		}
	}
	for name := range mf.sections {
		if _, ok := a.files[name]; !ok {
			return fail("%s names %s, which is not in the APK", manifestMF, name)
		}
	}
	return res
}

// jarManifest is a MANIFEST.MF or .SF file: the main attributes and the named sections.
type jarManifest struct {
	mainRaw  []byte
	main     map[string]string
	sections map[string]*jarSection
	// wholeManifest: an .SF whose digest of the whole MANIFEST.MF verified (set by checkSF).
	wholeManifest bool
}

type jarSection struct {
	name  string
	raw   []byte
	attrs map[string]string
}

// digest returns the strongest digest of the section (name-Digest attribute).
func (s *jarSection) digest() (crypto.Hash, []byte, error) {
	return strongestDigest(s.attrs, "-Digest")
}

func strongestDigest(attrs map[string]string, suffix string) (crypto.Hash, []byte, error) {
	for _, d := range jarDigests {
		for _, n := range d.names {
			if v, ok := attrs[n+suffix]; ok {
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
				if err != nil {
					return 0, nil, fmt.Errorf("%s%s is not base64", n, suffix)
				}
				if len(b) != d.hash.Size() {
					return 0, nil, fmt.Errorf("%s%s has %d bytes, not %d", n, suffix, len(b), d.hash.Size())
				}
				return d.hash, b, nil
			}
		}
	}
	return 0, nil, fmt.Errorf("no supported *%s attribute (SHA-1, SHA-256, SHA-384 or SHA-512)", suffix)
}

// checkSF checks the .SF against MANIFEST.MF: the digest of the whole manifest if it is
// there and matches; otherwise the main attributes' digest and each section's digest.
func checkSF(sf, mf *jarManifest, mfRaw []byte) error {
	if h, want, err := strongestDigest(sf.main, "-Digest-Manifest"); err == nil {
		d := h.New()
		d.Write(mfRaw)
		if bytes.Equal(d.Sum(nil), want) {
			sf.wholeManifest = true
			return nil
		}
	}
	if h, want, err := strongestDigest(sf.main, "-Digest-Manifest-Main-Attributes"); err == nil {
		d := h.New()
		d.Write(mf.mainRaw)
		if !bytes.Equal(d.Sum(nil), want) {
			return errors.New("the digest of the manifest's main attributes does not match")
		}
	}
	for name, s := range sf.sections {
		m, ok := mf.sections[name]
		if !ok {
			return fmt.Errorf("section %s is not in %s", name, manifestMF)
		}
		h, want, err := s.digest()
		if err != nil {
			return fmt.Errorf("section %s: %v", name, err)
		}
		d := h.New()
		d.Write(m.raw)
		if !bytes.Equal(d.Sum(nil), want) {
			return fmt.Errorf("the digest of the manifest section %s does not match", name)
		}
	}
	return nil
}

// parseManifestMF parses the JAR manifest format: sections of "Name: value" lines
// separated by empty lines, long lines continued by a line starting with one space.
// The raw bytes of each section (with its terminating empty line) are kept for the
// digests of the .SF file.
func parseManifestMF(b []byte) (*jarManifest, error) {
	m := &jarManifest{main: map[string]string{}, sections: map[string]*jarSection{}}
	first := true
	for len(b) > 0 {
		raw, rest := splitSection(b)
		b = rest
		attrs, err := parseAttrs(raw)
		if err != nil {
			return nil, err
		}
		if first {
			m.mainRaw, m.main = raw, attrs
			first = false
			continue
		}
		if len(attrs) == 0 {
			continue // extra empty lines
		}
		name, ok := attrs["Name"]
		if !ok || name == "" {
			return nil, errors.New("a section without a Name")
		}
		if _, dup := m.sections[name]; dup {
			return nil, fmt.Errorf("two sections named %s", name)
		}
		m.sections[name] = &jarSection{name: name, raw: raw, attrs: attrs}
	}
	return m, nil
}

// splitSection cuts the first section (through its terminating empty line) off b.
func splitSection(b []byte) (section, rest []byte) {
	i := 0
	for i < len(b) {
		end, next := lineEnd(b, i)
		if end == i { // an empty line ends the section
			return b[:next], b[next:]
		}
		i = next
	}
	return b, nil
}

// lineEnd returns where the line starting at i ends and where the next one starts.
func lineEnd(b []byte, i int) (end, next int) {
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '\n':
			return j, j + 1
		case '\r':
			if j+1 < len(b) && b[j+1] == '\n' {
				return j, j + 2
			}
			return j, j + 1
		}
	}
	return len(b), len(b)
}

func parseAttrs(raw []byte) (map[string]string, error) {
	attrs := map[string]string{}
	var last string
	for i := 0; i < len(raw); {
		end, next := lineEnd(raw, i)
		line := string(raw[i:end])
		i = next
		if line == "" {
			break
		}
		if line[0] == ' ' {
			if last == "" {
				return nil, errors.New("a continuation line with nothing to continue")
			}
			attrs[last] += line[1:]
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			if k2, ok2 := strings.CutSuffix(line, ":"); ok2 {
				k, v, ok = k2, "", true
			}
		}
		if !ok || k == "" {
			return nil, fmt.Errorf("malformed line %q", truncate(line, 60))
		}
		attrs[k] = v
		last = k
	}
	return attrs, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// MaxUncompressed bounds the bytes inflated to check a v1 signature: the entries of an
// APK, uncompressed, are digested as they are read, up to this total.
const MaxUncompressed = 8 << 30

// digestEntry writes the uncompressed content of f to h, at most limit bytes, and
// returns how many it wrote. archive/zip checks the entry's CRC-32 and size at its end.
func digestEntry(f *zip.File, h io.Writer, limit int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	defer rc.Close()
	n, err := io.Copy(h, io.LimitReader(rc, limit+1))
	if err != nil {
		return n, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	if n > limit {
		return n, fmt.Errorf("the entries of the APK inflate to more than %d bytes: too large to verify", int64(MaxUncompressed))
	}
	return n, nil
}
