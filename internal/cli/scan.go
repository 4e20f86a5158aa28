package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/mask"
	"github.com/medguard/medguard/internal/dlp/scan"
)

// scanDetectorsMax bounds a --detectors file.
const scanDetectorsMax = 1 << 20

func (e *env) scanCmd() *cobra.Command {
	var format, detectors string
	var types []string
	var minConf float64
	var failOn, workers int
	var profile bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Find patient data in files, directory trees, archives and stdin (-); exit 1 with --fail-on when found",
		Long: `Scan files, directories (recursively), ZIP/gzip archives, office documents, PDFs and
standard input ("-") for patient data: resident IDs, phone numbers, bank cards, names,
addresses, diagnoses, prescriptions, lab results and site identifiers. Files are scanned
concurrently; results are printed sorted by path and offset, as they are found. Previews are masked: raw
values are never printed.

--format json writes one JSON object per finding per line (path, type, start, end, line,
confidence, category, level, field when known, preview), one {"problem":…} line per input
that could not be read, then one {"summary":…} line. --format sarif writes SARIF 2.1.0
(problems are tool execution notifications); table and csv print problems on stderr.

Exit codes: 0 scanned (whatever was found, unless --fail-on), 1 data at or above the
--fail-on level was found (stderr says "data of level N found") or an error (stderr
says "medguard: …"), 2 usage.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("give at least one PATH (- for standard input)")
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			if !oneOf(format, scan.Formats) {
				return usagef("--format must be one of %s", strings.Join(scan.Formats, ", "))
			}
			if failOn < 0 || failOn > 5 {
				return usagef("--fail-on must be a level from 1 to 5 (0: never)")
			}
			cfg := dlp.Config{}
			if detectors != "" {
				if err := readDetectors(detectors, &cfg); err != nil {
					return err
				}
			}
			if len(types) > 0 {
				cfg.Types = types
			}
			if cmd.Flags().Changed("min-confidence") {
				cfg.MinConfidence = minConf
			}
			s, err := dlp.NewScanner(cfg)
			if err != nil {
				return err
			}
			// Findings are written as they are found, so that memory
			// does not grow with their number.
			out, err := scan.NewWriter(e.stdout, format)
			if err != nil {
				return err
			}
			defer out.Close()
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			opt := scan.Options{Scanner: s, Workers: workers, Stdin: e.stdin, Sink: out.Batch}
			bar := e.progressBar()
			if bar != nil {
				opt.Progress = bar.update
			}
			res, err := scan.Run(e.ctx, args, opt)
			if bar != nil {
				bar.done()
			}
			if err != nil {
				return err
			}
			if err := out.Finish(res); err != nil {
				return err
			}
			if format == "table" || format == "csv" {
				for _, p := range res.Problems {
					fmt.Fprintf(e.stderr, "problem: %s\n", p)
				}
			}
			if profile {
				secs := max(res.Elapsed.Seconds(), 1e-9)
				fmt.Fprintf(e.stderr, "profile: %d files, %.1f MB in %s: %.1f MB/s, %.0f files/s\n",
					res.Units, float64(res.Bytes)/1e6, res.Elapsed.Round(time.Millisecond),
					float64(res.Bytes)/1e6/secs, float64(res.Units)/secs)
			}
			if h := res.HighestLevel(); failOn > 0 && h >= failOn {
				return outcomef(ErrDataFound, "data of level %d found (--fail-on %d)", h, failOn)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", "output format: "+strings.Join(scan.Formats, ", "))
	f.StringSliceVar(&types, "types", nil, "report only these types (comma-separated; default all): "+strings.Join(dlp.AllTypes(), ", "))
	f.Float64Var(&minConf, "min-confidence", 0, "drop findings below this confidence (0–1)")
	f.IntVar(&failOn, "fail-on", 0, "exit 1 when a file's verdict reaches this level (1–5; GB/T 39725-2020, 4: identifies a person)")
	f.IntVar(&workers, "workers", 0, "files scanned at once (default GOMAXPROCS)")
	f.BoolVar(&profile, "profile", false, "print throughput (MB/s, files/s) on stderr")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the scan to this file (for `go tool pprof`)")
	_ = f.MarkHidden("cpuprofile")
	f.StringVar(&detectors, "detectors", "", "YAML file of detector settings: types, min_confidence and custom site identifiers (name, pattern, context, require_context, category, level)")
	return cmd
}

// startCPUProfile starts a CPU profile written to path; stop ends it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// startTrace starts a Go execution trace into the file at path (for `go tool trace`:
// where goroutines waited, and for what); stop ends it.
func startTrace(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { trace.Stop(); f.Close() }, nil
}

// readDetectors reads a dlp.Config from a YAML file, rejecting unknown keys.
func readDetectors(path string, cfg *dlp.Config) error {
	data, err := readLimited(path, scanDetectorsMax)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// progress draws a one-line progress bar on a terminal.
type progress struct {
	w    io.Writer
	last time.Time
}

// progressBar returns a bar when stderr is a terminal, else nil.
func (e *env) progressBar() *progress {
	f, ok := e.stderr.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: f}
}

func (p *progress) update(s scan.Progress) {
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || s.FilesDone == s.FilesTotal {
		p.last = now
		const width = 30
		filled := 0
		if s.BytesTotal > 0 {
			filled = int(min(s.BytesDone*width/s.BytesTotal, width))
		} else if s.FilesTotal > 0 {
			filled = s.FilesDone * width / s.FilesTotal
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d files, %.1f/%.1f MB ", strings.Repeat("#", filled), strings.Repeat(" ", width-filled),
			s.FilesDone, s.FilesTotal, float64(s.BytesDone)/1e6, float64(s.BytesTotal)/1e6)
	}
}

func (p *progress) done() { fmt.Fprint(p.w, "\r\033[K") }

// maskMaxInput bounds the input of `mask`.
const maskMaxInput = 256 << 20

func (e *env) maskCmd() *cobra.Command {
	var out, policyFile, keyFile, sensitive, format, inFormat string
	var quasi []string
	cmd := &cobra.Command{
		Use:   "mask IN --out OUT",
		Short: "De-identify a text, CSV/TSV or JSON file (IN or OUT may be -): redact, partial, pseudonym, token or generalize",
		Long: `Mask patient data in a text, CSV/TSV or JSON file and write a file of the same structure
(CSV keeps its columns, JSON stays valid JSON in the same key order; GBK input is written
as UTF-8). Every value the scanner detects is masked by its type's method; a column (CSV
header or JSON key) named in the policy is masked whole by the column's method.

Methods: redact ([type]), partial (110***********1234), pseudonym (keyed HMAC-SM3 or
HMAC-SHA-256: the same value gives the same pseudonym in every file and run with the same
key), token (same length and character classes, from the keyed HMAC), generalize (date →
year, age → ten-year band, address → district, resident ID → birth year), keep.

The policy file is YAML:
  default: partial            # method of detected types not listed
  hash: sm3                   # or sha256
  types: {email: redact}
  columns: {身份证号: pseudonym, 年龄: generalize}
Without --policy every detected value is masked with partial. The key of pseudonym and
token comes from --key-file, MEDGUARD_MASK_KEY or MEDGUARD_MASK_KEY_FILE.

With --quasi (CSV/TSV) a re-identification risk summary of the output is printed:
k-anonymity (smallest class of rows sharing the quasi-identifier values) and, with
--sensitive, l-diversity (fewest distinct sensitive values in a class). The summary goes
to stdout, or to stderr when --out is -; --format json prints it as JSON.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("give one input file IN (- for standard input)")
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			in := args[0]
			if out == "" {
				return usagef("--out is required (- for stdout)")
			}
			if format != "text" && format != "json" {
				return usagef("--format must be text or json")
			}
			if inFormat == "" {
				inFormat = mask.FormatOf(in)
			} else if !oneOf(inFormat, []string{mask.FormatText, mask.FormatCSV, mask.FormatTSV, mask.FormatJSON}) {
				return usagef("--input-format must be text, csv, tsv or json")
			}
			if len(quasi) > 0 && inFormat != mask.FormatCSV && inFormat != mask.FormatTSV {
				return usagef("--quasi needs a CSV or TSV input")
			}
			if sensitive != "" && len(quasi) == 0 {
				return usagef("--sensitive needs --quasi")
			}
			if in != "-" && out != "-" && maskSameFile(in, out) {
				return usagef("--out must not be the input file")
			}
			policy := mask.DefaultPolicy()
			if policyFile != "" {
				data, err := readLimited(policyFile, 1<<20)
				if err != nil {
					return err
				}
				if policy, err = mask.ParsePolicy(data); err != nil {
					return fmt.Errorf("%s: %w", policyFile, err)
				}
			}
			var key []byte
			if policy.NeedsKey() {
				var err error
				if key, err = e.maskKey(keyFile); err != nil {
					return err
				}
			}
			s, err := dlp.NewScanner(dlp.Config{})
			if err != nil {
				return err
			}
			m, err := mask.New(s, policy, key)
			if err != nil {
				return err
			}
			var data []byte
			if in == "-" {
				if data, err = io.ReadAll(io.LimitReader(e.stdin, maskMaxInput+1)); err == nil && len(data) > maskMaxInput {
					err = fmt.Errorf("stdin is larger than %d MiB", maskMaxInput>>20)
				}
			} else {
				data, err = readLimited(in, maskMaxInput)
			}
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			var st mask.Stats
			risk, err := m.File(inFormat, data, &buf, mask.TableOptions{Quasi: quasi, Sensitive: sensitive}, &st)
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			report := e.stdout
			if out == "-" {
				report = e.stderr
				if _, err := e.stdout.Write(buf.Bytes()); err != nil {
					return err
				}
			} else if err := maskWriteFile(out, buf.Bytes()); err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(report)
				enc.SetEscapeHTML(false)
				return enc.Encode(struct {
					Masked map[string]int `json:"masked"`
					Risk   *mask.Risk     `json:"risk,omitempty"`
				}{st.Masked, risk})
			}
			total := 0
			var parts []string
			for _, t := range maskSortedKeys(st.Masked) {
				total += st.Masked[t]
				parts = append(parts, fmt.Sprintf("%s=%d", t, st.Masked[t]))
			}
			fmt.Fprintf(report, "masked %d values (%s)\n", total, strings.Join(parts, " "))
			if risk != nil {
				fmt.Fprintln(report, risk.String())
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output file (- for stdout)")
	f.StringVar(&policyFile, "policy", "", "YAML masking policy (default: partial masking of every detected value)")
	f.StringVar(&keyFile, "key-file", "", "file holding the pseudonym/token key (else env MEDGUARD_MASK_KEY or MEDGUARD_MASK_KEY_FILE)")
	f.StringSliceVar(&quasi, "quasi", nil, "quasi-identifier columns of the re-identification risk summary (CSV/TSV)")
	f.StringVar(&sensitive, "sensitive", "", "sensitive column of the l-diversity summary")
	f.StringVar(&format, "format", "text", "summary format: text or json")
	f.StringVar(&inFormat, "input-format", "", "input format: text, csv, tsv or json (default: from the file name)")
	return cmd
}

// maskKey reads the key of keyed masking methods.
func (e *env) maskKey(keyFile string) ([]byte, error) {
	var key []byte
	switch {
	case keyFile != "":
		b, err := readLimited(keyFile, 1<<16)
		if err != nil {
			return nil, err
		}
		key = bytes.TrimRight(b, "\r\n")
	case e.getenv("MEDGUARD_MASK_KEY") != "":
		key = []byte(e.getenv("MEDGUARD_MASK_KEY"))
	case e.getenv("MEDGUARD_MASK_KEY_FILE") != "":
		b, err := readLimited(e.getenv("MEDGUARD_MASK_KEY_FILE"), 1<<16)
		if err != nil {
			return nil, fmt.Errorf("MEDGUARD_MASK_KEY_FILE: %w", err)
		}
		key = bytes.TrimRight(b, "\r\n")
	}
	if len(key) < 16 {
		return nil, usagef("the policy uses pseudonym or token: give a key of at least 16 bytes with --key-file or MEDGUARD_MASK_KEY")
	}
	return key, nil
}

func maskSortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// maskSameFile reports whether a and b name the same existing file.
func maskSameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// maskWriteFile writes data to path through a temporary file in the same
// directory, readable by the owner only.
func maskWriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".medguard-mask-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
