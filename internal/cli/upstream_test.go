package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/app"
)

// TestUpstreamLinkAndPush: `upstream link` at the region prints the two secrets; a
// hospital configured with them (environment) pushes with `upstream push` to the region
// served on loopback, and is acknowledged; a wrong key fails the push (exit 1, why on
// stderr).
func TestUpstreamLinkAndPush(t *testing.T) {
	regionData, hospData := t.TempDir(), t.TempDir()
	mustRun(t, "migrate", "--data", regionData)
	seedRegion(t, regionData, "")
	code, out, errs := runCLI(t, "", "upstream", "link", "--org", "Hospital A", "--data", regionData)
	if code != 0 {
		t.Fatalf("link: exit %d: %s", code, errs)
	}
	m := regexp.MustCompile(`(?m)^MEDGUARD_APPS_UPSTREAM_TOKEN=(mgt_\w+)\nMEDGUARD_APPS_UPSTREAM_KEY=(mgk_[0-9a-f]{64})$`).FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(out, "linked Hospital A (organisation 2) for upward reporting") {
		t.Fatalf("link printed:\n%s", out)
	}
	cfg := app.Defaults()
	cfg.DataDir = regionData
	region, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	h, err := region.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	mustRun(t, "migrate", "--data", hospData)
	push := func(key string) (int, string, string) {
		env := map[string]string{"MEDGUARD_APPS_UPSTREAM_URL": srv.URL, "MEDGUARD_APPS_UPSTREAM_TOKEN": m[1], "MEDGUARD_APPS_UPSTREAM_KEY": key}
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"upstream", "push", "--data", hospData}, strings.NewReader(""), &out, &errb,
			func(k string) string { return env[k] }, nil)
		return code, out.String(), errb.String()
	}
	code, out, errs = push(m[2])
	if code != 0 || !regexp.MustCompile(`^report [0-9a-f]{32} acknowledged: 0 apps, 0 new incidents, stored\n$`).MatchString(out) {
		t.Fatalf("push: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = push("mgk_" + strings.Repeat("00", 32))
	if code != 1 || out != "" || !strings.Contains(errs, "medguard: upstream: the region's acknowledgement is not signed with the link's key") {
		t.Fatalf("push with a wrong key: exit %d\n%s%s", code, out, errs)
	}
}
