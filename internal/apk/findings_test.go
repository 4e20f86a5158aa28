package apk

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

// TestFixtureFindings: the findings of real APKs, what must and must not be raised.
func TestFixtureFindings(t *testing.T) {
	for _, c := range []struct {
		file      string
		want, not []string
	}{
		{"debuggable-boolean.apk", []string{"debuggable", "min-sdk-too-old", "allow-backup"}, []string{"debuggable-reference", "signature-not-verified", "unsigned"}},
		// android:debuggable="@0x7f…" resolves through resources.arsc to false.
		{"debuggable-resource.apk", []string{"debuggable-reference"}, []string{"debuggable", "debuggable-unknown"}},
		{"v1-only-with-rsa-pkcs1-md5-1.2.840.113549.1.1.4-2048.apk", []string{"weak-signature-md5", "v1-only-signature"}, []string{"weak-key", "signature-not-verified"}},
		{"v1-only-with-rsa-1024.apk", []string{"weak-key", "v1-only-signature"}, []string{"weak-signature-md5"}},
		{"golden-aligned-in.apk", []string{"unsigned"}, []string{"signature-not-verified", "v1-only-signature"}},
		{"v2v3-signed-v3-block-stripped.apk", []string{"signature-not-verified"}, []string{"unsigned"}},
		{"golden-aligned-v1v2v3-out.apk", nil, []string{"signature-not-verified", "unsigned", "v1-only-signature", "debuggable", "weak-key", "weak-signature-md5"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			rep, err := InspectFile(fixtures + "/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			got := ids(rep.Findings)
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("finding %s missing from %v", w, got)
				}
			}
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Errorf("finding %s raised: %v", n, got)
				}
			}
			for i, f := range rep.Findings {
				if f.Title == "" || f.TitleZH == "" || f.Evidence == "" || f.MessageKey != "apk.finding."+f.ID {
					t.Errorf("finding %+v incomplete", f)
				}
				if i > 0 && severityRank(f.Severity) < severityRank(rep.Findings[i-1].Severity) {
					t.Errorf("findings not sorted by severity: %v", got)
				}
			}
		})
	}
}

// TestManifestOfFixture reads the manifest fields of a real APK.
func TestManifestOfFixture(t *testing.T) {
	rep, err := InspectFile(fixtures + "/debuggable-boolean.apk")
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Manifest
	if m.Package != "android.appsecurity.cts.tinyapp" || m.VersionCode != 10 || m.VersionName != "1.0" || m.MinSDK != 7 || m.TargetSDK != 25 {
		t.Errorf("manifest %+v", m)
	}
	if m.Debuggable != FlagTrue || m.AllowBackup != FlagUnset || m.DebuggableRef != "" {
		t.Errorf("flags: debuggable %s (ref %q), allowBackup %s", m.Debuggable, m.DebuggableRef, m.AllowBackup)
	}
	if len(m.Components) != 1 || !m.Components[0].Launcher || !m.Components[0].Exported || m.Components[0].Kind != "activity" {
		t.Errorf("components %+v", m.Components)
	}
	if _, err := ParseManifest([]byte("<manifest/>")); err == nil {
		t.Error("text XML parsed as binary XML")
	}
}

// TestManifestPolicy applies the manifest rules to manifests as the parser reports them.
func TestManifestPolicy(t *testing.T) {
	base := func() Manifest {
		return Manifest{Package: "cn.example.hospital", MinSDK: 26, TargetSDK: 34, Debuggable: FlagFalse, TestOnly: FlagUnset,
			AllowBackup: FlagFalse, UsesCleartextTraffic: FlagUnset, Permissions: []string{}, Components: []Component{}}
	}
	for _, c := range []struct {
		name      string
		edit      func(m *Manifest)
		want, not []string
		evidence  string
	}{
		{"clean", func(m *Manifest) {}, nil, []string{"debuggable", "allow-backup", "cleartext-traffic", "exported-component", "dangerous-permission", "min-sdk-too-old", "test-only"}, ""},
		{"consultation permissions allowed", func(m *Manifest) {
			m.Permissions = []string{"android.permission.CAMERA", "android.permission.RECORD_AUDIO", "android.permission.READ_MEDIA_IMAGES",
				"android.permission.POST_NOTIFICATIONS", "android.permission.ACCESS_FINE_LOCATION", "android.permission.INTERNET"}
		}, nil, []string{"dangerous-permission"}, ""},
		{"sms", func(m *Manifest) { m.Permissions = []string{"android.permission.READ_SMS"} }, []string{"dangerous-permission"}, nil, "READ_SMS"},
		{"accessibility", func(m *Manifest) { m.Permissions = []string{"android.permission.BIND_ACCESSIBILITY_SERVICE"} }, []string{"dangerous-permission"}, nil, "accessibility"},
		{"allow backup unset", func(m *Manifest) { m.AllowBackup = FlagUnset }, []string{"allow-backup"}, nil, "defaults it to true"},
		{"cleartext", func(m *Manifest) { m.UsesCleartextTraffic = FlagTrue }, []string{"cleartext-traffic"}, nil, "usesCleartextTraffic"},
		{"cleartext by default before 28", func(m *Manifest) { m.TargetSDK = 27 }, []string{"cleartext-traffic"}, nil, "targetSdk 27"},
		{"network security config before 28", func(m *Manifest) { m.TargetSDK = 27; m.NetworkSecurityConfig = true }, nil, []string{"cleartext-traffic"}, ""},
		{"test only", func(m *Manifest) { m.TestOnly = FlagTrue }, []string{"test-only"}, nil, "testOnly"},
		{"debuggable unknown", func(m *Manifest) { m.Debuggable = FlagUnknown }, []string{"debuggable-unknown"}, []string{"debuggable"}, "resource reference"},
		{"old min sdk", func(m *Manifest) { m.MinSDK = 21 }, []string{"min-sdk-too-old"}, nil, "minSdkVersion 21"},
		{"exported service", func(m *Manifest) {
			m.Components = []Component{{Kind: "service", Name: "cn.example.hospital.Sync", Exported: true, ExportedBy: "intent-filter"}}
		}, []string{"exported-component"}, nil, "service cn.example.hospital.Sync"},
		{"exported with permission", func(m *Manifest) {
			m.Components = []Component{{Kind: "receiver", Name: "R", Exported: true, ExportedBy: "explicit", Permission: "cn.example.SIGNATURE"}}
		}, nil, []string{"exported-component"}, ""},
		{"launcher exported", func(m *Manifest) {
			m.Components = []Component{{Kind: "activity", Name: "Main", Exported: true, ExportedBy: "explicit", Launcher: true}}
		}, nil, []string{"exported-component"}, ""},
		{"unreadable", func(m *Manifest) { *m = Manifest{Error: "AndroidManifest.xml: truncated"} }, []string{"manifest-unreadable"}, []string{"min-sdk-too-old", "allow-backup"}, "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := &Report{Signature: Signature{Verified: true, Schemes: []string{SchemeV2}, Present: []string{SchemeV2}}, Manifest: base()}
			c.edit(&rep.Manifest)
			fs := findings(rep)
			got := ids(fs)
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("finding %s missing from %v", w, got)
				}
			}
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Errorf("finding %s raised: %v", n, got)
				}
			}
			if c.evidence != "" && !slices.ContainsFunc(fs, func(f Finding) bool { return strings.Contains(f.Evidence, c.evidence) }) {
				t.Errorf("no evidence containing %q in %+v", c.evidence, fs)
			}
		})
	}
}

// TestRulesComplete: every rule has both titles and a known severity.
func TestRulesComplete(t *testing.T) {
	for id, r := range rules {
		if r.en == "" || r.zh == "" || severityRank(r.severity) == 4 && r.severity != SeverityInfo {
			t.Errorf("rule %s incomplete: %+v", id, r)
		}
	}
}

// testCert makes a self-signed certificate of the given subject and RSA key size.
func testCert(t *testing.T, cn string, bits int) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// schemeSigner is a signer as one scheme reported it.
type schemeSigner struct {
	scheme string
	s      signerResult
}

// TestSignatureFindings applies the signature rules to signers as verification reports
// them.
func TestSignatureFindings(t *testing.T) {
	release, debug, small := testCert(t, "Example Hospital", 2048), testCert(t, "Android Debug", 2048), testCert(t, "Old", 1024)
	signer := func(c *x509.Certificate, alg string) signerResult { return signerResult{cert: c, alg: alg} }
	for _, c := range []struct {
		name      string
		schemes   []string
		signers   []schemeSigner
		want, not []string
	}{
		{"release v2 SHA-256", []string{"v2"}, []schemeSigner{{"v2", signer(release, "RSASSA-PKCS1-v1_5 with SHA-256")}},
			nil, []string{"debug-certificate", "weak-key", "weak-signature-md5", "weak-signature-sha1", "v1-only-signature"}},
		{"debug certificate", []string{"v2"}, []schemeSigner{{"v2", signer(debug, "RSASSA-PKCS1-v1_5 with SHA-256")}},
			[]string{"debug-certificate"}, nil},
		{"small key, v1 only, SHA-1", []string{"v1"}, []schemeSigner{{"v1", signer(small, "SHA1withRSA")}},
			[]string{"weak-key", "v1-only-signature", "weak-signature-sha1"}, []string{"weak-signature-md5"}},
		{"MD5 in v1 beside a strong v2", []string{"v2", "v1"}, []schemeSigner{
			{"v2", signer(release, "RSASSA-PKCS1-v1_5 with SHA-256")}, {"v1", signer(release, "MD5withRSA")}},
			[]string{"weak-signature-md5"}, []string{"v1-only-signature"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sig := Signature{Verified: true, Schemes: c.schemes, Present: c.schemes}
			for _, s := range c.signers {
				addSigner(&sig, s.scheme, s.s)
			}
			rep := &Report{Signature: sig, Manifest: Manifest{MinSDK: 28, TargetSDK: 34, AllowBackup: FlagFalse}}
			got := ids(findings(rep))
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("finding %s missing from %v", w, got)
				}
			}
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Errorf("finding %s raised: %v", n, got)
				}
			}
		})
	}
}
