// Package app wires medguard together: configuration → store → services → HTTP server.
// It holds no domain logic.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/trail"
)

// Config is the typed configuration. Precedence: flags > MEDGUARD_* environment >
// config file (YAML) > defaults.
type Config struct {
	DataDir   string    `yaml:"data"`       // SQLite directory (default ./data)
	DB        string    `yaml:"db"`         // postgres:// URL; empty = SQLite
	Addr      string    `yaml:"addr"`       // listen address (default 127.0.0.1:8080)
	TLSCert   string    `yaml:"tls_cert"`   // PEM certificate file
	TLSKey    string    `yaml:"tls_key"`    // PEM key file
	TrailHash string    `yaml:"trail_hash"` // sha256 (default) or sm3
	LogFormat string    `yaml:"log_format"` // text (default) or json
	LogLevel  string    `yaml:"log_level"`  // debug, info (default), warn, error
	DLP       DLPConfig `yaml:"dlp"`
}

// DLPConfig configures patient-data detection.
type DLPConfig struct {
	// ScanRoots are the server directories under which path jobs may scan
	// (MEDGUARD_DLP_SCAN_ROOTS, separated by the OS list separator); none disables
	// path jobs.
	ScanRoots []string `yaml:"scan_roots"`
	// RawRetentionDays is how long raw values of findings stay revealable
	// (MEDGUARD_DLP_RAW_RETENTION_DAYS); 0 keeps them.
	RawRetentionDays int `yaml:"raw_retention_days"`
}

// dataDir returns the data directory, ./data when none is set.
func (c Config) dataDir() string {
	if c.DataDir == "" {
		return "data"
	}
	return c.DataDir
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{DataDir: "data", Addr: "127.0.0.1:8080", TrailHash: trail.SHA256, LogFormat: "text", LogLevel: "info"}
}

// LoadFile overlays the YAML file at path onto c.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var f Config
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	c.overlay(f)
	return nil
}

func (c *Config) overlay(f Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.DataDir, f.DataDir)
	set(&c.DB, f.DB)
	set(&c.Addr, f.Addr)
	set(&c.TLSCert, f.TLSCert)
	set(&c.TLSKey, f.TLSKey)
	set(&c.TrailHash, f.TrailHash)
	set(&c.LogFormat, f.LogFormat)
	set(&c.LogLevel, f.LogLevel)
	if len(f.DLP.ScanRoots) > 0 {
		c.DLP.ScanRoots = f.DLP.ScanRoots
	}
	if f.DLP.RawRetentionDays != 0 {
		c.DLP.RawRetentionDays = f.DLP.RawRetentionDays
	}
}

// LoadEnv overlays MEDGUARD_* variables (and MEDGUARD_DB_FILE for the secret URL).
func (c *Config) LoadEnv(getenv func(string) string) error {
	f := Config{
		DataDir: getenv("MEDGUARD_DATA"), DB: getenv("MEDGUARD_DB"), Addr: getenv("MEDGUARD_ADDR"),
		TLSCert: getenv("MEDGUARD_TLS_CERT"), TLSKey: getenv("MEDGUARD_TLS_KEY"),
		TrailHash: getenv("MEDGUARD_TRAIL_HASH"), LogFormat: getenv("MEDGUARD_LOG_FORMAT"), LogLevel: getenv("MEDGUARD_LOG_LEVEL"),
	}
	if v := getenv("MEDGUARD_DLP_SCAN_ROOTS"); v != "" {
		f.DLP.ScanRoots = filepath.SplitList(v)
	}
	if v := getenv("MEDGUARD_DLP_RAW_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("config: MEDGUARD_DLP_RAW_RETENTION_DAYS must be a number of days, not %q", v)
		}
		f.DLP.RawRetentionDays = n
	}
	if p := getenv("MEDGUARD_DB_FILE"); p != "" && f.DB == "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("config: MEDGUARD_DB_FILE: %w", err)
		}
		f.DB = strings.TrimSpace(string(b))
	}
	c.overlay(f)
	return nil
}

// Validate checks the configuration as a whole.
func (c Config) Validate() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: --tls-cert and --tls-key go together")
	}
	if c.TrailHash != trail.SHA256 && c.TrailHash != trail.SM3 {
		return fmt.Errorf("config: trail hash must be sha256 or sm3, not %q", c.TrailHash)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: log format must be text or json, not %q", c.LogFormat)
	}
	if c.DLP.RawRetentionDays < 0 {
		return errors.New("config: dlp.raw_retention_days must not be negative")
	}
	for _, r := range c.DLP.ScanRoots {
		if !filepath.IsAbs(r) {
			return fmt.Errorf("config: dlp.scan_roots: %q is not an absolute path", r)
		}
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return errors.New("config: --db must be a postgres:// URL")
	}
	return nil
}

// String prints the configuration with the database password redacted.
func (c Config) String() string {
	db := c.DB
	if i := strings.Index(db, "://"); i >= 0 {
		if at := strings.LastIndex(db, "@"); at > i {
			if colon := strings.Index(db[i+3:at], ":"); colon >= 0 {
				db = db[:i+3+colon+1] + "***" + db[at:]
			}
		}
	}
	return fmt.Sprintf("data=%s db=%s addr=%s tls=%v trail_hash=%s log=%s/%s dlp_scan_roots=%v", c.DataDir, db, c.Addr, c.TLSCert != "",
		c.TrailHash, c.LogFormat, c.LogLevel, c.DLP.ScanRoots)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("config: log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// Logger builds the slog logger the configuration asks for, writing to w.
func (c Config) Logger(w *os.File) *slog.Logger {
	lvl, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
