// Package app wires medguard together: configuration → store → services → HTTP server.
// It holds no domain logic.
package app

import (
	"errors"
	"fmt"
	"github.com/medguard/medguard/internal/authcode"
	"github.com/medguard/medguard/internal/incident"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/upstream"
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
	// TrailCheckpoint configures the signed checkpoints of the trail `serve` writes out.
	TrailCheckpoint TrailCheckpointConfig `yaml:"trail_checkpoint"`
	// LeaseTTL is the time to live of the leases through which the processes serving
	// one database share background work (MEDGUARD_LEASE_TTL): the work of a process
	// that died is taken over this long after its last heartbeat. Default 30s, at least
	// 1s (0 means the default).
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// Notify configures the delivery of notifications.
	Notify NotifyConfig `yaml:"notify"`
	// Events configures the ingestion of audit events.
	Events EventsConfig `yaml:"events"`
	// Monitor configures the detection rules' view of the hospital network and calendar.
	Monitor MonitorConfig `yaml:"monitor"`
	// Apps configures the registry of internet-hospital apps.
	Apps AppsConfig `yaml:"apps"`
	// Incidents configures the incidents' reporting clocks.
	Incidents IncidentsConfig `yaml:"incidents"`
}

// AppsConfig configures the registry of internet-hospital apps: its authorization codes
// and its evaluation model.
type AppsConfig struct {
	// CodeAlgorithm signs the key generated when the data directory has none:
	// ed25519 (default) or sm2 (MEDGUARD_APPS_CODE_ALGORITHM). The keys live in
	// DATA/authcode; `medguard authcode keygen --out DATA/authcode` adds one, and the
	// newest signs from the next start while the older ones keep verifying.
	CodeAlgorithm string `yaml:"code_algorithm"`
	// CodeValidity is how long an authorization code is valid (MEDGUARD_APPS_CODE_VALIDITY);
	// default 8760h (a year), between 1h and ten years.
	CodeValidity time.Duration `yaml:"code_validity"`
	// ScoreModel is a YAML file with the evaluation model (MEDGUARD_APPS_SCORE_MODEL);
	// empty: the built-in one (`internal/appscore/default.yaml`).
	ScoreModel string `yaml:"score_model"`
	// UpstreamURL is the regional medguard this hospital's medguard reports its apps to
	// (MEDGUARD_APPS_UPSTREAM_URL), e.g. https://region.example; empty reports nothing.
	UpstreamURL string `yaml:"upstream_url"`
	// UpstreamToken and UpstreamKey are the two secrets `medguard upstream link` gave at
	// the region (MEDGUARD_APPS_UPSTREAM_TOKEN, _KEY, or _TOKEN_FILE, _KEY_FILE naming a
	// file that holds them): the token the reports are pushed with, the key the region's
	// acknowledgements are checked with.
	UpstreamToken string `yaml:"upstream_token"`
	UpstreamKey   string `yaml:"upstream_key"`
	// UpstreamInterval is how often `serve` reports even when nothing changed
	// (MEDGUARD_APPS_UPSTREAM_INTERVAL); a change is reported within a minute. Default
	// 15m, at least 1m.
	UpstreamInterval time.Duration `yaml:"upstream_interval"`
}

// IncidentsConfig chooses the reporting clock new incidents run on by default.
type IncidentsConfig struct {
	// OperatorType is the hospital's operator type under 《国家网络安全事件报告管理办法》:
	// cii (critical information infrastructure: 1 hour), state_organ (2 hours) or other
	// (default: 4 hours) (MEDGUARD_INCIDENTS_OPERATOR_TYPE).
	OperatorType string `yaml:"operator_type"`
	// Regime is cn (default) or hipaa (60 days) (MEDGUARD_INCIDENTS_REGIME).
	Regime string `yaml:"regime"`
}

func (c IncidentsConfig) validate() error {
	if c.OperatorType != "" && !slices.Contains([]string{incident.OperatorCII, incident.OperatorState, incident.OperatorOther}, c.OperatorType) {
		return fmt.Errorf("config: incidents.operator_type: %q is not cii, state_organ or other", c.OperatorType)
	}
	if c.Regime != "" && c.Regime != incident.RegimeCN && c.Regime != incident.RegimeHIPAA {
		return fmt.Errorf("config: incidents.regime: %q is not cn or hipaa", c.Regime)
	}
	return nil
}

// UpstreamOn reports whether upward reporting is configured.
func (a AppsConfig) UpstreamOn() bool { return a.UpstreamURL != "" }

func (a AppsConfig) validate() error {
	if a.CodeAlgorithm != "" {
		if _, err := authcode.ParseAlgorithm(a.CodeAlgorithm); err != nil {
			return fmt.Errorf("config: apps.code_algorithm: %q is not ed25519 or sm2", a.CodeAlgorithm)
		}
	}
	if a.CodeValidity != 0 && (a.CodeValidity < time.Hour || a.CodeValidity > 10*365*24*time.Hour) {
		return errors.New("config: apps.code_validity must be between 1h and ten years (87600h)")
	}
	if a.UpstreamInterval != 0 && a.UpstreamInterval < time.Minute {
		return errors.New("config: apps.upstream_interval must be at least 1m")
	}
	if a.UpstreamURL == "" {
		if a.UpstreamToken != "" || a.UpstreamKey != "" {
			return errors.New("config: apps.upstream_token and apps.upstream_key need apps.upstream_url")
		}
		return nil
	}
	if u, err := url.Parse(a.UpstreamURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("config: apps.upstream_url must be an http:// or https:// URL")
	}
	if a.UpstreamToken == "" || a.UpstreamKey == "" {
		return errors.New("config: apps.upstream_url needs apps.upstream_token and apps.upstream_key (from `medguard upstream link` at the region)")
	}
	if _, err := upstream.ParseKey(a.UpstreamKey); err != nil {
		return errors.New("config: apps.upstream_key must be \"mgk_\" followed by 64 hexadecimal digits")
	}
	return nil
}

// MonitorConfig is what the detection rules know of the hospital beyond the events.
type MonitorConfig struct {
	// InternalNetworks are the CIDR blocks of the internal network zone
	// (MEDGUARD_MONITOR_INTERNAL_NETWORKS, comma separated); an access from elsewhere
	// is "outside the internal network". Default the private and loopback blocks.
	InternalNetworks []string `yaml:"internal_networks"`
	// JumpHosts are the addresses of the registered jump hosts (堡垒机)
	// (MEDGUARD_MONITOR_JUMP_HOSTS): an administrative login to a server, database or
	// network device from any other source bypasses them. None: the bastion rules are
	// idle.
	JumpHosts []string `yaml:"jump_hosts"`
	// Holidays are public holidays, YYYY-MM-DD (MEDGUARD_MONITOR_HOLIDAYS), for the
	// calendar rules besides weekends.
	Holidays []string `yaml:"holidays"`
	// Timezone is the hospital's time zone for the time-of-day rules
	// (MEDGUARD_MONITOR_TIMEZONE); default Asia/Shanghai.
	Timezone string `yaml:"timezone"`
}

// list splits a comma-separated variable, dropping empty items.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (m MonitorConfig) validate() error {
	for _, n := range m.InternalNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("config: monitor.internal_networks: %q is not a CIDR block such as 10.0.0.0/8", n)
		}
	}
	for _, h := range m.JumpHosts {
		if _, err := netip.ParseAddr(h); err != nil {
			return fmt.Errorf("config: monitor.jump_hosts: %q is not an IP address", h)
		}
	}
	for _, d := range m.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return fmt.Errorf("config: monitor.holidays: %q is not a date YYYY-MM-DD", d)
		}
	}
	if m.Timezone != "" {
		if _, err := time.LoadLocation(m.Timezone); err != nil {
			return fmt.Errorf("config: monitor.timezone: %q is not a known time zone", m.Timezone)
		}
	}
	return nil
}

// EventsConfig configures the ingestion of audit events. The syslog listener runs in
// `serve` (and `demo`) when at least one of its addresses is set.
type EventsConfig struct {
	// SyslogUDP, SyslogTCP and SyslogTLS are the host:port addresses the syslog listener
	// receives on (MEDGUARD_EVENTS_SYSLOG_UDP, _TCP, _TLS); TCP and TLS take octet
	// counting and newline framing. Empty ones are not served.
	SyslogUDP string `yaml:"syslog_udp"`
	SyslogTCP string `yaml:"syslog_tcp"`
	SyslogTLS string `yaml:"syslog_tls"`
	// SyslogTLSCert and SyslogTLSKey are the PEM certificate and key of the TLS listener
	// (MEDGUARD_EVENTS_SYSLOG_TLS_CERT, _KEY).
	SyslogTLSCert string `yaml:"syslog_tls_cert"`
	SyslogTLSKey  string `yaml:"syslog_tls_key"`
	// SyslogTLSClientCA, when set, is a PEM file of CAs a TLS client's certificate must
	// chain to; clients without one are refused (MEDGUARD_EVENTS_SYSLOG_TLS_CLIENT_CA).
	SyslogTLSClientCA string `yaml:"syslog_tls_client_ca"`
	// SyslogOrg is the organisation (id or code) received events are stored for
	// (MEDGUARD_EVENTS_SYSLOG_ORG); default the first top-level organisation.
	SyslogOrg string `yaml:"syslog_org"`
}

// syslogOn reports whether the syslog listener is configured.
func (e EventsConfig) syslogOn() bool {
	return e.SyslogUDP != "" || e.SyslogTCP != "" || e.SyslogTLS != ""
}

// NotifyConfig configures the notification dispatcher.
type NotifyConfig struct {
	// BaseURL is the platform's address as links in messages name it
	// (MEDGUARD_NOTIFY_BASE_URL), e.g. https://medguard.hospital.example; default the
	// listen address.
	BaseURL string `yaml:"base_url"`
	// MaxAttempts is how many times a message is tried before it goes to dead letters
	// (MEDGUARD_NOTIFY_MAX_ATTEMPTS). Default 8, at most 100 (0 means the default).
	MaxAttempts int `yaml:"max_attempts"`
}

// TrailCheckpointConfig says how often `serve` signs a checkpoint of the trail's head
// and where, besides the checkpoint file in the data directory, it sends it.
type TrailCheckpointConfig struct {
	// Interval between checkpoints (MEDGUARD_TRAIL_CHECKPOINT_INTERVAL,
	// --trail-checkpoint-interval); one is also signed at start. Default 1h, at least 1m.
	Interval time.Duration `yaml:"interval"`
	// Syslog is a syslog server, udp://host:port or tcp://host:port, each checkpoint is
	// also sent to (MEDGUARD_TRAIL_CHECKPOINT_SYSLOG); empty sends none.
	Syslog string `yaml:"syslog"`
	// Webhook is an http(s) URL each checkpoint is POSTed to as JSON
	// (MEDGUARD_TRAIL_CHECKPOINT_WEBHOOK); empty sends none.
	Webhook string `yaml:"webhook"`
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
	// PurgeInterval is how often `serve` drops the raw values past their retention
	// (MEDGUARD_DLP_PURGE_INTERVAL). Default 1h, at least 1m (0 means the default).
	PurgeInterval time.Duration `yaml:"purge_interval"`
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
	return Config{DataDir: "data", Addr: "127.0.0.1:8080", TrailHash: trail.SHA256, LogFormat: "text", LogLevel: "info",
		TrailCheckpoint: TrailCheckpointConfig{Interval: time.Hour}, LeaseTTL: lease.DefaultTTL,
		DLP: DLPConfig{PurgeInterval: time.Hour}}
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
	if f.DLP.PurgeInterval != 0 {
		c.DLP.PurgeInterval = f.DLP.PurgeInterval
	}
	if f.TrailCheckpoint.Interval != 0 {
		c.TrailCheckpoint.Interval = f.TrailCheckpoint.Interval
	}
	if f.LeaseTTL != 0 {
		c.LeaseTTL = f.LeaseTTL
	}
	set(&c.TrailCheckpoint.Syslog, f.TrailCheckpoint.Syslog)
	set(&c.TrailCheckpoint.Webhook, f.TrailCheckpoint.Webhook)
	set(&c.Notify.BaseURL, f.Notify.BaseURL)
	set(&c.Events.SyslogUDP, f.Events.SyslogUDP)
	set(&c.Events.SyslogTCP, f.Events.SyslogTCP)
	set(&c.Events.SyslogTLS, f.Events.SyslogTLS)
	set(&c.Events.SyslogTLSCert, f.Events.SyslogTLSCert)
	set(&c.Events.SyslogTLSKey, f.Events.SyslogTLSKey)
	set(&c.Events.SyslogTLSClientCA, f.Events.SyslogTLSClientCA)
	set(&c.Events.SyslogOrg, f.Events.SyslogOrg)
	set(&c.Monitor.Timezone, f.Monitor.Timezone)
	if f.Monitor.InternalNetworks != nil {
		c.Monitor.InternalNetworks = f.Monitor.InternalNetworks
	}
	if f.Monitor.JumpHosts != nil {
		c.Monitor.JumpHosts = f.Monitor.JumpHosts
	}
	if f.Monitor.Holidays != nil {
		c.Monitor.Holidays = f.Monitor.Holidays
	}
	if f.Notify.MaxAttempts != 0 {
		c.Notify.MaxAttempts = f.Notify.MaxAttempts
	}
	set(&c.Incidents.OperatorType, f.Incidents.OperatorType)
	set(&c.Incidents.Regime, f.Incidents.Regime)
	set(&c.Apps.CodeAlgorithm, f.Apps.CodeAlgorithm)
	set(&c.Apps.ScoreModel, f.Apps.ScoreModel)
	set(&c.Apps.UpstreamURL, f.Apps.UpstreamURL)
	set(&c.Apps.UpstreamToken, f.Apps.UpstreamToken)
	set(&c.Apps.UpstreamKey, f.Apps.UpstreamKey)
	if f.Apps.UpstreamInterval != 0 {
		c.Apps.UpstreamInterval = f.Apps.UpstreamInterval
	}
	if f.Apps.CodeValidity != 0 {
		c.Apps.CodeValidity = f.Apps.CodeValidity
	}
}

// ParseCheckpointInterval reads a checkpoint interval as given in a flag or variable.
func ParseCheckpointInterval(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("config: %s must be a duration such as 1h or 30m", name)
	}
	return d, nil
}

// LoadEnv overlays MEDGUARD_* variables (and MEDGUARD_DB_FILE for the secret URL).
func (c *Config) LoadEnv(getenv func(string) string) error {
	f := Config{
		DataDir: getenv("MEDGUARD_DATA"), DB: getenv("MEDGUARD_DB"), Addr: getenv("MEDGUARD_ADDR"),
		TLSCert: getenv("MEDGUARD_TLS_CERT"), TLSKey: getenv("MEDGUARD_TLS_KEY"),
		TrailHash: getenv("MEDGUARD_TRAIL_HASH"), LogFormat: getenv("MEDGUARD_LOG_FORMAT"), LogLevel: getenv("MEDGUARD_LOG_LEVEL"),
		TrailCheckpoint: TrailCheckpointConfig{Syslog: getenv("MEDGUARD_TRAIL_CHECKPOINT_SYSLOG"),
			Webhook: getenv("MEDGUARD_TRAIL_CHECKPOINT_WEBHOOK")},
		Notify: NotifyConfig{BaseURL: getenv("MEDGUARD_NOTIFY_BASE_URL")},
		Events: EventsConfig{SyslogUDP: getenv("MEDGUARD_EVENTS_SYSLOG_UDP"), SyslogTCP: getenv("MEDGUARD_EVENTS_SYSLOG_TCP"),
			SyslogTLS: getenv("MEDGUARD_EVENTS_SYSLOG_TLS"), SyslogTLSCert: getenv("MEDGUARD_EVENTS_SYSLOG_TLS_CERT"),
			SyslogTLSKey: getenv("MEDGUARD_EVENTS_SYSLOG_TLS_KEY"), SyslogTLSClientCA: getenv("MEDGUARD_EVENTS_SYSLOG_TLS_CLIENT_CA"),
			SyslogOrg: getenv("MEDGUARD_EVENTS_SYSLOG_ORG")},
		Monitor: MonitorConfig{InternalNetworks: list(getenv("MEDGUARD_MONITOR_INTERNAL_NETWORKS")),
			JumpHosts: list(getenv("MEDGUARD_MONITOR_JUMP_HOSTS")), Holidays: list(getenv("MEDGUARD_MONITOR_HOLIDAYS")),
			Timezone: getenv("MEDGUARD_MONITOR_TIMEZONE")},
		Apps: AppsConfig{CodeAlgorithm: getenv("MEDGUARD_APPS_CODE_ALGORITHM"), ScoreModel: getenv("MEDGUARD_APPS_SCORE_MODEL"),
			UpstreamURL: getenv("MEDGUARD_APPS_UPSTREAM_URL"), UpstreamToken: getenv("MEDGUARD_APPS_UPSTREAM_TOKEN"),
			UpstreamKey: getenv("MEDGUARD_APPS_UPSTREAM_KEY")},
		Incidents: IncidentsConfig{OperatorType: getenv("MEDGUARD_INCIDENTS_OPERATOR_TYPE"), Regime: getenv("MEDGUARD_INCIDENTS_REGIME")},
	}
	if v := getenv("MEDGUARD_NOTIFY_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("config: MEDGUARD_NOTIFY_MAX_ATTEMPTS must be a positive number")
		}
		f.Notify.MaxAttempts = n
	}
	if v := getenv("MEDGUARD_TRAIL_CHECKPOINT_INTERVAL"); v != "" {
		d, err := ParseCheckpointInterval("MEDGUARD_TRAIL_CHECKPOINT_INTERVAL", v)
		if err != nil {
			return err
		}
		f.TrailCheckpoint.Interval = d
	}
	for name, dst := range map[string]*time.Duration{"MEDGUARD_LEASE_TTL": &f.LeaseTTL,
		"MEDGUARD_DLP_PURGE_INTERVAL": &f.DLP.PurgeInterval, "MEDGUARD_APPS_CODE_VALIDITY": &f.Apps.CodeValidity,
		"MEDGUARD_APPS_UPSTREAM_INTERVAL": &f.Apps.UpstreamInterval} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("config: %s must be a duration such as 30s or 1h", name)
			}
			*dst = d
		}
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
	for name, dst := range map[string]*string{"MEDGUARD_APPS_UPSTREAM_TOKEN_FILE": &f.Apps.UpstreamToken,
		"MEDGUARD_APPS_UPSTREAM_KEY_FILE": &f.Apps.UpstreamKey} {
		if p := getenv(name); p != "" && *dst == "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("config: %s: %w", name, err)
			}
			*dst = strings.TrimSpace(string(b))
		}
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
	if c.LeaseTTL < 0 || (c.LeaseTTL > 0 && c.LeaseTTL < time.Second) {
		return errors.New("config: lease_ttl must be at least 1s")
	}
	if c.DLP.PurgeInterval < 0 || (c.DLP.PurgeInterval > 0 && c.DLP.PurgeInterval < time.Minute) {
		return errors.New("config: dlp.purge_interval must be at least 1m")
	}
	if c.TrailCheckpoint.Interval < time.Minute {
		return errors.New("config: trail_checkpoint.interval must be at least 1m")
	}
	if s := c.TrailCheckpoint.Syslog; s != "" {
		if err := trail.ValidateSyslogAddr(s); err != nil {
			return errors.New("config: trail_checkpoint.syslog must be udp://host:port or tcp://host:port")
		}
	}
	if s := c.TrailCheckpoint.Webhook; s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("config: trail_checkpoint.webhook must be an http:// or https:// URL")
		}
	}
	if c.Notify.MaxAttempts < 0 || c.Notify.MaxAttempts > 100 {
		return errors.New("config: notify.max_attempts must be between 1 and 100")
	}
	if s := c.Notify.BaseURL; s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("config: notify.base_url must be an http:// or https:// URL")
		}
	}
	if err := c.Monitor.validate(); err != nil {
		return err
	}
	if err := c.Incidents.validate(); err != nil {
		return err
	}
	if err := c.Apps.validate(); err != nil {
		return err
	}
	if err := c.Events.validate(); err != nil {
		return err
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
	hook := ""
	if u, err := url.Parse(c.TrailCheckpoint.Webhook); err == nil && u.Host != "" {
		hook = u.Scheme + "://" + u.Host + "/***" // the path and query may hold a token
	}
	return fmt.Sprintf("data=%s db=%s addr=%s tls=%v trail_hash=%s trail_checkpoint=%s/%s/%s log=%s/%s dlp_scan_roots=%v", c.DataDir, db, c.Addr, c.TLSCert != "",
		c.TrailHash, c.TrailCheckpoint.Interval, c.TrailCheckpoint.Syslog, hook, c.LogFormat, c.LogLevel, c.DLP.ScanRoots)
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

func (e EventsConfig) validate() error {
	for name, a := range map[string]string{"syslog_udp": e.SyslogUDP, "syslog_tcp": e.SyslogTCP, "syslog_tls": e.SyslogTLS} {
		if a == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return fmt.Errorf("config: events.%s must be host:port", name)
		}
	}
	if e.SyslogTLS != "" && (e.SyslogTLSCert == "" || e.SyslogTLSKey == "") {
		return errors.New("config: events.syslog_tls needs events.syslog_tls_cert and events.syslog_tls_key")
	}
	if e.SyslogTLS == "" && (e.SyslogTLSCert != "" || e.SyslogTLSKey != "" || e.SyslogTLSClientCA != "") {
		return errors.New("config: events.syslog_tls_cert, _key and _client_ca need events.syslog_tls")
	}
	return nil
}
