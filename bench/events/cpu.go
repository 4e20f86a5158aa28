package main

import (
	"flag"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuMeter charges the CPU time of the processes that do the storing: the server (or
// peer) process and, with a PostgreSQL postmaster, the postmaster, its live backends and
// the backends it reaped. Measured from /proc, so the figure holds on a shared machine
// where wall time depends on the neighbours.
type cpuMeter struct{ pid, dbPID int }

func (m *cpuMeter) flags(fs *flag.FlagSet) {
	fs.IntVar(&m.pid, "pid", 0, "charge this process's CPU time (the server or the peer)")
	fs.IntVar(&m.dbPID, "db-pid", 0, "also charge this PostgreSQL postmaster and its backends")
}

// now returns the CPU time used so far; 0 when nothing is measured.
func (m *cpuMeter) now() time.Duration {
	var ticks int64
	if m.pid != 0 {
		ticks += procTicks(m.pid, false)
	}
	if m.dbPID != 0 {
		ticks += procTicks(m.dbPID, true)
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == m.dbPID {
				continue
			}
			if f := procStat(pid); len(f) > 2 && f[1] == strconv.Itoa(m.dbPID) {
				ticks += procTicks(pid, false)
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

func (m *cpuMeter) on() bool { return m.pid != 0 || m.dbPID != 0 }

// procStat returns the fields of /proc/PID/stat after the command name.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

// procTicks is utime+stime of pid (and cutime+cstime with children) in clock ticks.
func procTicks(pid int, children bool) int64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	idx := []int{11, 12}
	if children {
		idx = append(idx, 13, 14)
	}
	var n int64
	for _, i := range idx {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		n += v
	}
	return n
}
