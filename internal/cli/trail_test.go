package cli

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/trail"
)

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestTrailVerifyCheckpoint: `serve` signs a checkpoint at start into the data directory;
// `trail verify --checkpoint` passes while the chain extends it and exits 3 when the
// newest entries were cut (even with the head moved, which the chain alone cannot show),
// when the checkpoint was altered, or when another key signed it.
func TestTrailVerifyCheckpoint(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		data := flags[len(flags)-1] // --data is last in both engines' flags
		cmd := func(args ...string) (int, string, string) {
			return runCLI(t, "", append(args, flags...)...)
		}
		serve := func() {
			code, _ := serveUntil(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--trail-checkpoint-interval", "1h"}, flags...), func(string) {})
			if code != 0 {
				t.Fatalf("serve exit %d", code)
			}
		}
		serve()
		for name, want := range map[string]os.FileMode{"trail.key": 0o600, "trail-sign.key": 0o600, "trail-checkpoints.jsonl": 0o600} {
			if m := fileMode(t, filepath.Join(data, name)); m != want {
				t.Errorf("%s: mode %v, want %v", name, m, want)
			}
		}
		if code, _, errs := cmd("user", "add", "--username", "liwei", "--role", "auditor", "--password", "Str0ng-Passw0rd-Here"); code != 0 {
			t.Fatalf("user add: %d %s", code, errs)
		}
		serve()
		cpFile := filepath.Join(data, "trail-checkpoints.jsonl")
		b, err := os.ReadFile(cpFile)
		if err != nil {
			t.Fatal(err)
		}
		cps, err := trail.ParseCheckpoints(strings.NewReader(string(b)))
		if err != nil || len(cps) != 2 || cps[1].Seq <= cps[0].Seq {
			t.Fatalf("checkpoints after two starts: %+v %v", cps, err)
		}
		// The operator's copy off the machine.
		offBox := filepath.Join(t.TempDir(), "checkpoints.jsonl")
		if err := os.WriteFile(offBox, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, errs := cmd("trail", "verify", "--checkpoint", offBox); code != 0 || !strings.Contains(out, "extends 2 signed checkpoint(s)") {
			t.Fatalf("verify against the checkpoints: %d %q %q", code, out, errs)
		}
		if code, _, _ := cmd("trail", "verify", "--checkpoint", filepath.Join(t.TempDir(), "none.jsonl")); code != ExitError {
			t.Errorf("missing checkpoint file: exit %d, want %d", code, ExitError)
		}

		// An altered checkpoint (the newest moved back to entry 1) does not verify.
		altered := filepath.Join(t.TempDir(), "altered.jsonl")
		lines := strings.SplitAfter(string(b), "\n")
		lines[1] = strings.Replace(lines[1], `"seq":`+itoa64(cps[1].Seq), `"seq":1`, 1)
		if err := os.WriteFile(altered, []byte(strings.Join(lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, _ := cmd("trail", "verify", "--checkpoint", altered); code != ExitTrailBroken || !strings.Contains(out, "signature") {
			t.Errorf("altered checkpoint: %d %q", code, out)
		}
		// A checkpoint signed by another key, however well formed, is refused.
		other, err := trail.LoadOrCreateSigner(filepath.Join(t.TempDir(), "other.key"))
		if err != nil {
			t.Fatal(err)
		}
		forged := filepath.Join(t.TempDir(), "forged.jsonl")
		if err := os.WriteFile(forged, other.Sign(cps[1].Seq, cps[1].Hash, cps[1].Alg, time.Now()).MarshalLine(), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, _ := cmd("trail", "verify", "--checkpoint", forged); code != ExitTrailBroken || !strings.Contains(out, "not by this installation's key") {
			t.Errorf("checkpoint of another key: %d %q", code, out)
		}

		// Cut the entries after the first checkpoint and move the head onto its entry.
		first := cps[0].Seq
		for _, q := range []string{
			`DELETE FROM trail WHERE seq > ` + itoa64(first),
			`UPDATE trail_head SET seq = ` + itoa64(first) + `, hash = (SELECT hash FROM trail WHERE seq = ` + itoa64(first) + `)`,
		} {
			if _, err := raw().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		// The data directory's own checkpoint file catches it too; an attacker who can
		// also write there deletes it, and only the copy off the machine is left.
		if code, out, _ := cmd("trail", "verify"); code != ExitTrailBroken {
			t.Errorf("verify of the cut chain with the local checkpoint file: %d %q", code, out)
		}
		if err := os.Remove(cpFile); err != nil {
			t.Fatal(err)
		}
		if code, out, _ := cmd("trail", "verify"); code != 0 {
			t.Fatalf("plain verify of the cut chain: %d %q (the head was moved: it cannot tell)", code, out)
		}
		code, out, _ := cmd("trail", "verify", "--checkpoint", offBox)
		if code != ExitTrailBroken || !strings.Contains(out, "BROKEN at entry "+itoa64(first+1)) || !strings.Contains(out, "cut") {
			t.Errorf("cut chain against the checkpoint: %d %q", code, out)
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
