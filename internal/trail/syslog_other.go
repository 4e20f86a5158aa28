//go:build windows || plan9

package trail

import "errors"

func sendSyslog(addr string, line []byte) error {
	return errors.New("trail: sending checkpoints to syslog is not supported on this system")
}
