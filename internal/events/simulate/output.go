package simulate

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/reference"
)

// The files WriteDir writes.
const (
	FileStaff      = "staff.csv"
	FilePatients   = "patients.csv"
	FileEncounters = "encounters.csv"
	FileEvents     = "events.ndjson"
	FileTruth      = "truth.json"
)

// Truth is the content of truth.json: the injected scenarios and what a detection needs
// to know of the simulated network.
type Truth struct {
	Seed            uint64     `json:"seed"`
	Start           time.Time  `json:"start"`
	Days            int        `json:"days"`
	InternalNetwork string     `json:"internal_network"`
	JumpHosts       []string   `json:"jump_hosts"`
	Scenarios       []Scenario `json:"scenarios"`
}

// WriteDir writes the hospital and its events into dir (created if needed): staff.csv,
// patients.csv and encounters.csv for `medguard reference import`, events.ndjson for
// `medguard events import --format json`, and truth.json.
func (r *Result) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	files := []struct {
		name  string
		write func(w io.Writer) error
	}{
		{FileStaff, r.writeStaff}, {FilePatients, r.writePatients}, {FileEncounters, r.writeEncounters},
		{FileEvents, r.WriteEvents}, {FileTruth, r.writeTruth},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return fmt.Errorf("simulate: %s: %w", f.name, err)
		}
	}
	return nil
}

func writeFile(path string, write func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeCSV(w io.Writer, kind string, rows func(add func(...string))) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reference.Columns[kind]); err != nil {
		return err
	}
	var err error
	rows(func(v ...string) {
		if err == nil {
			err = cw.Write(v)
		}
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeStaff(w io.Writer) error {
	return writeCSV(w, reference.KindStaff, func(add func(...string)) {
		for _, s := range r.Staff {
			add(s.StaffID, s.Account, s.Name, s.Department, s.Role, s.Address)
		}
	})
}

func (r *Result) writePatients(w io.Writer) error {
	return writeCSV(w, reference.KindPatients, func(add func(...string)) {
		for _, p := range r.Patients {
			add(p.PatientID, p.Name, p.Address, strconv.FormatBool(p.VIP), p.DeceasedOn, p.StaffID)
		}
	})
}

// encounterTime is the layout of encounter times: "YYYY-MM-DD HH:MM:SS", Asia/Shanghai.
const encounterTime = "2006-01-02 15:04:05"

func (r *Result) writeEncounters(w io.Writer) error {
	return writeCSV(w, reference.KindEncounters, func(add func(...string)) {
		for _, e := range r.Encounters {
			end := ""
			if e.End != nil {
				end = e.End.In(Shanghai).Format(encounterTime)
			}
			add(e.PatientID, e.StaffID, e.Department, e.Start.In(Shanghai).Format(encounterTime), end)
		}
	})
}

// WriteEvents writes the events as NDJSON, one normalized event a line.
func (r *Result) WriteEvents(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range r.Events {
		if err := enc.Encode(&r.Events[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Result) writeTruth(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(Truth{Seed: r.Config.Seed, Start: r.Config.Start, Days: r.Config.Days,
		InternalNetwork: InternalNetwork, JumpHosts: JumpHosts, Scenarios: r.Truth})
}
