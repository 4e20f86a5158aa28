package cli

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/authcode"
)

// authcodeData is the authcode package's test data: throw-away keys and codes.
const authcodeData = "../authcode/testdata"

// fixtureCodes returns the codes of authcodeData/codes.txt by name.
func fixtureCodes(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(authcodeData, "codes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && !strings.HasPrefix(f[0], "#") {
			codes[f[0]] = f[2]
		}
	}
	return codes
}

// authcodeCases are the command lines of TestAuthcodeCommands; golden files are
// testdata/authcode/NAME.txt. In args, $CODE:NAME is the code NAME of the fixture, $KEYS
// the authcode test data directory and $TMP an empty directory.
var authcodeCases = []cmdCase{
	{name: "help", args: []string{"help", "authcode"}},
	{name: "help-verify", args: []string{"help", "authcode", "verify"}},
	{name: "verify-ed25519", args: []string{"authcode", "verify", "$CODE:ed25519-valid", "--pubkey", "$KEYS/ed25519.pub"}},
	{name: "verify-sm2-ring", args: []string{"authcode", "verify", "$CODE:sm2-valid", "--pubkey", "$TMP/ring.pub"}, setup: ringFile},
	{name: "verify-json", args: []string{"authcode", "verify", "$CODE:sm2-valid", "--pubkey", "$KEYS/sm2.pub", "--format", "json"}},
	{name: "verify-stdin", args: []string{"authcode", "verify", "-", "--pubkey", "$KEYS/ed25519.pub"}, stdin: "$CODE:ed25519-valid"},
	{name: "verify-expired", args: []string{"authcode", "verify", "$CODE:ed25519-expired", "--pubkey", "$KEYS/ed25519.pub"}},
	{name: "verify-expired-json", args: []string{"authcode", "verify", "$CODE:ed25519-expired", "--pubkey", "$KEYS/ed25519.pub", "--format", "json"}},
	{name: "verify-not-yet-valid", args: []string{"authcode", "verify", "$CODE:sm2-not-yet-valid", "--pubkey", "$KEYS/sm2.pub"}},
	{name: "verify-tampered", args: []string{"authcode", "verify", "$CODE:tampered-payload", "--pubkey", "$KEYS/ed25519.pub"}},
	{name: "verify-sm2-code-ed25519-key", args: []string{"authcode", "verify", "$CODE:sm2-valid", "--pubkey", "$KEYS/ed25519.pub"}},
	{name: "verify-alg-none", args: []string{"authcode", "verify", "$CODE:alg-none", "--pubkey", "$KEYS/ed25519.pub"}},
	{name: "verify-not-a-code", args: []string{"authcode", "verify", "hello", "--pubkey", "$KEYS/ed25519.pub", "--format", "json"}},
	{name: "verify-private-key-given", args: []string{"authcode", "verify", "$CODE:ed25519-valid", "--pubkey", "$KEYS/ed25519.key"}},
	{name: "verify-no-key-file", args: []string{"authcode", "verify", "$CODE:ed25519-valid", "--pubkey", "$TMP/none.pub"}},
	{name: "verify-no-pubkey", args: []string{"authcode", "verify", "$CODE:ed25519-valid"}},
	{name: "verify-no-code", args: []string{"authcode", "verify", "--pubkey", "$KEYS/ed25519.pub"}},
	{name: "verify-bad-format", args: []string{"authcode", "verify", "$CODE:ed25519-valid", "--pubkey", "$KEYS/ed25519.pub", "--format", "xml"}},
	{name: "keygen-bad-alg", args: []string{"authcode", "keygen", "--alg", "rsa", "--out", "$TMP/keys"}},
	{name: "keygen-no-out", args: []string{"authcode", "keygen"}},
}

// ringFile writes tmp/ring.pub: the SM2 key and, kept after a rotation, the Ed25519 one.
func ringFile(t *testing.T, _, tmp string) {
	t.Helper()
	var ring []byte
	for _, f := range []string{"sm2.pub", "ed25519.pub"} {
		b, err := os.ReadFile(filepath.Join(authcodeData, f))
		if err != nil {
			t.Fatal(err)
		}
		ring = append(ring, b...)
	}
	if err := os.WriteFile(filepath.Join(tmp, "ring.pub"), ring, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAuthcodeCommands snapshots exit code, stdout and stderr of each authcodeCases line
// against testdata/authcode/NAME.txt (-update rewrites them), as TestCommands does.
func TestAuthcodeCommands(t *testing.T) {
	codes := fixtureCodes(t)
	seen := map[string]bool{}
	for _, c := range authcodeCases {
		if seen[c.name] {
			t.Fatalf("two cases named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			if c.setup != nil {
				c.setup(t, "", tmp)
			}
			expand := func(s string) string {
				if name, ok := strings.CutPrefix(s, "$CODE:"); ok {
					code, ok := codes[name]
					if !ok {
						t.Fatalf("no code %s in the fixture", name)
					}
					return code
				}
				return strings.NewReplacer("$KEYS", authcodeData, "$TMP", tmp).Replace(s)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = expand(a)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, strings.NewReader(expand(c.stdin)), &out, &errb, noEnv, nil)
			// The codes' times are fixed: only the directories are replaced.
			norm := func(s string) string { return strings.NewReplacer(tmp, "$TMP", authcodeData, "$KEYS").Replace(s) }
			got := snapshot(c.args, code, norm(out.String()), norm(errb.String()))
			if code != ExitOK && !strings.Contains(errb.String(), "medguard: ") {
				t.Errorf("exit %d with no \"medguard: \" message on stderr:\n%s", code, got)
			}
			golden := filepath.Join("testdata", "authcode", c.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/cli -run TestAuthcodeCommands -update writes it)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("medguard %s differs from %s (-want +got; -update rewrites it):\n%s", strings.Join(c.args, " "), golden, d)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "authcode", "*.txt"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".txt"); !seen[name] && !*update {
			t.Errorf("%s has no case in authcodeCases", f)
		}
	}
}

// TestAuthcodeKeygen: keygen writes a private key only its owner may read and a public
// key; a code issued with the private key verifies with the public one through the
// command line, keeps verifying after a rotation when the old key stays in the file, and
// keygen never overwrites a key.
func TestAuthcodeKeygen(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "keys")
	var pubs []string
	var signers []*authcode.Signer
	for _, alg := range []string{"ed25519", "sm2"} {
		code, out, errs := runCLI(t, "", "authcode", "keygen", "--alg", alg, "--out", dir)
		if code != ExitOK || !strings.Contains(out, "key id:") {
			t.Fatalf("keygen %s: %d %q %q", alg, code, out, errs)
		}
		keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
		var key string
		for _, k := range keys {
			if strings.Contains(out, k) {
				key = k
			}
		}
		if key == "" {
			t.Fatalf("keygen %s: the output %q names none of %v", alg, out, keys)
		}
		st, err := os.Stat(key)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v; want 0600", key, st.Mode().Perm(), err)
		}
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("%s: mode %v, %v; want 0700", dir, st.Mode().Perm(), err)
		}
		b, _ := os.ReadFile(key)
		s, err := authcode.ParsePrivateKeyPEM(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(s.Public().Algorithm()) != map[string]string{"ed25519": "Ed25519", "sm2": "SM2-SM3"}[alg] {
			t.Errorf("keygen --alg %s made a %s key", alg, s.Public().Algorithm())
		}
		signers = append(signers, s)
		pubs = append(pubs, strings.TrimSuffix(key, ".key")+".pub")
	}
	now := time.Now()
	claims := authcode.Claims{AppID: "com.example.app", OrgID: 3, HospitalCode: "H3", IssuedAt: now.Add(-time.Hour),
		ExpiresAt: now.Add(time.Hour)}
	oldCode, err := authcode.Issue(signers[0], claims)
	if err != nil {
		t.Fatal(err)
	}
	newCode, err := authcode.Issue(signers[1], claims)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "", "authcode", "verify", oldCode, "--pubkey", pubs[0]); code != ExitOK ||
		!strings.Contains(out, "VALID") || !strings.Contains(out, "code H3, organisation 3") {
		t.Errorf("verify with the public key: %d %q %q", code, out, errs)
	}
	// The rotated key file: the new key, then the old one.
	a, _ := os.ReadFile(pubs[1])
	b, _ := os.ReadFile(pubs[0])
	ring := filepath.Join(t.TempDir(), "ring.pub")
	if err := os.WriteFile(ring, append(a, b...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{oldCode, newCode} {
		if code, _, errs := runCLI(t, "", "authcode", "verify", c, "--pubkey", ring); code != ExitOK {
			t.Errorf("verify with the rotated ring: %d %q", code, errs)
		}
	}
	if code, _, errs := runCLI(t, "", "authcode", "verify", oldCode, "--pubkey", pubs[1]); code != ExitCheckFailed ||
		!strings.Contains(errs, "no public key with the code's key id") {
		t.Errorf("old code without the old key: %d %q", code, errs)
	}
	// A second key of the same id cannot happen; an existing file is never replaced.
	if err := writeNew(pubs[0], []byte("x"), 0o644); err == nil {
		t.Error("writeNew replaced an existing file")
	}
}
