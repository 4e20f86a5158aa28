package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
)

// testKey is an acknowledgement key as `medguard upstream link` prints it.
var testKey = "mgk_" + strings.Repeat("1f", 32)

func TestUpstreamConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "medguard.yaml")
	if err := os.WriteFile(file, []byte("apps:\n  upstream_url: https://region.example\n  upstream_interval: 30m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokFile, keyFile := filepath.Join(dir, "token"), filepath.Join(dir, "key")
	if err := os.WriteFile(tokFile, []byte("mgt_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MEDGUARD_APPS_UPSTREAM_TOKEN_FILE": tokFile, "MEDGUARD_APPS_UPSTREAM_KEY_FILE": keyFile,
		"MEDGUARD_APPS_UPSTREAM_INTERVAL": "20m"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	a := c.Apps
	if a.UpstreamURL != "https://region.example" || a.UpstreamToken != "mgt_from_file" || a.UpstreamKey != testKey ||
		a.UpstreamInterval != 20*time.Minute || !a.UpstreamOn() {
		t.Fatalf("apps config %+v", a)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, "mgt_from_file") || strings.Contains(s, testKey) {
		t.Errorf("String() prints an upstream secret: %s", s)
	}
	// The variable wins over its _FILE variant.
	env["MEDGUARD_APPS_UPSTREAM_TOKEN"] = "mgt_from_env"
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil || c.Apps.UpstreamToken != "mgt_from_env" {
		t.Errorf("token %q (%v), want the variable's", c.Apps.UpstreamToken, err)
	}
	env["MEDGUARD_APPS_UPSTREAM_KEY_FILE"] = filepath.Join(dir, "missing")
	if err := c.LoadEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("a missing key file accepted")
	}
	for name, mut := range map[string]func(*AppsConfig){
		"url without secrets": func(a *AppsConfig) { a.UpstreamToken, a.UpstreamKey = "", "" },
		"secrets without url": func(a *AppsConfig) { a.UpstreamURL = "" },
		"not http":            func(a *AppsConfig) { a.UpstreamURL = "ftp://region.example" },
		"malformed key":       func(a *AppsConfig) { a.UpstreamKey = "mgk_123" },
		"interval too short":  func(a *AppsConfig) { a.UpstreamInterval = time.Second },
	} {
		c := Defaults()
		c.Apps = AppsConfig{UpstreamURL: "https://region.example", UpstreamToken: "mgt_x", UpstreamKey: testKey}
		mut(&c.Apps)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "apps.upstream") {
			t.Errorf("%s: %v, want an apps.upstream_* error", name, err)
		}
	}
}

// TestStartReportsUpstream: a serving hospital process with apps.upstream_url reports
// under the apps.upstream lease before Start returns. The region here is a stand-in
// that refuses the token (401): the push fails, is recorded and logged, and Start does
// not fail for it (upstream.Loop's own test covers a real region).
func TestStartReportsUpstream(t *testing.T) {
	var calls atomic.Int32
	region := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/api/v1/upstream/apps" || r.Header.Get("Authorization") != "Bearer mgt_x" {
			t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		http.Error(w, `{"error":{"code":"bad_token","message":"the API token is not valid"}}`, http.StatusUnauthorized)
	}))
	defer region.Close()
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Apps.UpstreamURL, cfg.Apps.UpstreamToken, cfg.Apps.UpstreamKey = region.URL, "mgt_x", testKey
	ctx := context.Background()
	a, err := Open(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("Start pushed %d times, want once", calls.Load())
	}
	var failed int
	if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM upstream_pushes WHERE status = 'failed' AND error LIKE '%401%'`).Scan(&failed); err != nil || failed != 1 {
		t.Errorf("failed pushes recorded: %d %v", failed, err)
	}
}
