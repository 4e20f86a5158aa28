package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/decode"
	"github.com/medguard/medguard/internal/events/simulate"
)

// ErrNothingImported is returned by `events import` when no event of the file was
// accepted and some were rejected. It exits 1 (ExitError).
var ErrNothingImported = errors.New("no event was accepted")

// eventDecoder reads the events of an imported file; m is the --mapping file, if any.
type eventDecoder func(data []byte, m events.Mapping) ([]events.Event, error)

// eventDecoders are the formats of `events import --format`: NDJSON of normalized events,
// CSV (renamed by a mapping), FHIR R4 AuditEvent resources or Bundles, DICOM PS3.15 audit
// messages.
var eventDecoders = map[string]eventDecoder{
	"json": func(data []byte, _ events.Mapping) ([]events.Event, error) {
		return events.DecodeJSON(strings.NewReader(string(data)))
	},
	"csv": events.DecodeCSV,
	"fhir": func(data []byte, _ events.Mapping) ([]events.Event, error) {
		return decode.DecodeFHIR(data)
	},
	"dicom": func(data []byte, _ events.Mapping) ([]events.Event, error) {
		return decode.DecodeDICOM(data)
	},
}

// importChunk is how many events one transaction of `events import` stores.
const importChunk = 10_000

func (e *env) eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Audit events of hospital systems (HIS, EMR, PACS …)"}
	var format, mappingFile, orgRef string
	formats := slices.Sorted(func(yield func(string) bool) {
		for k := range eventDecoders {
			if !yield(k) {
				return
			}
		}
	})
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a file of audit events",
		Long: "Import a file of audit events into an organisation. --format json is NDJSON (or a JSON\n" +
			"array) of normalized events; csv has a header row of event field names (UTF-8 or GBK),\n" +
			"or a vendor's names that a --mapping file (YAML or JSON: columns, actions, time_format)\n" +
			"renames; fhir is FHIR R4 AuditEvent resources or a Bundle (JSON or XML, IHE BALP); dicom\n" +
			"is DICOM PS3.15 audit messages (XML). An event already stored (same system, id and time) is counted as a duplicate. Exits 1\n" +
			"when no event was accepted and some were rejected.",
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if _, ok := eventDecoders[format]; !ok {
				return usagef("--format must be one of %s", strings.Join(formats, ", "))
			}
			if mappingFile != "" && format != "csv" {
				return usagef("--mapping applies to --format csv only")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var m events.Mapping
			if mappingFile != "" {
				b, err := os.ReadFile(mappingFile)
				if err != nil {
					return fmt.Errorf("read the mapping file: %w", err)
				}
				if m, err = events.ParseMapping(b); err != nil {
					return err
				}
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read the events file: %w", err)
			}
			evs, err := eventDecoders[format](data, m)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return e.withApp(func(a *app.App) error {
				orgID, err := e.resolveOrg(a, orgRef)
				if err != nil {
					return err
				}
				var total events.Result
				for start := 0; start < len(evs); start += importChunk {
					r, err := a.Events.Append(e.ctx, orgID, evs[start:min(start+importChunk, len(evs))])
					if err != nil {
						return err
					}
					total.Accepted += r.Accepted
					total.Duplicates += r.Duplicates
					for _, rj := range r.Rejected {
						rj.Index += start
						total.Rejected = append(total.Rejected, rj)
					}
				}
				for _, rj := range total.Rejected {
					fmt.Fprintf(e.stdout, "rejected event %d: %s: %s\n", rj.Index, rj.Field, rj.Reason)
				}
				fmt.Fprintf(e.stdout, "accepted %d, duplicates %d, rejected %d\n", total.Accepted, total.Duplicates, len(total.Rejected))
				if total.Accepted == 0 && len(total.Rejected) > 0 {
					return ErrNothingImported
				}
				return nil
			})
		},
	}
	f := imp.Flags()
	f.StringVar(&format, "format", "json", "file format: "+strings.Join(formats, ", "))
	f.StringVar(&mappingFile, "mapping", "", "mapping file (YAML or JSON) of a vendor's CSV columns, actions and time format")
	f.StringVar(&orgRef, "org", "", "organisation id, code or exact name (default: the top organisation)")
	cmd.AddCommand(imp, e.simulateCmd())
	return cmd
}

// simulateCmd is `events simulate`: a synthetic hospital and its events, with injected
// misuse and its ground truth, written as files; it opens no store.
func (e *env) simulateCmd() *cobra.Command {
	var out string
	var cfg simulate.Config
	cmd := &cobra.Command{
		Use:   "simulate --out DIR",
		Short: "Write a simulated hospital and its audit events, with injected misuse and its ground truth",
		Long: "Write a simulated hospital into DIR: staff.csv, patients.csv and encounters.csv (for\n" +
			"medguard reference import), events.ndjson (for medguard events import --format json) and\n" +
			"truth.json, the injected misuse (brute force, batch login, many patients, after hours, new\n" +
			"terminal, dormant account, co-worker, family, neighbour, VIP, self, deceased, outside the\n" +
			"internal network, bastion bypass, bulk export, drug-usage query) with the accounts,\n" +
			"patients, event ids and time range of each. The same flags always write the same bytes.",
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case cfg.Days < 1 || cfg.Days > simulate.MaxDays:
				return usagef("--days must be between 1 and %d", simulate.MaxDays)
			case cfg.Staff < simulate.MinStaff || cfg.Staff > simulate.MaxStaff:
				return usagef("--staff must be between %d and %d", simulate.MinStaff, simulate.MaxStaff)
			case cfg.Patients < simulate.MinPatients || cfg.Patients > simulate.MaxPatients:
				return usagef("--patients must be between %d and %d", simulate.MinPatients, simulate.MaxPatients)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := simulate.GenerateContext(e.ctx, cfg)
			if err != nil {
				return err
			}
			if err := r.WriteDir(out); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s: %d staff, %d patients, %d encounters, %d events, %d injected misuse scenarios\n",
				out, len(r.Staff), len(r.Patients), len(r.Encounters), len(r.Events), len(r.Truth))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write the files into (created if needed)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the random generator")
	f.IntVar(&cfg.Days, "days", 14, "days of events, from Monday 2026-03-02 (Asia/Shanghai)")
	f.IntVar(&cfg.Staff, "staff", 300, "staff members")
	f.IntVar(&cfg.Patients, "patients", 3000, "patients (employees and injected relatives come on top)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
