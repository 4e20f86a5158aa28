package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/upstream"
)

const password = "Correct-Horse-9-Battery"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// server opens a medguard on a fresh data directory and serves it over loopback.
func server(t *testing.T, cfg app.Config) (*app.App, *httptest.Server) {
	t.Helper()
	a, err := app.Open(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return a, srv
}

func node(t *testing.T, a *app.App, parent int64, kind, name string) org.Node {
	t.Helper()
	n, err := a.Orgs.Create(context.Background(), actor.System(), org.Input{ParentID: parent, Kind: kind, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// token makes a user of role in node orgID and returns a token of scope for it.
func token(t *testing.T, a *app.App, orgID int64, username, role, scope string) string {
	t.Helper()
	ctx := context.Background()
	u, err := a.Auth.CreateUser(ctx, actor.System(), auth.UserInput{OrgID: orgID, Username: username, Role: role, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Auth.CreateToken(ctx, actor.System(), u.ID, "test", scope, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// get calls the API of srv with tok and decodes the answer into out.
func get(t *testing.T, srv *httptest.Server, path, tok string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

type list struct {
	Items []upstream.RemoteApp `json:"items"`
}

// fileApp files an app at hospital orgID and admits it.
func fileApp(t *testing.T, a *app.App, orgID int64, name, pkg string) appreg.App {
	t.Helper()
	ctx := context.Background()
	signer := strings.Repeat("ab", 32)
	ap, err := a.Apps.Apply(ctx, actor.System(), appreg.Input{OrgID: orgID, Name: name, Platform: appreg.PlatformAndroid, Package: pkg,
		Operator: "Example Ltd", Purpose: "online consultation",
		Contacts: []appreg.Contact{{Role: "security", Name: "Sec", Phone: "13800000001", Email: "sec@example.cn"},
			{Role: "technical", Name: "Tech", Phone: "13800000002", Email: "tech@example.cn"},
			{Role: "management", Name: "Boss", Phone: "13800000003", Email: "boss@example.cn"}},
		Channels: []appreg.Channel{{Name: "official-site"}, {Name: "huawei-appgallery"}},
		Versions: []appreg.Version{{Version: "1.0", Signers: []string{signer}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ap, err = a.Apps.Review(ctx, actor.System(), ap.ID, appreg.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestTwoServers is the acceptance test of upward reporting: a regional medguard and a
// hospital's medguard, each on its own data directory, talk over loopback HTTP. The
// hospital runs on SQLite; the region on SQLite and on PostgreSQL (when the environment
// names one).
func TestTwoServers(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { twoServers(t, "") })
	t.Run("postgres", func(t *testing.T) { twoServers(t, storetest.FreshPostgresURL(t)) })
}

func twoServers(t *testing.T, regionDB string) {
	ctx := context.Background()
	// The region: a region node with two hospitals, each linked.
	rcfg := app.Defaults()
	rcfg.DataDir, rcfg.DB = t.TempDir(), regionDB
	region, rsrv := server(t, rcfg)
	east := node(t, region, 0, org.KindRegion, "East Region")
	hospA := node(t, region, east.ID, org.KindHospital, "Hospital A")
	hospB := node(t, region, east.ID, org.KindHospital, "Hospital B")
	linkA, err := region.Upstream.LinkHospital(ctx, actor.CLI(), hospA.ID)
	if err != nil {
		t.Fatal(err)
	}
	linkB, err := region.Upstream.LinkHospital(ctx, actor.CLI(), hospB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := region.Upstream.LinkHospital(ctx, actor.CLI(), east.ID); err == nil {
		t.Error("a region node was linked: only a hospital reports")
	}
	regulator := token(t, region, east.ID, "regulator", auth.RoleRegulator, auth.ScopeRead)
	officerB := token(t, region, hospB.ID, "officer_b", auth.RoleSecurity, auth.ScopeWrite)
	officerA := token(t, region, hospA.ID, "officer_a", auth.RoleSecurity, auth.ScopeWrite)

	// Hospital A's own medguard: two apps admitted, one of them evicted, the other
	// served by a channel with a foreign signer (a critical finding).
	hcfg := app.Defaults()
	hcfg.DataDir = t.TempDir()
	hcfg.Apps.UpstreamURL, hcfg.Apps.UpstreamToken, hcfg.Apps.UpstreamKey = rsrv.URL, linkA.Token, linkA.Key
	hosp, _ := server(t, hcfg)
	h := node(t, hosp, 0, org.KindHospital, "Hospital A (own instance)")
	kept := fileApp(t, hosp, h.ID, "Patient portal", "cn.hospa.portal")
	gone := fileApp(t, hosp, h.ID, "Old booking app", "cn.hospa.booking")
	if _, err := hosp.Apps.Observe(ctx, actor.System(), kept.ID, appreg.Observation{Channel: "huawei-appgallery", Version: "1.0",
		Signer: strings.Repeat("cd", 32)}); err != nil {
		t.Fatal(err)
	}
	if _, err := hosp.Apps.Evict(ctx, actor.System(), gone.ID, "repackaged builds in the wild"); err != nil {
		t.Fatal(err)
	}
	want := map[int64]appreg.App{}
	apps, err := hosp.Apps.Apps(ctx, actor.System(), appreg.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ap := range apps {
		want[ap.ID] = ap
	}

	p, err := hosp.UpstreamPusher()
	if err != nil {
		t.Fatal(err)
	}
	p.Backoff = 10 * time.Millisecond
	ack, err := p.Push(ctx)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if !ack.Changed || ack.Apps != 2 || ack.Incidents < 2 || ack.OrgID != hospA.ID {
		t.Errorf("ack = %+v, want changed, 2 apps, at least 2 incidents (eviction, critical finding), org %d", ack, hospA.ID)
	}

	// Each incident raised an alert at the region, for hospital A's node.
	alerts := func() (n, evictions int) {
		t.Helper()
		if err := region.DB.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN kind = 'app.evicted' THEN 1 ELSE 0 END), 0)
			FROM alerts WHERE source = 'upstream' AND org_id = ?`, hospA.ID).Scan(&n, &evictions); err != nil {
			t.Fatal(err)
		}
		return n, evictions
	}
	if n, ev := alerts(); n != ack.Incidents || ev != 1 {
		t.Errorf("the region raised %d alerts (%d evictions) for %d incidents, want one each and one eviction", n, ev, ack.Incidents)
	}

	// The region lists both apps with the hospital's grades, scores and statuses.
	var l list
	if code := get(t, rsrv, "/api/v1/upstream/apps", regulator, &l); code != http.StatusOK || len(l.Items) != 2 {
		t.Fatalf("regulator's list: %d %+v", code, l)
	}
	var evicted upstream.RemoteApp
	for _, ra := range l.Items {
		w, ok := want[ra.RemoteID]
		if !ok {
			t.Fatalf("the region lists app %d, which the hospital does not have", ra.RemoteID)
		}
		if ra.Hospital != "Hospital A" || ra.OrgID != hospA.ID || ra.Name != w.Name || ra.Status != w.Status || ra.Grade != w.Grade ||
			ra.Score == nil || w.Score == nil || *ra.Score != *w.Score || ra.ReceivedAt.IsZero() {
			t.Errorf("reported app %+v, hospital has %+v", ra, w)
		}
		if ra.Status == appreg.StatusEvicted {
			evicted = ra
		}
	}
	if evicted.ID == 0 {
		t.Fatal("the evicted app is not listed as evicted")
	}
	var detail upstream.RemoteAppDetail
	if code := get(t, rsrv, "/api/v1/upstream/apps/"+itoa(evicted.ID), regulator, &detail); code != http.StatusOK {
		t.Fatalf("detail: %d", code)
	}
	if len(detail.Incidents) == 0 || detail.Incidents[0].Kind != appreg.IncidentEvicted ||
		detail.Incidents[0].Detail != "repackaged builds in the wild" {
		t.Errorf("the evicted app's incidents: %+v", detail.Incidents)
	}
	if len(detail.Codes) == 0 || detail.Codes[0].RevokedAt == nil {
		t.Errorf("the evicted app's codes are not revoked at the region: %+v", detail.Codes)
	}
	// Another hospital's user sees none of hospital A's apps.
	var lb list
	if code := get(t, rsrv, "/api/v1/upstream/apps", officerB, &lb); code != http.StatusOK || len(lb.Items) != 0 {
		t.Errorf("hospital B's officer lists %d of hospital A's apps (%d)", len(lb.Items), code)
	}
	if code := get(t, rsrv, "/api/v1/upstream/apps/"+itoa(evicted.ID), officerB, nil); code != http.StatusNotFound {
		t.Errorf("hospital B's officer reads hospital A's app: %d, want 404", code)
	}

	// The same report twice changes nothing.
	before := snapshot(t, region)
	rep, err := p.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Send(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	mid := snapshot(t, region)
	again, err := p.Send(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.Incidents != 0 {
		t.Errorf("the same report again: %+v, want nothing changed", again)
	}
	if after := snapshot(t, region); after != mid {
		t.Errorf("the same report again changed the region:\n%s\n%s", mid, after)
	}
	if n, _ := alerts(); n != ack.Incidents {
		t.Errorf("the region has %d alerts after the same incidents were reported again, want %d", n, ack.Incidents)
	}
	if first.Incidents != 0 {
		t.Errorf("a second report counted %d new incidents: incidents are kept once", first.Incidents)
	}
	if !strings.Contains(before, "incidents") {
		t.Fatal("snapshot is empty")
	}

	// A newer report replaces the node's apps; an older one changes nothing.
	newer, older := rep, rep
	newer.ReportID, newer.GeneratedAt, newer.Apps, newer.Incidents = strings.Repeat("a", 32), rep.GeneratedAt.Add(time.Microsecond), rep.Apps[:1], nil
	older.ReportID, older.GeneratedAt = strings.Repeat("b", 32), rep.GeneratedAt.Add(-time.Minute)
	for _, step := range []struct {
		name    string
		rep     upstream.Report
		changed bool
	}{{"newer with one app", newer, true}, {"older with both", older, false}} {
		ack, err := p.Send(ctx, step.rep)
		if err != nil || ack.Changed != step.changed {
			t.Fatalf("%s: %+v %v, want changed %v", step.name, ack, err, step.changed)
		}
		var l list
		get(t, rsrv, "/api/v1/upstream/apps?org_id="+itoa(hospA.ID), regulator, &l)
		if len(l.Items) != 1 || l.Items[0].RemoteID != newer.Apps[0].ID {
			t.Errorf("%s: the region has %+v, want the newer report's one app", step.name, l.Items)
		}
	}
	time.Sleep(time.Millisecond)
	if ack, err := p.Push(ctx); err != nil || !ack.Changed || ack.Apps != 2 { // both apps again, for what follows
		t.Fatalf("a new full report: %+v %v", ack, err)
	}

	// A tampered acknowledgement fails the push, which is tried again.
	var calls atomic.Int32
	target, _ := url.Parse(rsrv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		calls.Add(1)
		if sig := resp.Header.Get(upstream.SignatureHeader); sig != "" {
			resp.Header.Set(upstream.SignatureHeader, "v1="+strings.Repeat("0", 64))
		}
		return nil
	}
	mitm := httptest.NewServer(proxy)
	defer mitm.Close()
	tampered := *p
	tampered.URL, tampered.Attempts = mitm.URL, 2
	if _, err := tampered.Push(ctx); !errors.Is(err, upstream.ErrBadSignature) {
		t.Errorf("push through a tampering proxy: %v, want ErrBadSignature", err)
	}
	if calls.Load() != 2 {
		t.Errorf("the push was tried %d times, want 2", calls.Load())
	}
	var failed int
	if err := hosp.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM upstream_pushes WHERE status = 'failed'`).Scan(&failed); err != nil || failed != 2 {
		t.Errorf("failed pushes recorded: %d (%v), want 2", failed, err)
	}
	// A wrong key at the hospital (hospital B's) fails the same way.
	wrongKey := *p
	wrongKey.Key, _ = upstream.ParseKey(linkB.Key)
	wrongKey.Attempts = 1
	if _, err := wrongKey.Push(ctx); !errors.Is(err, upstream.ErrBadSignature) {
		t.Errorf("push checked with another link's key: %v, want ErrBadSignature", err)
	}

	// Only the link's token reports, and only for its node: a person's token of hospital
	// A is refused (403), hospital B's link token reports for B and never touches A.
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"officer of hospital A", officerA, http.StatusForbidden},
		{"regulator", regulator, http.StatusForbidden},
		{"not a token", "mgt_" + strings.Repeat("x", 40), http.StatusUnauthorized},
	} {
		body, _ := json.Marshal(rep)
		req, _ := http.NewRequest("POST", rsrv.URL+upstream.Path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := rsrv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get(upstream.SignatureHeader) != "" {
			t.Errorf("%s pushes: %d (signature %q), want %d unsigned", tc.name, resp.StatusCode, resp.Header.Get(upstream.SignatureHeader), tc.want)
		}
	}
	beforeB := snapshotOrg(t, region, hospA.ID)
	asB := *p
	asB.Token, asB.Key = linkB.Token, mustKey(t, linkB.Key)
	ackB, err := asB.Push(ctx)
	if err != nil || ackB.OrgID != hospB.ID {
		t.Fatalf("hospital B's link token: %+v %v, want a report for hospital B", ackB, err)
	}
	if after := snapshotOrg(t, region, hospA.ID); after != beforeB || !strings.Contains(after, "Patient portal") {
		t.Errorf("hospital A's apps changed by B's report:\n%s\n%s", beforeB, after)
	}
	var la list
	get(t, rsrv, "/api/v1/upstream/apps?org_id="+itoa(hospA.ID), regulator, &la)
	if len(la.Items) != 2 {
		t.Errorf("hospital A has %d apps at the region after B's report, want 2", len(la.Items))
	}

	// Linking hospital A again revokes the previous token.
	if _, err := region.Upstream.LinkHospital(ctx, actor.CLI(), hospA.ID); err != nil {
		t.Fatal(err)
	}
	old := *p
	old.Attempts = 1
	if _, err := old.Push(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("push with the token of a replaced link: %v, want 401", err)
	}
}

func mustKey(t *testing.T, s string) []byte {
	t.Helper()
	k, err := upstream.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// snapshot is the region's stored reports, apps and incidents as text.
func snapshot(t *testing.T, a *app.App) string { return snapshotOrg(t, a, 0) }

func snapshotOrg(t *testing.T, a *app.App, orgID int64) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT org_id, report_id, generated_at, received_at FROM upstream_reports WHERE org_id = ? OR ? = 0 ORDER BY org_id`,
		`SELECT org_id, remote_id, name, status, score, grade, findings, codes, reported_at FROM upstream_apps WHERE org_id = ? OR ? = 0 ORDER BY id`,
		`SELECT org_id, remote_key, kind, occurred_at, received_at FROM upstream_incidents WHERE org_id = ? OR ? = 0 ORDER BY id`,
	} {
		rows, err := a.DB.QueryContext(context.Background(), q, orgID, orgID)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		b.WriteString(cols[len(cols)-1] + "\n")
		if strings.Contains(q, "upstream_incidents") {
			b.WriteString("incidents\n")
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line, _ := json.Marshal(vals)
			b.Write(line)
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

// TestLoop: the periodic push reports at its first step, then only when the report says
// something new or when Every has passed.
func TestLoop(t *testing.T) {
	ctx := context.Background()
	rcfg := app.Defaults()
	rcfg.DataDir = t.TempDir()
	region, rsrv := server(t, rcfg)
	hospR := node(t, region, 0, org.KindHospital, "Hospital A")
	link, err := region.Upstream.LinkHospital(ctx, actor.CLI(), hospR.ID)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	target, _ := url.Parse(rsrv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(*http.Response) error { calls.Add(1); return nil }
	counting := httptest.NewServer(proxy)
	defer counting.Close()

	hcfg := app.Defaults()
	hcfg.DataDir = t.TempDir()
	hcfg.Apps.UpstreamURL, hcfg.Apps.UpstreamToken, hcfg.Apps.UpstreamKey = counting.URL, link.Token, link.Key
	hosp, _ := server(t, hcfg)
	h := node(t, hosp, 0, org.KindHospital, "Hospital A (own instance)")
	fileApp(t, hosp, h.ID, "Patient portal", "cn.hospa.portal")
	p, err := hosp.UpstreamPusher()
	if err != nil {
		t.Fatal(err)
	}
	loop := &upstream.Loop{Pusher: p, Every: time.Hour, Logger: quiet()}
	steps := []struct {
		name   string
		before func()
		want   int32
	}{
		{"first step", func() {}, 1},
		{"nothing changed", func() {}, 1},
		{"an app filed", func() { fileApp(t, hosp, h.ID, "Booking", "cn.hospa.booking") }, 2},
		{"nothing changed again", func() {}, 2},
		{"interval passed", func() { loop.Every = 0 }, 3},
	}
	for _, s := range steps {
		s.before()
		loop.Step(ctx)
		if got := calls.Load(); got != s.want {
			t.Fatalf("%s: %d pushes, want %d", s.name, got, s.want)
		}
	}
	apps, err := region.Upstream.Apps(ctx, actor.System(), upstream.Query{})
	if err != nil || len(apps) != 2 {
		t.Errorf("the region has %d apps (%v), want 2", len(apps), err)
	}
}
