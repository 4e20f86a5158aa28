package trail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

func newSigner(t *testing.T) *trail.Signer {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "trail-sign.key")
	s, err := trail.LoadOrCreateSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v %v", st.Mode(), err)
	}
	again, err := trail.LoadOrCreateSigner(path)
	if err != nil || !bytes.Equal(again.PublicKey(), s.PublicKey()) {
		t.Fatalf("reloaded signer differs: %v", err)
	}
	return s
}

// checkpointAt signs the head of the chain, and returns it as it would be read back from
// a checkpoint file.
func checkpointAt(t *testing.T, db *store.DB, s *trail.Signer) trail.Checkpoint {
	t.Helper()
	cp, err := trailtest.New(t, trail.SHA256).Checkpoint(context.Background(), db, s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := trail.ParseCheckpoints(bytes.NewReader(cp.MarshalLine()))
	if err != nil {
		t.Fatal(err)
	}
	return back[0]
}

func verifyWith(t *testing.T, db *store.DB, cps ...trail.Checkpoint) trail.Report {
	t.Helper()
	r, err := trailtest.New(t, trail.SHA256).Verify(context.Background(), db, cps...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestChainMustExtendCheckpoint: a chain that grew since the checkpoint passes; one cut
// after it, or rewritten up to it with the key, fails, even when plain Verify passes.
func TestChainMustExtendCheckpoint(t *testing.T) {
	type attack struct {
		name       string
		do         func(t *testing.T, db *store.DB)
		plainOK    bool // whether Verify without the checkpoint still passes
		wantSeq    int64
		wantInText string
	}
	cases := []attack{
		{"grown since", func(t *testing.T, db *store.DB) {
			appendN(t, db, trailtest.New(t, trail.SM3), 2)
		}, true, 0, ""},
		{"last entries deleted, nothing recomputed", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq > 4`)
		}, false, 5, "missing"},
		{"last entries deleted and the head moved", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq > 4`)
			exec(t, db, `UPDATE trail_head SET seq = 4, hash = (SELECT hash FROM trail WHERE seq = 4)`)
		}, true, 5, "cut"},
		{"edited and recomputed with the stolen key", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE trail SET summary = 'nothing happened' WHERE seq = 3`)
			if err := trail.Rehash(context.Background(), db, 3, 6, "", trail.KeyedWith(trailtest.Key(t)), true); err != nil {
				t.Fatal(err)
			}
		}, true, 6, "checkpoint"},
		{"edited and recomputed with plain sha256", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE trail SET summary = 'nothing happened' WHERE seq = 3`)
			if err := trail.Rehash(context.Background(), db, 3, 6, trail.SHA256, trail.PlainSHA256, true); err != nil {
				t.Fatal(err)
			}
		}, false, 3, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				seed(t, db, trail.SHA256, 6)
				s := newSigner(t)
				cp := checkpointAt(t, db, s)
				if cp.Seq != 6 {
					t.Fatalf("checkpoint of entry %d, want 6", cp.Seq)
				}
				tc.do(t, db)
				if r := verifyWith(t, db); r.OK != tc.plainOK {
					t.Fatalf("without the checkpoint: %+v, want OK=%v", r, tc.plainOK)
				}
				r := verifyWith(t, db, cp)
				if tc.wantSeq == 0 {
					if !r.OK || r.Checkpoints != 1 {
						t.Fatalf("chain extending the checkpoint: %+v", r)
					}
					return
				}
				if r.OK || r.BadSeq != tc.wantSeq || !strings.Contains(r.Problem, tc.wantInText) {
					t.Fatalf("report %+v, want broken at %d mentioning %q", r, tc.wantSeq, tc.wantInText)
				}
			})
		})
	}
}

func TestBrokenChainIsNotSigned(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	seed(t, db, trail.SHA256, 3)
	exec(t, db, `UPDATE trail SET summary = 'x' WHERE seq = 2`)
	if _, err := trailtest.New(t, trail.SHA256).Checkpoint(context.Background(), db, newSigner(t)); err == nil {
		t.Fatal("a broken chain was signed")
	}
}

func TestAlteredCheckpointIsRejected(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	seed(t, db, trail.SHA256, 3)
	cp := checkpointAt(t, db, newSigner(t))
	other := newSigner(t)
	for name, change := range map[string]func(c *trail.Checkpoint){
		"seq":       func(c *trail.Checkpoint) { c.Seq = 2 },
		"hash":      func(c *trail.Checkpoint) { c.Hash = strings.Repeat("ab", 32) },
		"time":      func(c *trail.Checkpoint) { c.At = c.At.Add(time.Hour) },
		"other key": func(c *trail.Checkpoint) { c.PublicKey = other.Sign(1, c.Hash, c.Alg, c.At).PublicKey },
	} {
		c := cp
		change(&c)
		if _, err := trail.ParseCheckpoint(c.MarshalLine()); err == nil || !strings.Contains(err.Error(), "signature") {
			t.Errorf("%s altered: %v", name, err)
		}
	}
}

func TestParseCheckpointsRejectsBadInput(t *testing.T) {
	s := newSigner(t)
	good := s.Sign(3, strings.Repeat("0a", 32), trail.HMACSHA256, time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC))
	line := string(good.MarshalLine())
	other := string(newSigner(t).Sign(4, strings.Repeat("0b", 32), trail.HMACSHA256, good.At).MarshalLine())
	secret := "440305198807150031"
	cases := map[string]string{
		"empty":          "",
		"blank lines":    "\n\n",
		"not json":       secret + "\n",
		"unknown field":  strings.Replace(line, `"format"`, `"`+secret+`":1,"format"`, 1),
		"trailing data":  strings.TrimSuffix(line, "\n") + " " + secret + "\n",
		"wrong format":   strings.Replace(line, trail.CheckpointFormat, "x/"+secret, 1),
		"short hash":     strings.Replace(line, strings.Repeat("0a", 32), secret, 1),
		"bad public key": strings.Replace(line, good.PublicKey, secret, 1),
		"bad signature":  strings.Replace(line, good.Signature, "AAAA", 1),
		"line too long":  strings.Repeat(" ", 5000) + line,
		"mixed keys":     line + other,
		"negative seq":   strings.Replace(line, `"seq":3`, `"seq":-3`, 1),
	}
	for name, in := range cases {
		_, err := trail.ParseCheckpoints(strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error echoes the input: %v", name, err)
		}
	}
	if cps, err := trail.ParseCheckpoints(strings.NewReader("\n" + line + "\n" + line)); err != nil || len(cps) != 2 {
		t.Errorf("two good lines: %d %v", len(cps), err)
	}
}

// TestPublisherWritesOut publishes a checkpoint to the file, a webhook and a syslog
// server, each a real listener on the loopback.
func TestPublisherWritesOut(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	seed(t, db, trail.SHA256, 4)

	posted := make(chan []byte, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/nope" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		posted <- b
	}))
	defer hook.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	file := filepath.Join(t.TempDir(), "data", "trail-checkpoints.jsonl")
	p := &trail.Publisher{Log: trailtest.New(t, trail.SHA256), DB: db, Signer: newSigner(t), File: file,
		Syslog: "udp://" + pc.LocalAddr().String(), Webhook: hook.URL}
	cp, err := p.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cp.Seq != 4 {
		t.Fatalf("checkpoint of entry %d, want 4", cp.Seq)
	}
	body := <-posted
	var fromHook trail.Checkpoint
	if err := json.Unmarshal(body, &fromHook); err != nil || fromHook.Signature != cp.Signature {
		t.Errorf("webhook got %q (%v)", body, err)
	}
	buf := make([]byte, 8192)
	_ = pc.SetReadDeadline(time.Now().Add(30 * time.Second)) // only so that a lost datagram fails instead of hanging
	n, _, err := pc.ReadFrom(buf)
	if err != nil || !strings.Contains(string(buf[:n]), cp.Signature) || !strings.Contains(string(buf[:n]), "medguard-trail") {
		t.Errorf("syslog got %q (%v)", buf[:n], err)
	}

	// A second checkpoint appends a line, and the file parses as a whole.
	seed(t, db, trail.SHA256, 1)
	p.Syslog, p.Webhook = "", ""
	if _, err := p.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := trail.ParseCheckpoints(f)
	if err != nil || len(cps) != 2 || cps[1].Seq != 5 {
		t.Fatalf("checkpoint file: %+v %v", cps, err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file mode %v", st.Mode().Perm())
	}
	last, ok, err := trail.LastCheckpoint(file)
	if err != nil || !ok || last.Seq != 5 {
		t.Errorf("last checkpoint: %+v %v %v", last, ok, err)
	}

	// A webhook that refuses is reported, after the file was written.
	p.Webhook = hook.URL + "/nope"
	if _, err := p.Publish(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("refusing webhook: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil || bytes.Count(b, []byte("\n")) != 3 {
		t.Errorf("file after a refused webhook: %q %v", b, err)
	}
}
