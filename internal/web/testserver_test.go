package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// testPassword is the password of every seeded test user.
const testPassword = "Correct-Horse-42-battery"

// testEnv is a real server on loopback over a real database, with two hospitals, one
// user of each role in hospital A (the regulator sits at the region above both), a
// security officer in hospital B, and an API token for each user.
type testEnv struct {
	t      *testing.T
	db     *store.DB
	srv    *Server
	ts     *httptest.Server
	URL    string
	Orgs   *org.Service
	Auth   *auth.Service
	Assets *asset.Service
	Trail  *trail.Log

	Region, HospA, HospB, DeptA org.Node
	Users                       map[string]auth.User // by username
	Tokens                      map[string]string    // username → write token
	AssetA, AssetB              asset.Asset
}

// roleUser names the hospital-A user of each role.
var roleUser = map[string]string{
	auth.RoleAdmin:       "admin",
	auth.RoleSecurity:    "secofficer",
	auth.RolePrivacy:     "privacy",
	auth.RoleAuditor:     "auditor",
	auth.RoleITOps:       "itops",
	auth.RoleAppOperator: "appops",
	auth.RoleRegulator:   "regulator",
}

func newTestEnv(t *testing.T, db *store.DB) *testEnv {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, db: db, Trail: tl, Users: map[string]auth.User{}, Tokens: map[string]string{}}
	e.Orgs = org.NewService(db, tl)
	e.Auth = auth.NewService(db, tl, auth.Options{MFAPolicy: e.Orgs})
	e.Assets = asset.NewService(db, tl)
	sys := actor.System()
	mk := func(parent int64, kind, name, code string) org.Node {
		n, err := e.Orgs.Create(ctx, sys, org.Input{ParentID: parent, Kind: kind, Name: name, Code: code})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	e.Region = mk(0, org.KindRegion, "Test City Health Bureau", "CITY")
	e.HospA = mk(e.Region.ID, org.KindHospital, "Hospital A", "HA")
	e.HospB = mk(e.Region.ID, org.KindHospital, "Hospital B", "HB")
	e.DeptA = mk(e.HospA.ID, org.KindDepartment, "Radiology A", "HA-RAD")
	addUser := func(name, role string, orgID int64) {
		u, err := e.Auth.CreateUser(ctx, sys, auth.UserInput{OrgID: orgID, Username: name, Role: role, Password: testPassword, DisplayName: name})
		if err != nil {
			t.Fatalf("create user %s: %v", name, err)
		}
		e.Users[name] = u
		tok, _, err := e.Auth.CreateToken(ctx, sys, u.ID, "test", "write", 0)
		if err != nil {
			t.Fatalf("token for %s: %v", name, err)
		}
		e.Tokens[name] = tok
	}
	for role, name := range roleUser {
		orgID := e.HospA.ID
		if role == auth.RoleRegulator {
			orgID = e.Region.ID
		}
		addUser(name, role, orgID)
	}
	addUser("secofficer_b", auth.RoleSecurity, e.HospB.ID)
	e.AssetA, err = e.Assets.Create(ctx, sys, asset.Input{OrgID: e.HospA.ID, Code: "A-001", Name: "HIS database server A",
		Kind: "server", Zone: "internal", Lifecycle: "in_service", MLPSLevel: 3, IP: "10.1.1.10"})
	if err != nil {
		t.Fatalf("asset A: %v", err)
	}
	e.AssetB, err = e.Assets.Create(ctx, sys, asset.Input{OrgID: e.HospB.ID, Code: "B-001", Name: "PACS archive B",
		Kind: "server", Zone: "internal", Lifecycle: "in_service", MLPSLevel: 3, IP: "10.2.1.10"})
	if err != nil {
		t.Fatalf("asset B: %v", err)
	}
	srv, err := New(Deps{DB: db, Trail: tl, Orgs: e.Orgs, Auth: e.Auth, Assets: e.Assets, I18n: i18n.MustLoad(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	e.URL = e.ts.URL
	return e
}

// api performs a JSON API request with the token of user (none when user is "").
func (e *testEnv) api(method, path, user string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.Tokens[user])
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e      *testEnv
	client *http.Client
	csrf   string
}

func (e *testEnv) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and remembers the page's CSRF token.
func (b *browser) get(path string) (int, string, http.Header) {
	b.e.t.Helper()
	resp, err := b.client.Get(b.e.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp.Header
}

// post submits a form with the remembered CSRF token (unless the form sets its own).
func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	resp, err := b.client.PostForm(b.e.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp.Header
}

// login signs user in through the form and fails the test if that does not work.
func (b *browser) login(user string) {
	b.e.t.Helper()
	b.get("/login")
	code, body, h := b.post("/login", url.Values{"username": {user}, "password": {testPassword}, "next": {"/"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/" {
		b.e.t.Fatalf("login %s: status %d location %q body %.300s", user, code, h.Get("Location"), body)
	}
	b.get("/")
}
