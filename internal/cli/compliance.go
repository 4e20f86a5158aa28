package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/control"
	"github.com/medguard/medguard/internal/i18n"
)

func (e *env) complianceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compliance", Short: "Compliance (合规): the control catalogues of MLPS level 3, GB/T 39725 and HIPAA"}
	cat := &cobra.Command{Use: "catalogue", Short: "The embedded control catalogues"}
	cmd.AddCommand(cat)

	var format, lang string
	checkFlags := func(formats ...string) error {
		if !slices.Contains(formats, format) {
			return usagef("--format must be %s", strings.Join(formats, " or "))
		}
		if !slices.Contains(i18n.Languages, lang) {
			return usagef("--lang must be one of %s", strings.Join(i18n.Languages, ", "))
		}
		return nil
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the catalogues with the number of nodes at each level",
		Args:  cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return checkFlags("table", "json")
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			views := []control.CatalogueView{}
			for _, c := range control.All() {
				views = append(views, c.Summary(lang))
			}
			if format == "json" {
				return e.writeCatalogueJSON(views)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSOURCE\tCOUNTS\tTITLE")
			for _, v := range views {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, v.Source, countsLine(v), v.Title)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&format, "format", "table", "output format: table or json")
	list.Flags().StringVar(&lang, "lang", i18n.ZhCN, "language of the titles: zh-CN or en")

	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a catalogue's tree of categories, controls and items",
		Long: "Print a catalogue as a tree. The JSON holds the header and the nodes, each with id,\n" +
			"level, title and children, and text, required (HIPAA: false when addressable),\n" +
			"checks (automatic evidence) and mapped (the same control in other catalogues) when set.",
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return checkFlags("table", "json")
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ok := control.Get(args[0])
			if !ok {
				var names []string
				for _, c := range control.All() {
					names = append(names, c.Name)
				}
				return usagef("no catalogue %q: the catalogues are %s", args[0], strings.Join(names, ", "))
			}
			v := c.View(lang, control.Builtin())
			if format == "json" {
				return e.writeCatalogueJSON(v)
			}
			fmt.Fprintf(e.stdout, "%s — %s (%s)\n%s\n\n", v.Name, v.Title, v.Source, v.Counted)
			var walk func(ns []control.NodeView, depth int)
			walk = func(ns []control.NodeView, depth int) {
				for _, n := range ns {
					line := strings.Repeat("  ", depth) + n.ID + "  " + n.Title
					if n.Required != nil {
						line += map[bool]string{true: " [required]", false: " [addressable]"}[*n.Required]
					}
					if len(n.Checks) > 0 {
						line += " {" + strings.Join(n.Checks, ", ") + "}"
					}
					fmt.Fprintln(e.stdout, line)
					walk(n.Children, depth+1)
				}
			}
			walk(v.Nodes, 0)
			return nil
		},
	}
	show.Flags().StringVar(&format, "format", "table", "output format: table or json")
	show.Flags().StringVar(&lang, "lang", i18n.ZhCN, "language of the titles and texts: zh-CN or en")
	cat.AddCommand(list, show)
	return cmd
}

// countsLine is "5 section, 22 standard, 43 specification", levels in their order.
func countsLine(v control.CatalogueView) string {
	var parts []string
	for _, l := range v.Levels {
		parts = append(parts, fmt.Sprintf("%d %s", v.Counts[l], l))
	}
	return strings.Join(parts, ", ")
}

func (e *env) writeCatalogueJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
