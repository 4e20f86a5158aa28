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
			"is DICOM PS3.15 audit messages (XML). An event already stored (same system and id) is counted as a duplicate. Exits 1\n" +
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
	cmd.AddCommand(imp)
	return cmd
}
