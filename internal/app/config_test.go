package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
