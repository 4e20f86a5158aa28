//go:build !windows && !plan9

package trail

import (
	"fmt"
	"log/syslog"
)

// sendSyslog sends line to the syslog server at addr (facility auth, severity notice,
// tag medguard-trail).
func sendSyslog(addr string, line []byte) error {
	network, host, err := splitSyslogAddr(addr)
	if err != nil {
		return err
	}
	w, err := syslog.Dial(network, host, syslog.LOG_AUTH|syslog.LOG_NOTICE, "medguard-trail")
	if err != nil {
		return fmt.Errorf("trail: checkpoint syslog: %w", err)
	}
	defer w.Close()
	if err := w.Notice(string(line)); err != nil {
		return fmt.Errorf("trail: checkpoint syslog: %w", err)
	}
	return nil
}
