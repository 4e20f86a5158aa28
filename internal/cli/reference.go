package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/reference"
)

func (e *env) referenceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "reference", Short: "Reference data that explains patient-record accesses: staff, patients, encounters"}
	var kind, orgRef string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import staff, patients or encounters from CSV (UTF-8 or GBK, header row); a re-import replaces by key",
		Long: `Import reference data from a CSV file (UTF-8 or GBK, with a header row):

  --kind staff       staff_id,account,name,department,role,address
  --kind patients    patient_id,name,address,vip,deceased_on,staff_id
  --kind encounters  patient_id,staff_id,department,start,end

Rows are upserted by staff_id, patient_id, or patient_id+staff_id+start. Times are RFC 3339
or YYYY-MM-DD HH:MM:SS (Asia/Shanghai unless a zone is given); an empty end is an open
encounter. Names, addresses and patient identifiers are stored sealed under reference.key
in the data directory. Rejected rows are listed by line and column (never their values);
the good rows are imported, and the command then exits 5.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(reference.Kinds, kind) {
				return usagef("--kind must be one of %s", strings.Join(reference.Kinds, ", "))
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			return e.withApp(func(a *app.App) error {
				orgID, err := e.resolveOrg(a, orgRef)
				if err != nil {
					return err
				}
				rep, err := a.Reference.Import(e.ctx, actor.CLI(), orgID, kind, f)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s: %d rows read, %d imported, %d rejected (%s)\n", rep.Kind, rep.Rows, rep.Imported, rep.ErrorCount, rep.Encoding)
				for _, re := range rep.Errors {
					if re.Column == "" {
						fmt.Fprintf(e.stderr, "line %d: %s\n", re.Line, re.Message)
					} else {
						fmt.Fprintf(e.stderr, "line %d, column %s: %s\n", re.Line, re.Column, re.Message)
					}
				}
				if rep.ErrorCount > len(rep.Errors) {
					fmt.Fprintf(e.stderr, "… and %d more\n", rep.ErrorCount-len(rep.Errors))
				}
				if rep.ErrorCount > 0 {
					return outcomef(ErrRowsRejected, "%d of %d rows rejected; the others were imported", rep.ErrorCount, rep.Rows)
				}
				return nil
			})
		},
	}
	f := imp.Flags()
	f.StringVar(&kind, "kind", "", "what the file holds: "+strings.Join(reference.Kinds, ", "))
	f.StringVar(&orgRef, "org", "", "organisation id, code or exact name (default: the top organisation, created if none exists)")
	_ = imp.MarkFlagRequired("kind")
	cmd.AddCommand(imp)
	return cmd
}
