// Command gen writes the synthetic corpora of package corpus and scores the
// detectors on a labelled one.
//
//	go run ./bench/dlp/gen -mode labelled -docs N -seed S -out FILE.jsonl
//	go run ./bench/dlp/gen -mode mixed -size BYTES -seed S -out DIR
//	go run ./bench/dlp/gen -mode eval -in FILE.jsonl [-cluener train.jsonl]
//
// labelled writes one JSON object per document ({"kind","text","spans"}).
// mixed writes DIR/clinical.txt, DIR/app.log and DIR/patients.csv, about a
// third of BYTES each, streamed. eval scans a labelled corpus with every
// detector and prints a markdown table of precision and recall per type
// (exact span match), and the CLUENER name and address figures when the
// CLUENER file is readable.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/corpus"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command and returns its exit code: 0, or 2 for a usage
// or I/O error.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "labelled", "labelled | mixed | eval")
	docs := fs.Int("docs", 2000, "documents to write (labelled)")
	size := fs.Int64("size", 1<<30, "bytes to write in total (mixed)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output file (labelled) or directory (mixed)")
	in := fs.String("in", "", "labelled corpus to score (eval)")
	cluener := fs.String("cluener", "../shared/data/ner/cluener/train.jsonl", "CLUENER train.jsonl for name/address figures (eval; skipped when absent)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	switch *mode {
	case "labelled":
		err = labelled(*out, *docs, *seed)
	case "mixed":
		err = mixed(*out, *size, *seed)
	case "eval":
		err = eval(stdout, *in, *cluener)
	default:
		err = fmt.Errorf("unknown -mode %q: want labelled, mixed or eval", *mode)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gen:", err)
		return 2
	}
	return 0
}

func labelled(out string, n int, seed uint64) error {
	if out == "" || n < 1 {
		return errors.New("labelled: need -out FILE and -docs ≥ 1")
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("labelled: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range corpus.GenerateLabelled(seed, n) {
		if d.Spans == nil {
			d.Spans = []corpus.Span{}
		}
		if err := enc.Encode(d); err != nil {
			f.Close()
			return fmt.Errorf("labelled: write %s: %w", out, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("labelled: write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("labelled: write %s: %w", out, err)
	}
	return nil
}

func mixed(dir string, size int64, seed uint64) error {
	if dir == "" || size < 1 {
		return errors.New("mixed: need -out DIR and -size ≥ 1")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mixed: %w", err)
	}
	for k, part := range []struct {
		name   string
		stream corpus.Stream
	}{{"clinical.txt", corpus.StreamClinical}, {"app.log", corpus.StreamLog}, {"patients.csv", corpus.StreamCSV}} {
		path := filepath.Join(dir, part.name)
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("mixed: %w", err)
		}
		err = corpus.Write(f, part.stream, size/3, seed+uint64(k))
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("mixed: %s: %w", path, err)
		}
	}
	return nil
}

func eval(stdout io.Writer, in, cluener string) error {
	if in == "" {
		return errors.New("eval: need -in FILE.jsonl")
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	docs, err := corpus.ReadJSONL(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("eval: %s: %w", in, err)
	}
	s, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	score := corpus.Score{}
	for _, d := range docs {
		score.Add(d.Spans, spans(s.Scan([]byte(d.Text))))
	}
	fmt.Fprintf(stdout, "Labelled synthetic corpus %s: %d documents, every detector on, exact span match.\n\n", filepath.Base(in), len(docs))
	if err := score.WriteMarkdown(stdout, dlp.AllTypes()); err != nil {
		return err
	}
	cs, texts, err := scoreCLUENER(cluener)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stdout, "\nCLUENER: %s not found, skipped.\n", cluener)
		return nil
	case err != nil:
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprintf(stdout, "\nCLUENER train split (%d texts), person_name and address detectors only, exact span match.\n\n", texts)
	return cs.WriteMarkdown(stdout, []string{dlp.TypePersonName, dlp.TypeAddress})
}

func spans(fs []dlp.Finding) []corpus.Span {
	out := make([]corpus.Span, len(fs))
	for i, f := range fs {
		out[i] = corpus.Span{Type: f.Type, Start: f.Start, End: f.End}
	}
	return out
}

// scoreCLUENER scores person_name and address on CLUENER's train.jsonl.
func scoreCLUENER(path string) (corpus.Score, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	s, err := dlp.NewScanner(dlp.Config{Types: []string{dlp.TypePersonName, dlp.TypeAddress}})
	if err != nil {
		return nil, 0, err
	}
	docs, err := corpus.ReadCLUENER(f)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	score := corpus.Score{}
	for _, d := range docs {
		score.Add(d.Spans, spans(s.Scan([]byte(d.Text))))
	}
	texts := len(docs)
	return score, texts, nil
}
