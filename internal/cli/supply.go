package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/supply"
)

var errNoGate = errors.New("no such gate")

func (e *env) vulndbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "vulndb", Short: "Manage the OSV vulnerability database"}
	imp := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import OSV records from files, directories or zip archives (.json, .yaml, .zip), incrementally, and re-match stored SBOMs",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				imps, rep, err := a.Supply.ImportAdvisories(e.ctx, actor.CLI(), args...)
				for _, imp := range imps {
					res := imp.Result
					fmt.Fprintf(e.stdout, "%s: %d files, %d records: %d added, %d updated, %d unchanged, %d withdrawn, %d skipped (%s)\n",
						imp.Path, res.Files, res.Records, res.Added, res.Updated, res.Unchanged, res.Withdrawn, len(res.Skipped),
						imp.Elapsed.Round(time.Millisecond))
					if res.GitRangesIgnored > 0 {
						fmt.Fprintf(e.stdout, "  note: %d GIT ranges: only the commits they name are matched, exactly (commit spans need the repository's history)\n", res.GitRangesIgnored)
					}
					for i, n := range res.Skipped {
						if i == 20 {
							fmt.Fprintf(e.stdout, "  … and %d more skipped\n", len(res.Skipped)-20)
							break
						}
						fmt.Fprintf(e.stdout, "  skipped %s: %s\n", n.Place, n.Reason)
					}
				}
				if err != nil {
					return err
				}
				// Say what the database can check now: components of other ecosystems are
				// reported as not covered, never as clean.
				st, err := a.Vulns.Status(e.ctx)
				if err != nil {
					return err
				}
				var held []string
				for _, s := range st.Ecosystems {
					if s.Records > s.Withdrawn {
						held = append(held, fmt.Sprintf("%s (%d)", s.Ecosystem, s.Records-s.Withdrawn))
					}
				}
				if len(held) == 0 {
					held = []string{"none"}
				}
				fmt.Fprintf(e.stdout, "advisory data held for: %s; SBOM components of other ecosystems are reported as not covered\n",
					strings.Join(held, ", "))
				fmt.Fprintf(e.stdout, "re-matched stored SBOMs against %d changed advisories: %d findings added, %d removed, %d alerts (%s)\n",
					rep.Advisories, rep.Added, rep.Removed, rep.Alerts, rep.Elapsed.Round(time.Millisecond))
				return nil
			})
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the number of advisories per ecosystem and the last update",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				st, err := a.Vulns.Status(e.ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ECOSYSTEM\tADVISORIES\tLAST MODIFIED")
				for _, s := range st.Ecosystems {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Ecosystem, s.Records, s.LastModified.UTC().Format(time.RFC3339))
				}
				tw.Flush()
				fmt.Fprintf(e.stdout, "total %d advisories (%d withdrawn)\n", st.Total, st.Withdrawn)
				if st.LastImport != nil {
					li := st.LastImport
					fmt.Fprintf(e.stdout, "last import %s from %s: %d added, %d updated, %d unchanged\n",
						li.FinishedAt.UTC().Format(time.RFC3339), li.Source, li.Added, li.Updated, li.Unchanged)
				} else {
					fmt.Fprintln(e.stdout, "no import yet: run `medguard vulndb import PATH`")
				}
				return nil
			})
		},
	}
	cmd.AddCommand(imp, status)
	return cmd
}

func (e *env) sbomCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sbom", Short: "Check and import SBOMs (CycloneDX 1.2–1.6 JSON/XML, SPDX 2.2/2.3 JSON/tag-value)"}
	var gate, format, orgRef, policyFile string
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Match an SBOM against the vulnerability database and licence policy without storing it; exit 4 when the gate fails (also when components could not be checked and the gate does not allow_uncovered)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !oneOf(format, supply.CheckFormats) {
				return usagef("--format must be table, json or sarif")
			}
			data, err := readLimited(args[0], supply.MaxSBOMSize)
			if err != nil {
				return err
			}
			return e.withApp(func(a *app.App) error {
				var policy licence.Policy
				var g *supply.Gate
				// A check stores nothing: on an empty store the default licence policy and the
				// built-in gates apply.
				policy = licence.DefaultPolicy()
				var orgID int64
				nodes, err := a.Orgs.List(e.ctx, actor.CLI())
				if err != nil {
					return err
				}
				if orgRef != "" || len(nodes) > 0 {
					if orgID, err = e.resolveOrg(a, orgRef); err != nil {
						return err
					}
					if policy, err = a.Supply.LicencePolicy(e.ctx, actor.CLI(), orgID); err != nil {
						return err
					}
				}
				if gate != "" {
					var gg supply.Gate
					var err error = errNoGate
					if orgID != 0 {
						gg, err = a.Supply.GateNamed(e.ctx, actor.CLI(), orgID, gate)
					} else {
						for _, b := range supply.BuiltinGates() {
							if b.Name == gate {
								gg, err = b, nil
							}
						}
					}
					if err != nil {
						return fmt.Errorf("no gate named %q (built-in: procurement, go-live, update)", gate)
					}
					g = &gg
				}
				if policyFile != "" {
					doc, err := readLimited(policyFile, 1<<20)
					if err != nil {
						return err
					}
					if policy, err = licence.ParsePolicy(doc); err != nil {
						return err
					}
				}
				res, err := a.Supply.Check(e.ctx, data, policy, g)
				if err != nil {
					return err
				}
				if err := supply.WriteCheck(e.stdout, res, format, filepath.Base(args[0])); err != nil {
					return err
				}
				if res.Verdict != nil && !res.Verdict.Passed {
					return outcomef(ErrCheckFailed, "gate %s failed", res.Verdict.Gate)
				}
				return nil
			})
		},
	}
	check.Flags().StringVar(&gate, "gate", "", "gate policy to evaluate (procurement, go-live, update or one defined in the platform)")
	check.Flags().StringVar(&format, "format", "table", "output format: table, json or sarif")
	check.Flags().StringVar(&orgRef, "org", "", "organisation (id, code or name) whose gates and licence policy apply")
	check.Flags().StringVar(&policyFile, "licence-policy", "", "licence policy file (YAML or JSON: allow, review, deny, unlisted)")

	var product, version, vendor, source string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Store an SBOM as a product version's SBOM (creating the product and version if needed) and match it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readLimited(args[0], supply.MaxSBOMSize)
			if err != nil {
				return err
			}
			return e.withApp(func(a *app.App) error {
				orgID, err := e.resolveOrg(a, orgRef)
				if err != nil {
					return err
				}
				v, err := ensureVersion(e, a, orgID, vendor, product, source, version)
				if err != nil {
					return err
				}
				rep, err := a.Supply.ImportSBOM(e.ctx, actor.CLI(), v.ID, filepath.Base(args[0]), data)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s %s: %s %s, %d components (%d matchable), %d dependencies, %d findings, %d warnings (%s)\n",
					product, version, rep.Format, rep.SpecVersion, rep.Components, rep.Matchable, rep.Dependencies, rep.Findings,
					len(rep.Warnings), rep.Elapsed.Round(time.Millisecond))
				if c := rep.Coverage; c.Complete() {
					fmt.Fprintf(e.stdout, "coverage: all %d components checked against advisory data\n", c.Components)
				} else {
					fmt.Fprintf(e.stdout, "coverage: %d of %d components NOT checked against advisory data: %s\n",
						c.NotCovered, c.Components, c.Summary())
				}
				return nil
			})
		},
	}
	imp.Flags().StringVar(&product, "product", "", "product name")
	imp.Flags().StringVar(&version, "version", "", "product version")
	imp.Flags().StringVar(&vendor, "vendor", "", "vendor name (created if missing)")
	imp.Flags().StringVar(&source, "source", "purchased", "how the product came: self_built, outsourced, purchased, co_developed")
	imp.Flags().StringVar(&orgRef, "org", "", "organisation (id, code or name)")
	_ = imp.MarkFlagRequired("product")
	_ = imp.MarkFlagRequired("version")
	cmd.AddCommand(check, imp)
	return cmd
}

// ensureVersion finds or creates vendor, product and version in organisation orgID.
func ensureVersion(e *env, a *app.App, orgID int64, vendorName, productName, source, version string) (supply.Version, error) {
	cli := actor.CLI()
	var vendorID int64
	if vendorName != "" {
		vs, err := a.Supply.Vendors(e.ctx, cli)
		if err != nil {
			return supply.Version{}, err
		}
		for _, v := range vs {
			if v.Name == vendorName && v.OrgID == orgID {
				vendorID = v.ID
			}
		}
		if vendorID == 0 {
			v, err := a.Supply.CreateVendor(e.ctx, cli, supply.VendorInput{OrgID: orgID, Name: vendorName})
			if err != nil {
				return supply.Version{}, err
			}
			vendorID = v.ID
		}
	} else if source != "self_built" {
		source = "self_built"
	}
	productID, v, err := lookupVersion(e, a, orgID, productName, version)
	if err != nil || v.ID != 0 {
		return v, err
	}
	if productID == 0 {
		p, err := a.Supply.CreateProduct(e.ctx, cli, supply.ProductInput{OrgID: orgID, VendorID: vendorID, Name: productName, Source: source})
		if err != nil {
			return supply.Version{}, err
		}
		productID = p.ID
	}
	return a.Supply.CreateVersion(e.ctx, cli, productID, supply.VersionInput{Version: version})
}

func (e *env) deliveryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "delivery", Short: "Delivery integrity: check delivered files against the vendor's manifest (SHA-256, SM3, signature)"}
	var manifest, product, version, orgRef, format string
	var trust []string
	var requireSig bool
	verify := &cobra.Command{
		Use:   "verify --manifest M FILE...",
		Short: "Verify received files against a delivery manifest; with --product/--version the result is recorded; exit 4 on any mismatch",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format must be table or json")
			}
			mdata, err := readLimited(manifest, delivery.MaxManifestSize)
			if err != nil {
				return err
			}
			files, err := delivery.FilesFromPaths(commonBase(args), args)
			if err != nil {
				return err
			}
			var ok bool
			var out any
			var problems []string
			if product != "" || version != "" {
				err = e.withApp(func(a *app.App) error {
					orgID, err := e.resolveOrg(a, orgRef)
					if err != nil {
						return err
					}
					v, err := findVersion(e, a, orgID, product, version)
					if err != nil {
						return err
					}
					d, err := a.Supply.VerifyDelivery(e.ctx, actor.CLI(), supply.DeliveryInput{VersionID: v.ID, Manifest: mdata,
						Files: files, RequireSignature: requireSig})
					if err != nil {
						return err
					}
					ok, out, problems = d.OK, d, d.Problems
					return nil
				})
				if err != nil {
					return err
				}
			} else {
				m, err := delivery.ParseManifest(mdata)
				if err != nil {
					return err
				}
				rep, err := delivery.Verify(e.ctx, m, files, delivery.Trust{Fingerprints: trust},
					delivery.VerifyOptions{RequireSignature: requireSig, Now: time.Now()})
				if err != nil {
					return err
				}
				ok, out, problems = rep.OK, rep, rep.Problems()
			}
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else if ok {
				fmt.Fprintf(e.stdout, "OK: %d files match the manifest\n", len(files))
			} else {
				fmt.Fprintln(e.stdout, "FAILED:")
				for _, p := range problems {
					fmt.Fprintln(e.stdout, "  -", p)
				}
			}
			if !ok {
				return outcomef(ErrCheckFailed, "the delivery does not match its manifest")
			}
			return nil
		},
	}
	verify.Flags().StringVar(&manifest, "manifest", "", "the vendor's delivery manifest (JSON)")
	verify.Flags().StringVar(&product, "product", "", "record the check against this product…")
	verify.Flags().StringVar(&version, "version", "", "…and version (their vendor's registered keys are trusted)")
	verify.Flags().StringVar(&orgRef, "org", "", "organisation (id, code or name)")
	verify.Flags().StringSliceVar(&trust, "trust", nil, "trusted signer fingerprint (SHA-256 hex) when not recording")
	verify.Flags().BoolVar(&requireSig, "require-signature", false, "fail when the manifest is not signed by a trusted key")
	verify.Flags().StringVar(&format, "format", "table", "output format: table or json")
	_ = verify.MarkFlagRequired("manifest")
	verify.MarkFlagsRequiredTogether("product", "version")
	cmd.AddCommand(verify)
	return cmd
}

// lookupVersion finds product productName of organisation orgID and its version; an id
// of 0 (or a zero Version) says which of the two does not exist yet.
func lookupVersion(e *env, a *app.App, orgID int64, productName, version string) (int64, supply.Version, error) {
	ps, err := a.Supply.Products(e.ctx, actor.CLI(), supply.ProductQuery{})
	if err != nil {
		return 0, supply.Version{}, err
	}
	for _, p := range ps {
		if p.Name != productName || p.OrgID != orgID {
			continue
		}
		vs, err := a.Supply.Versions(e.ctx, actor.CLI(), p.ID)
		if err != nil {
			return 0, supply.Version{}, err
		}
		for _, v := range vs {
			if v.Version == version {
				return p.ID, v, nil
			}
		}
		return p.ID, supply.Version{}, nil
	}
	return 0, supply.Version{}, nil
}

// findVersion finds an existing product version in organisation orgID.
func findVersion(e *env, a *app.App, orgID int64, product, version string) (supply.Version, error) {
	_, v, err := lookupVersion(e, a, orgID, product, version)
	if err == nil && v.ID == 0 {
		err = fmt.Errorf("no version %q of product %q in that organisation", version, product)
	}
	return v, err
}

// commonBase is the directory the manifest's artifact names are relative to: the
// deepest directory containing every file.
func commonBase(paths []string) string {
	if len(paths) == 0 {
		return "."
	}
	dirs := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		dirs[i] = filepath.Dir(abs)
	}
	sort.Strings(dirs)
	base := dirs[0]
	for _, d := range dirs[1:] {
		for base != "/" && base != "." && !strings.HasPrefix(d+string(filepath.Separator), base+string(filepath.Separator)) {
			base = filepath.Dir(base)
		}
	}
	return base
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, max>>20)
	}
	buf := make([]byte, st.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
