package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
)

func TestConfigPrecedenceAndValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "medguard.yaml")
	if err := os.WriteFile(file, []byte("addr: 0.0.0.0:9000\ntrail_hash: sm3\ndata: /from/file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "db-url")
	if err := os.WriteFile(secret, []byte("postgres://mg:s3cret@db/mg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MEDGUARD_DATA": "/from/env", "MEDGUARD_DB_FILE": secret}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.TrailHash != "sm3" || c.DataDir != "/from/env" || c.DB != "postgres://mg:s3cret@db/mg" {
		t.Fatalf("config %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "***") {
		t.Errorf("String() does not redact the password: %s", s)
	}
	bad := []func(*Config){
		func(c *Config) { c.TrailHash = "md5" },
		func(c *Config) { c.TLSCert = "cert.pem" },
		func(c *Config) { c.DB = "mysql://x" },
		func(c *Config) { c.LogLevel = "loud" },
		func(c *Config) { c.LogFormat = "xml" },
		func(c *Config) { c.LeaseTTL = 500 * time.Millisecond },
		func(c *Config) { c.DLP.PurgeInterval = time.Second },
	}
	for i, mut := range bad {
		c := Defaults()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("bad config %d accepted: %+v", i, c)
		}
	}
	if err := os.WriteFile(file, []byte("adress: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = Defaults()
	if err := c.LoadFile(file); err == nil {
		t.Error("unknown key in the config file accepted")
	}
}

func TestDLPConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "medguard.yaml")
	if err := os.WriteFile(file, []byte("dlp:\n  scan_roots: [/srv/exports]\n  raw_retention_days: 30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if len(c.DLP.ScanRoots) != 1 || c.DLP.ScanRoots[0] != "/srv/exports" || c.DLP.RawRetentionDays != 30 {
		t.Fatalf("from file: %+v", c.DLP)
	}
	env := map[string]string{"MEDGUARD_DLP_SCAN_ROOTS": "/a" + string(os.PathListSeparator) + "/b"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.DLP.ScanRoots, ",") != "/a,/b" || c.DLP.RawRetentionDays != 30 || c.Validate() != nil {
		t.Fatalf("from env: %+v", c.DLP)
	}
	if err := c.LoadEnv(func(k string) string {
		return map[string]string{"MEDGUARD_DLP_RAW_RETENTION_DAYS": "soon"}[k]
	}); err == nil {
		t.Error("a retention that is not a number was accepted")
	}
	c.DLP.ScanRoots = []string{"relative/dir"}
	if err := c.Validate(); err == nil {
		t.Error("a relative scan root was accepted")
	}
}

func TestTrailCheckpointConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "medguard.yaml")
	if err := os.WriteFile(file, []byte("trail_checkpoint:\n  interval: 15m\n  syslog: udp://127.0.0.1:514\n  webhook: https://anchor.example/hook?token=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if c.TrailCheckpoint.Interval != time.Hour {
		t.Errorf("default interval %v, want 1h", c.TrailCheckpoint.Interval)
	}
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if c.TrailCheckpoint.Interval != 15*time.Minute || c.TrailCheckpoint.Syslog != "udp://127.0.0.1:514" || c.Validate() != nil {
		t.Fatalf("from file: %+v", c.TrailCheckpoint)
	}
	if s := c.String(); strings.Contains(s, "s3cret") {
		t.Errorf("String() prints the webhook's token: %s", s)
	}
	env := map[string]string{"MEDGUARD_TRAIL_CHECKPOINT_INTERVAL": "2h", "MEDGUARD_TRAIL_CHECKPOINT_SYSLOG": "tcp://10.0.0.9:6514"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.TrailCheckpoint.Interval != 2*time.Hour || c.TrailCheckpoint.Syslog != "tcp://10.0.0.9:6514" {
		t.Fatalf("from env: %+v", c.TrailCheckpoint)
	}
	if err := c.LoadEnv(func(k string) string {
		return map[string]string{"MEDGUARD_TRAIL_CHECKPOINT_INTERVAL": "hourly"}[k]
	}); err == nil {
		t.Error("an interval that is not a duration was accepted")
	}
	for i, mut := range []func(*Config){
		func(c *Config) { c.TrailCheckpoint.Interval = time.Second },
		func(c *Config) { c.TrailCheckpoint.Syslog = "127.0.0.1:514" },
		func(c *Config) { c.TrailCheckpoint.Webhook = "ftp://x/y" },
	} {
		c := Defaults()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("bad checkpoint config %d accepted: %+v", i, c.TrailCheckpoint)
		}
	}
}

func TestLeaseAndPurgeConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "medguard.yaml")
	if err := os.WriteFile(file, []byte("lease_ttl: 45s\ndlp:\n  purge_interval: 15m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if c.LeaseTTL != 30*time.Second || c.DLP.PurgeInterval != time.Hour {
		t.Errorf("defaults: lease TTL %v, purge interval %v", c.LeaseTTL, c.DLP.PurgeInterval)
	}
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if c.LeaseTTL != 45*time.Second || c.DLP.PurgeInterval != 15*time.Minute || c.Validate() != nil {
		t.Fatalf("from file: %v %v", c.LeaseTTL, c.DLP.PurgeInterval)
	}
	env := map[string]string{"MEDGUARD_LEASE_TTL": "2s", "MEDGUARD_DLP_PURGE_INTERVAL": "6h"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.LeaseTTL != 2*time.Second || c.DLP.PurgeInterval != 6*time.Hour || c.Validate() != nil {
		t.Fatalf("from env: %v %v", c.LeaseTTL, c.DLP.PurgeInterval)
	}
	if err := c.LoadEnv(func(k string) string { return map[string]string{"MEDGUARD_LEASE_TTL": "soon"}[k] }); err == nil {
		t.Error("a lease TTL that is not a duration was accepted")
	}
}

func TestNotifyConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "medguard.yaml")
	if err := os.WriteFile(file, []byte("notify:\n  base_url: https://mg.hospital.example\n  max_attempts: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if c.baseURL() != "http://127.0.0.1:8080" || c.Notify.MaxAttempts != 0 {
		t.Errorf("defaults: %q %d", c.baseURL(), c.Notify.MaxAttempts)
	}
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if c.baseURL() != "https://mg.hospital.example" || c.Notify.MaxAttempts != 5 || c.Validate() != nil {
		t.Fatalf("from file: %q %d", c.baseURL(), c.Notify.MaxAttempts)
	}
	env := map[string]string{"MEDGUARD_NOTIFY_MAX_ATTEMPTS": "12", "MEDGUARD_NOTIFY_BASE_URL": "https://mg2.example"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.baseURL() != "https://mg2.example" || c.Notify.MaxAttempts != 12 {
		t.Fatalf("from env: %q %d", c.baseURL(), c.Notify.MaxAttempts)
	}
	if err := c.LoadEnv(func(k string) string { return map[string]string{"MEDGUARD_NOTIFY_MAX_ATTEMPTS": "many"}[k] }); err == nil {
		t.Error("max attempts that are not a number were accepted")
	}
	for _, bad := range []Config{{Notify: NotifyConfig{MaxAttempts: 101}}, {Notify: NotifyConfig{BaseURL: "mg.example"}}} {
		c := Defaults()
		c.overlay(bad)
		if c.Validate() == nil {
			t.Errorf("accepted %+v", bad.Notify)
		}
	}
}

func TestMonitorConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "medguard.yaml")
	yml := "monitor:\n  internal_networks: [10.0.0.0/8]\n  jump_hosts: [10.0.0.10]\n  holidays: [2026-10-01]\n  timezone: Asia/Shanghai\n"
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if len(c.Monitor.InternalNetworks) != 1 || c.Monitor.JumpHosts[0] != "10.0.0.10" || c.Monitor.Holidays[0] != "2026-10-01" || c.Validate() != nil {
		t.Fatalf("from file: %+v (%v)", c.Monitor, c.Validate())
	}
	env := map[string]string{"MEDGUARD_MONITOR_JUMP_HOSTS": "10.0.0.10, 10.0.0.11", "MEDGUARD_MONITOR_TIMEZONE": "UTC"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if len(c.Monitor.JumpHosts) != 2 || c.Monitor.JumpHosts[1] != "10.0.0.11" || c.Monitor.Timezone != "UTC" || len(c.Monitor.InternalNetworks) != 1 {
		t.Fatalf("from env: %+v", c.Monitor)
	}
	for _, bad := range []MonitorConfig{{InternalNetworks: []string{"10.0.0.0"}}, {JumpHosts: []string{"jump-1"}},
		{Holidays: []string{"10/01/2026"}}, {Timezone: "Mars/Olympus"}} {
		c := Defaults()
		c.overlay(Config{Monitor: bad})
		if c.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// TestIncidentsConfig: the operator type and regime of the reporting clocks come from the
// file and the environment, are checked, and set the clock of an incident opened without
// its own: a critical-information-infrastructure operator's 较大 incident is due in one
// hour, not four.
func TestIncidentsConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "medguard.yaml")
	if err := os.WriteFile(file, []byte("incidents:\n  operator_type: state_organ\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if err := c.LoadFile(file); err != nil || c.Incidents.OperatorType != "state_organ" || c.Validate() != nil {
		t.Fatalf("from file: %+v %v", c.Incidents, err)
	}
	env := map[string]string{"MEDGUARD_INCIDENTS_OPERATOR_TYPE": "cii", "MEDGUARD_INCIDENTS_REGIME": "cn"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil || c.Incidents.OperatorType != "cii" {
		t.Fatalf("from env: %+v %v", c.Incidents, err)
	}
	for _, bad := range []IncidentsConfig{{OperatorType: "hospital"}, {Regime: "gdpr"}} {
		b := Defaults()
		b.overlay(Config{Incidents: bad})
		if b.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	c.DataDir = t.TempDir()
	ctx := context.Background()
	a, err := Open(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "Hospital"})
	if err != nil {
		t.Fatal(err)
	}
	detected := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	in, err := a.Incidents.Open(ctx, actor.System(), incident.Input{OrgID: h.ID, Level: incident.LevelLarge, DetectedAt: detected,
		Details: incident.Details{Title: "Ransomware", Category: "malware"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.OperatorType != "cii" || in.ReportDue == nil || !in.ReportDue.Equal(detected.Add(time.Hour)) {
		t.Fatalf("incident clock: operator %q, due %v (detected %v)", in.OperatorType, in.ReportDue, detected)
	}
}
