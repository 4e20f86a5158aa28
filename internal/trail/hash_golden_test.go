package trail

import (
	"crypto/sha256"
	"testing"

	"github.com/medguard/medguard/internal/i18n"
)

// TestEntryHashGolden pins the text an entry's hash covers, computed independently of
// this code: an entry without a summary message hashes exactly as entries did before
// messages existed (so every stored entry verifies unchanged), and the stored message,
// when there is one, is one more length-prefixed field.
func TestEntryHashGolden(t *testing.T) {
	e := Entry{Seq: 1, at: "2026-01-02T03:04:05Z", ActorID: 7, Actor: "secofficer", OrgID: 2, Action: "asset.update",
		ObjectType: "asset", ObjectID: "1", Summary: "change 1", IP: "10.0.0.8", Digest: "abc", Alg: SHA256, PrevHash: Genesis}
	if got, want := e.hashWith(sha256.New()), "d6ce9986c7cd981f079fb23feac69f60e0a4cd83a68c3d888c084cbac58437ca"; got != want {
		t.Errorf("entry without a message: hash %s, want %s (the format of existing entries changed)", got, want)
	}
	msg, err := encodeMsg(Msg("trail.summary.asset.kind_code", i18n.M("kind.server"), "A-1"))
	if err != nil {
		t.Fatal(err)
	}
	e.msg = msg
	if got, want := e.hashWith(sha256.New()), "73d825f19ad465a54149efbead8a794cf99964db7bc11b09cc30cd4b4dd8a74d"; got != want {
		t.Errorf("entry with a message %s: hash %s, want %s", msg, got, want)
	}
}
