package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/apk"
)

// appCmd is `medguard app`: the risk control of internet-hospital mobile apps.
func (e *env) appCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "app", Short: "Internet-hospital mobile apps: inspect an APK's signatures, manifest and risks"}
	var format string
	inspect := &cobra.Command{
		Use:   "inspect FILE.apk",
		Short: "Verify an APK's signatures (v3.1, v3, v2, v1) as Android does, read its manifest and list its risks; exit 4 when the signature does not verify",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !oneOf(format, apk.Formats) {
				return usagef("--format must be %s", strings.Join(apk.Formats, " or "))
			}
			rep, err := apk.InspectFile(args[0])
			if err != nil {
				if errors.Is(err, apk.ErrNotAPK) || errors.Is(err, apk.ErrMalformed) {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				return err
			}
			if err := apk.WriteReport(e.stdout, rep, format); err != nil {
				return err
			}
			if !rep.Signature.Verified {
				if len(rep.Signature.Present) == 0 {
					return outcomef(ErrCheckFailed, "%s is not signed", args[0])
				}
				return outcomef(ErrCheckFailed, "the signature of %s does not verify", args[0])
			}
			return nil
		},
	}
	inspect.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.AddCommand(inspect)
	return cmd
}
