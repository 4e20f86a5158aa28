package app

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/org"
)

// TestSyslogConfig: events.syslog_* are read from the YAML file and MEDGUARD_EVENTS_*
// (the environment winning), and validated: an address without a port, TLS without its
// certificate, and TLS files without the TLS address are refused.
func TestSyslogConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "medguard.yaml")
	if err := os.WriteFile(file, []byte("events:\n  syslog_udp: 0.0.0.0:514\n  syslog_tcp: 0.0.0.0:601\n  syslog_org: H1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MEDGUARD_EVENTS_SYSLOG_TCP": "127.0.0.1:1601", "MEDGUARD_EVENTS_SYSLOG_TLS": ":6514",
		"MEDGUARD_EVENTS_SYSLOG_TLS_CERT": "/etc/c.pem", "MEDGUARD_EVENTS_SYSLOG_TLS_KEY": "/etc/k.pem",
		"MEDGUARD_EVENTS_SYSLOG_TLS_CLIENT_CA": "/etc/ca.pem"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := EventsConfig{SyslogUDP: "0.0.0.0:514", SyslogTCP: "127.0.0.1:1601", SyslogTLS: ":6514", SyslogTLSCert: "/etc/c.pem",
		SyslogTLSKey: "/etc/k.pem", SyslogTLSClientCA: "/etc/ca.pem", SyslogOrg: "H1"}
	if c.Events != want {
		t.Fatalf("events = %+v, want %+v", c.Events, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]EventsConfig{
		"no port":          {SyslogUDP: "0.0.0.0"},
		"TLS without cert": {SyslogTLS: ":6514"},
		"cert without TLS": {SyslogTCP: ":601", SyslogTLSCert: "/c", SyslogTLSKey: "/k"},
	} {
		bad := Defaults()
		bad.Events = e
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestStartServesSyslog: with events.syslog_tcp set, Start (not Open) runs the listener,
// which stores what it receives for events.syslog_org given by code; Close stops it.
func TestStartServesSyslog(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		cfg.Events = EventsConfig{SyslogTCP: "127.0.0.1:0", SyslogOrg: "H2"}
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if a.Syslog != nil {
			t.Fatal("Open started the syslog listener")
		}
		if _, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "one", Code: "H1"}); err != nil {
			t.Fatal(err)
		}
		h2, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "two", Code: "H2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if a.Syslog == nil || a.Syslog.TCPAddr() == nil {
			t.Fatal("Start did not start the syslog listener")
		}
		c, err := net.Dial("tcp", a.Syslog.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(c, `<38>Feb 28 08:15:30 his01 HIS: id=x1 account=u1 action=login`+"\n")
		c.Close()
		var list []events.Stored
		for range 3000 {
			if list, err = a.Events.List(ctx, actor.Actor{Username: "u", Role: "auditor", OrgID: h2.ID, OrgPath: h2.Path}, events.Filter{}); err != nil {
				t.Fatal(err)
			}
			if len(list) > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(list) != 1 || list[0].ID != "x1" || list[0].OrgID != h2.ID {
			t.Fatalf("stored %+v", list)
		}
		addr := a.Syslog.TCPAddr().String()
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Error("the listener still accepts after Close")
		}
	})
}
