package appreg_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/authcode"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	db           *store.DB
	reg          *appreg.Service
	codes        *appreg.SignedCodes
	al           *alert.Service
	hospA, hospB org.Node
	secA, secB   actor.Actor
	now          time.Time
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	prov, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "省卫健委"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.secB = actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	if w.al, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	signer, err := authcode.GenerateKey(authcode.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if w.codes, err = appreg.NewSignedCodes(signer); err != nil {
		t.Fatal(err)
	}
	w.reg = appreg.New(db, tl, w.codes, appreg.ModelScorer{Model: appscore.DefaultModel()}, w.al,
		appreg.Options{Now: func() time.Time { return w.now }})
	return w
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var (
	officialSigner = digest("official certificate")
	foreignSigner  = digest("someone else's certificate")
)

func input(org int64) appreg.Input {
	return appreg.Input{OrgID: org, Name: "掌上医院", Platform: appreg.PlatformAndroid, Package: "cn.example.hospital",
		Operator: "示例科技有限公司", Purpose: "online consultation and appointments",
		Contacts: []appreg.Contact{
			{Role: "security", Name: "王安", Phone: "+86 10 1234 5678", Email: "sec@example.cn"},
			{Role: "technical", Name: "李工", Phone: "13800000000", Email: "tech@example.cn"},
			{Role: "management", Name: "张主任", Phone: "010-87654321", Email: "boss@example.cn"}},
		Channels: []appreg.Channel{{Name: "official-site", URL: "https://app.example.cn"}, {Name: "appgallery"}},
		Versions: []appreg.Version{
			{Version: "3.1.0", VersionCode: 310, SHA256: digest("3.1.0"), Signers: []string{officialSigner}},
			{Version: "3.2.0", VersionCode: 320, SHA256: digest("3.2.0"), Signers: []string{strings.ToUpper(officialSigner)}, Current: true}}}
}

func alertKinds(t *testing.T, w *world) map[string]bool {
	t.Helper()
	rows, err := w.db.QueryContext(context.Background(), `SELECT kind FROM alerts WHERE source = 'apps'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k] = true
	}
	return out
}

// TestLifecycle: apply → approve (a code that verifies offline and online) → a channel
// serves a foreign signer → a critical finding takes the default model's 40 points, grade
// C, eviction proposed → evict (the code no longer verifies online) → re-admission with
// evidence → approve: a new code, the old one still revoked; the channel serving the
// official build again fixes the finding and the score comes back.
func TestLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ap, err := w.reg.Apply(ctx, w.secA, input(w.hospA.ID))
		if err != nil {
			t.Fatal(err)
		}
		if ap.Status != appreg.StatusPending || ap.Score != nil || len(ap.Versions) != 2 || ap.Versions[1].Signers[0] != officialSigner {
			t.Fatalf("applied: %+v", ap)
		}
		if _, err := w.reg.Apply(ctx, w.secA, input(w.hospA.ID)); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("the same app again: %v, want a conflict", err)
		}
		// Another hospital neither sees nor reviews it.
		if _, err := w.reg.App(ctx, w.secB, ap.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("other hospital reads it: %v", err)
		}
		if _, err := w.reg.Review(ctx, w.secB, ap.ID, appreg.Decision{Approve: true}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("other hospital approves it: %v", err)
		}
		if _, err := w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{}); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("a rejection without a comment: %v", err)
		}
		ap, err = w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true, Comment: "材料齐全"})
		if err != nil {
			t.Fatal(err)
		}
		if ap.Status != appreg.StatusAdmitted || ap.Score == nil || *ap.Score != 100 || ap.Grade != "A" {
			t.Fatalf("approved: status %s score %v grade %s", ap.Status, ap.Score, ap.Grade)
		}
		codes, err := w.reg.Codes(ctx, w.secA, ap.ID)
		if err != nil || len(codes) != 1 {
			t.Fatalf("codes %v %v", codes, err)
		}
		code := codes[0].Code
		cl, err := authcode.Verify(code, w.codes.Ring, w.now)
		if err != nil || cl.AppID != fmt.Sprint(ap.ID) || cl.OrgID != w.hospA.ID || cl.HospitalName != "甲医院" {
			t.Fatalf("offline verification: %+v %v", cl, err)
		}
		if v, err := w.reg.Verify(ctx, code); err != nil || !v.Valid || v.App != "掌上医院" {
			t.Fatalf("online verification: %+v %v", v, err)
		}

		// A channel serves the current official build: nothing found.
		fs, err := w.reg.Observe(ctx, w.secA, ap.ID, appreg.Observation{Channel: "official-site", Version: "3.2.0", SHA256: digest("3.2.0"), Signer: officialSigner})
		if err != nil || len(fs) != 0 {
			t.Fatalf("official build: findings %+v %v", fs, err)
		}
		// Another serves a repackaged build.
		fs, err = w.reg.Observe(ctx, w.secA, ap.ID, appreg.Observation{Channel: "appgallery", Version: "3.2.0", SHA256: digest("repackaged"), Signer: foreignSigner})
		if err != nil || len(fs) != 1 || fs[0].Type != appreg.FindingForeignSigner || fs[0].Severity != "critical" {
			t.Fatalf("foreign signer: findings %+v %v", fs, err)
		}
		ap, err = w.reg.App(ctx, w.secA, ap.ID)
		if err != nil || *ap.Score != 60 || ap.Grade != "C" {
			t.Fatalf("after the foreign signer: score %v grade %s (%v); want 60 (the model's 40 points) and C", *ap.Score, ap.Grade, err)
		}
		kinds := alertKinds(t, w)
		if !kinds[appreg.FindingForeignSigner] || !kinds["app.eviction_proposed"] {
			t.Fatalf("alerts %v", kinds)
		}

		// Eviction revokes the code.
		if _, err := w.reg.Evict(ctx, w.secA, ap.ID, ""); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("evict without a reason: %v", err)
		}
		if ap, err = w.reg.Evict(ctx, w.secA, ap.ID, "仿冒包未下架"); err != nil || ap.Status != appreg.StatusEvicted {
			t.Fatalf("evict: %+v %v", ap.Status, err)
		}
		if v, err := w.reg.Verify(ctx, code); err != nil || v.Valid || !strings.HasPrefix(v.Reason, "revoked") {
			t.Fatalf("online verification after eviction: %+v %v", v, err)
		}
		if _, err := authcode.Verify(code, w.codes.Ring, w.now); err != nil {
			t.Fatalf("offline the signature still holds (revocation is online): %v", err)
		}
		if !alertKinds(t, w)["app.evicted"] {
			t.Fatal("no eviction alert")
		}

		// Re-admission needs evidence; then a new code.
		in := input(w.hospA.ID)
		if _, err := w.reg.Readmit(ctx, w.secA, ap.ID, in); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("re-admission without evidence: %v", err)
		}
		in.Evidence = "appgallery 上的仿冒包已下架；加固并重新签名"
		if ap, err = w.reg.Readmit(ctx, w.secA, ap.ID, in); err != nil || ap.Status != appreg.StatusPending {
			t.Fatalf("readmit: %v %v", ap.Status, err)
		}
		w.now = w.now.Add(time.Hour)
		if ap, err = w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil || ap.Status != appreg.StatusAdmitted {
			t.Fatalf("re-admitted: %v %v", ap.Status, err)
		}
		codes, _ = w.reg.Codes(ctx, w.secA, ap.ID)
		if len(codes) != 2 || codes[0].RevokedAt != nil || codes[1].RevokedAt == nil {
			t.Fatalf("codes after re-admission: %+v", codes)
		}
		if v, _ := w.reg.Verify(ctx, codes[0].Code); !v.Valid {
			t.Fatalf("the new code: %+v", v)
		}
		if v, _ := w.reg.Verify(ctx, code); v.Valid {
			t.Fatal("the evicted code verifies again")
		}
		// The channel serves the official build again: the finding is fixed.
		if fs, err = w.reg.Observe(ctx, w.secA, ap.ID, appreg.Observation{Channel: "appgallery", Version: "3.2.0", SHA256: digest("3.2.0"), Signer: officialSigner}); err != nil || len(fs) != 0 {
			t.Fatalf("fixed: %+v %v", fs, err)
		}
		if ap, _ = w.reg.App(ctx, w.secA, ap.ID); *ap.Score != 100 || ap.Grade != "A" {
			t.Fatalf("score after the fix: %v %s", *ap.Score, ap.Grade)
		}
		scores, err := w.reg.Scores(ctx, w.secA, ap.ID)
		if err != nil || len(scores) < 3 || scores[len(scores)-1].Score != 100 {
			t.Fatalf("score history %+v %v", scores, err)
		}
	})
}

// TestChannelFindings: each channel's latest observation against the filing — an
// unfiled channel, an unofficial digest, an unknown version, an outdated version, and
// channels that disagree; the model's deductions add up; missing contacts are findings.
func TestChannelFindings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := input(w.hospA.ID)
		in.Contacts = in.Contacts[:2] // no management contact
		in.Channels = append(in.Channels, appreg.Channel{Name: "store-b"})
		ap, err := w.reg.Apply(ctx, w.secA, in)
		if err != nil {
			t.Fatal(err)
		}
		if ap, err = w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		if *ap.Score != 96 || ap.Grade != "A" { // contacts.missing medium: 4
			t.Fatalf("score with a contact missing: %d %s", *ap.Score, ap.Grade)
		}
		for _, o := range []appreg.Observation{
			{Channel: "official-site", Version: "3.1.0", SHA256: digest("3.1.0"), Signer: officialSigner}, // outdated
			{Channel: "appgallery", Version: "3.2.0", SHA256: digest("tampered"), Signer: officialSigner}, // unofficial digest
			{Channel: "store-b", Version: "9.9.9"},                                                        // unknown version
			{Channel: "pirate-store", Version: "3.2.0", SHA256: digest("3.2.0"), Signer: officialSigner},  // not filed
		} {
			if _, err := w.reg.Observe(ctx, w.secA, ap.ID, o); err != nil {
				t.Fatal(err)
			}
		}
		fs, err := w.reg.Findings(ctx, w.secA, ap.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, f := range fs {
			got[f.Type+" "+f.Subject]++
		}
		want := []string{"contacts.missing management", "channel.outdated_version official-site", "channel.unofficial_build appgallery",
			"channel.unofficial_build store-b", "channel.unregistered pirate-store", "channel.inconsistent_versions "}
		for _, k := range want {
			if got[k] != 1 {
				t.Errorf("finding %q: %d, want 1 (all: %v)", k, got[k], got)
			}
		}
		if len(fs) != len(want) {
			t.Errorf("%d findings, want %d: %v", len(fs), len(want), got)
		}
		// The same observations again change nothing.
		if _, err := w.reg.Observe(ctx, w.secA, ap.ID, appreg.Observation{Channel: "store-b", Version: "9.9.9"}); err != nil {
			t.Fatal(err)
		}
		if again, _ := w.reg.Findings(ctx, w.secA, ap.ID, true); len(again) != len(fs) {
			t.Errorf("a repeated observation changed the findings: %d → %d", len(fs), len(again))
		}
		ap, _ = w.reg.App(ctx, w.secA, ap.ID)
		res := appscore.Evaluate([]appscore.Finding{{Type: "contacts.missing", Severity: "medium"}, {Type: "channel.outdated_version", Severity: "medium"},
			{Type: "channel.unofficial_build", Severity: "high"}, {Type: "channel.unofficial_build", Severity: "high"},
			{Type: "channel.unregistered", Severity: "high"}, {Type: "channel.inconsistent_versions", Severity: "low"}}, appscore.DefaultModel())
		if *ap.Score != res.Score || ap.Grade != string(res.Grade) {
			t.Errorf("score %d %s, the model says %d %s", *ap.Score, ap.Grade, res.Score, res.Grade)
		}
	})
}

// TestApplyValidation: bad input is refused with the field at fault, and nothing is
// stored.
func TestApplyValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		cases := []struct {
			name, field string
			edit        func(*appreg.Input)
		}{
			{"no name", "name", func(in *appreg.Input) { in.Name = " " }},
			{"platform", "platform", func(in *appreg.Input) { in.Platform = "symbian" }},
			{"digest", "versions.sha256", func(in *appreg.Input) { in.Versions[0].SHA256 = "abc" }},
			{"signer", "versions.signers", func(in *appreg.Input) { in.Versions[0].Signers = []string{"zz"} }},
			{"email", "contacts.email", func(in *appreg.Input) { in.Contacts[0].Email = "not an address" }},
			{"phone", "contacts.phone", func(in *appreg.Input) { in.Contacts[0].Phone = "call me" }},
			{"role", "contacts.role", func(in *appreg.Input) { in.Contacts[0].Role = "ceo" }},
			{"channel url", "channels.url", func(in *appreg.Input) { in.Channels[0].URL = "javascript:alert(1)" }},
			{"two current", "versions.current", func(in *appreg.Input) { in.Versions[0].Current = true }},
			{"duplicate version", "versions.version", func(in *appreg.Input) { in.Versions[0].Version = "3.2.0" }},
			{"NUL", "purpose", func(in *appreg.Input) { in.Purpose = "a\x00b" }},
		}
		for _, c := range cases {
			in := input(w.hospA.ID)
			c.edit(&in)
			_, err := w.reg.Apply(ctx, w.secA, in)
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Kind != problem.KindInvalid || pe.Field != c.field {
				t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
			}
		}
		// A department cannot file; another hospital's id is not found.
		in := input(w.hospB.ID)
		if _, err := w.reg.Apply(ctx, w.secA, in); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("filing for another hospital: %v", err)
		}
		if apps, err := w.reg.Apps(ctx, actor.System(), appreg.Query{}); err != nil || len(apps) != 0 {
			t.Errorf("stored %d apps (%v)", len(apps), err)
		}
	})
}

// TestSweepExpiresCodes: with nobody reporting anything, a code that expired becomes a
// finding when the platform sweeps, and rotating the code fixes it.
func TestSweepExpiresCodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ap, err := w.reg.Apply(ctx, w.secA, input(w.hospA.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.reg.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if fs, _ := w.reg.Findings(ctx, w.secA, ap.ID, true); len(fs) != 0 {
			t.Fatalf("findings before expiry: %+v", fs)
		}
		w.now = w.now.Add(366 * 24 * time.Hour) // the default validity is a year
		if _, err := w.reg.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		fs, _ := w.reg.Findings(ctx, w.secA, ap.ID, true)
		if len(fs) != 1 || fs[0].Type != appreg.FindingCodeExpired {
			t.Fatalf("findings after expiry: %+v", fs)
		}
		if v, _ := w.reg.Verify(ctx, mustCode(t, w, ap.ID)); v.Valid || v.Reason != "expired" {
			t.Fatalf("online verification of the expired code: %+v", v)
		}
		// Rotation gives a valid code again and the finding is fixed.
		if _, err := w.reg.RotateCode(ctx, w.secA, ap.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if fs, _ := w.reg.Findings(ctx, w.secA, ap.ID, true); len(fs) != 0 {
			t.Fatalf("findings after rotation: %+v", fs)
		}
		if alertKinds(t, w)["app.eviction_proposed"] {
			t.Fatal("eviction proposed before any critical finding")
		}
	})
}

// TestCriticalPastDeadline: under a model where a foreign signer costs little (grade A
// still), a critical finding proposes eviction only once it has been open longer than
// the deadline (7 days by default) — found by the sweep.
func TestCriticalPastDeadline(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		model := appscore.DefaultModel()
		rule := model.Types[appreg.FindingForeignSigner]
		rule.Deductions = map[appscore.Severity]int{appscore.Critical: 5, appscore.High: 3, appscore.Medium: 2, appscore.Low: 1, appscore.Info: 0}
		model.Types[appreg.FindingForeignSigner] = rule
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		if err != nil {
			t.Fatal(err)
		}
		reg := appreg.New(db, tl, w.codes, appreg.ModelScorer{Model: model}, w.al, appreg.Options{Now: func() time.Time { return w.now }})
		ap, err := reg.Apply(ctx, w.secA, input(w.hospA.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Observe(ctx, w.secA, ap.ID, appreg.Observation{Channel: "appgallery", Signer: foreignSigner}); err != nil {
			t.Fatal(err)
		}
		if ap, _ = reg.App(ctx, w.secA, ap.ID); ap.Grade != "A" || alertKinds(t, w)["app.eviction_proposed"] {
			t.Fatalf("grade %s, eviction proposed at once: %v", ap.Grade, alertKinds(t, w))
		}
		w.now = w.now.Add(6 * 24 * time.Hour)
		if _, err := reg.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if alertKinds(t, w)["app.eviction_proposed"] {
			t.Fatal("eviction proposed before the deadline")
		}
		w.now = w.now.Add(2 * 24 * time.Hour)
		if _, err := reg.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if !alertKinds(t, w)["app.eviction_proposed"] {
			t.Fatal("no eviction proposed for a critical finding past its deadline")
		}
	})
}

func mustCode(t *testing.T, w *world, id int64) string {
	t.Helper()
	codes, err := w.reg.Codes(context.Background(), w.secA, id)
	if err != nil || len(codes) == 0 {
		t.Fatalf("codes: %v %v", codes, err)
	}
	return codes[0].Code
}

// TestAlertsAboutTheApp: an open alert another module raised about the app (its package
// in the alert's app field, in the app's hospital) is a finding of the app with the
// alert's severity, scored by the model; once the alert is resolved the sweep fixes it.
// An alert naming the package in another hospital is not this app's.
func TestAlertsAboutTheApp(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ap, err := w.reg.Apply(ctx, w.secA, input(w.hospA.ID))
		if err != nil {
			t.Fatal(err)
		}
		if ap, err = w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		raise := func(org int64, key string) alert.Alert {
			t.Helper()
			var al alert.Alert
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				al, _, err = w.al.Raise(ctx, tx, alert.Input{OrgID: org, Source: "detect", Kind: "bulk_export", Severity: "high",
					Title: i18n.M("app.alert.finding", "x", "y", "z"), App: ap.Package, DedupKey: key})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return al
		}
		mine := raise(w.hospA.ID, "a")
		raise(w.hospB.ID, "b") // the same package in another hospital
		if _, err := w.reg.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		fs, _ := w.reg.Findings(ctx, w.secA, ap.ID, true)
		if len(fs) != 1 || fs[0].Type != appreg.FindingAlert || fs[0].Severity != "high" || fs[0].Subject != fmt.Sprintf("bulk_export #%d", mine.ID) {
			t.Fatalf("findings with an open alert about the app: %+v", fs)
		}
		ap, _ = w.reg.App(ctx, w.secA, ap.ID)
		res := appscore.Evaluate([]appscore.Finding{{Type: appreg.FindingAlert, Severity: "high"}}, appscore.DefaultModel())
		if *ap.Score != res.Score || res.Score >= appscore.MaxScore {
			t.Fatalf("score %d, the model says %d", *ap.Score, res.Score)
		}
		admin := actor.Actor{Username: "admin", Role: "admin", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
		if _, err := w.al.SetStatus(ctx, admin, []int64{mine.ID}, alert.Change{Status: alert.StatusResolved, Resolution: "confirmed",
			Reason: "the export was stopped"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if fs, _ := w.reg.Findings(ctx, w.secA, ap.ID, true); len(fs) != 0 {
			t.Fatalf("findings after the alert was resolved: %+v", fs)
		}
		if ap, _ = w.reg.App(ctx, w.secA, ap.ID); *ap.Score != appscore.MaxScore {
			t.Fatalf("score after the alert was resolved: %d", *ap.Score)
		}
	})
}
