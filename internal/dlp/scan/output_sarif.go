package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/medguard/medguard/internal/dlp"
)

// sarifWriter writes a SARIF log whose results come one by one: rules and
// tool notifications precede the results in the document and depend on
// all of them, so each result is encoded as it comes into a temporary
// file, and Finish writes the document around them.
type sarifWriter struct {
	w      io.Writer
	run    *sarif.Run // holds the rules; its Results only the one being encoded
	rules  map[string]bool
	spool  *os.File
	buf    *bufio.Writer
	tmp    bytes.Buffer  // one encoded result
	enc    *json.Encoder // encodes into tmp
	indent string
	n      int
}

func newSARIFWriter(w io.Writer) *sarifWriter {
	return &sarifWriter{w: w, run: newSARIFRun(), rules: map[string]bool{}}
}

func newSARIFRun() *sarif.Run {
	return sarif.NewRunWithInformationURI("medguard", "https://github.com/medguard/medguard")
}

// sarifResultsKey opens the results array of the run in the indented
// document; it cannot occur inside a JSON string, where a line break is
// escaped.
const sarifResultsKey = "\n      \"results\": [\n"

func (s *sarifWriter) batch(fs []Finding) error {
	if s.spool == nil {
		f, err := os.CreateTemp("", "medguard-sarif-*")
		if err != nil {
			return fmt.Errorf("scan: sarif: spooling results: %w", err)
		}
		s.spool, s.buf = f, bufio.NewWriterSize(f, 64<<10)
		s.indent = "        "
		s.enc = json.NewEncoder(&s.tmp)
		s.enc.SetIndent(s.indent, "  ")
		s.enc.SetEscapeHTML(false)
	}
	for _, f := range fs {
		addSARIFResult(s.run, s.rules, f)
		r := s.run.Results[0]
		s.run.Results = s.run.Results[:0]
		if s.n > 0 {
			if _, err := s.buf.WriteString(",\n" + s.indent); err != nil {
				return fmt.Errorf("scan: sarif: spooling results: %w", err)
			}
		}
		s.tmp.Reset()
		if err := s.enc.Encode(r); err != nil {
			return fmt.Errorf("scan: sarif: encoding a result: %w", err)
		}
		// Encode ends the value with a line break, which the next
		// separator or the document's tail replaces.
		if _, err := s.buf.Write(bytes.TrimSuffix(s.tmp.Bytes(), []byte("\n"))); err != nil {
			return fmt.Errorf("scan: sarif: spooling results: %w", err)
		}
		s.n++
	}
	return nil
}

func (s *sarifWriter) finish(res *Result) error {
	rep := sarif.NewReport()
	if s.n > 0 {
		// A placeholder result marks where the spooled ones go.
		s.run.AddResult(sarif.NewRuleResult("placeholder"))
	}
	s.run.AddInvocation(sarifInvocation(res))
	rep.AddRun(s.run)
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("scan: sarif: %w", err)
	}
	if s.n == 0 {
		_, err := s.w.Write(doc.Bytes())
		return err
	}
	b := doc.Bytes()
	i := bytes.Index(b, []byte(sarifResultsKey))
	if i < 0 {
		return errors.New("scan: sarif: results array not found in the document")
	}
	i += len(sarifResultsKey) + len(s.indent)
	j := bytes.Index(b[i:], []byte("\n"+s.indent+"}"))
	if j < 0 || !bytes.HasPrefix(b[i-len(s.indent):], []byte(s.indent+"{")) {
		return errors.New("scan: sarif: results array not where expected in the document")
	}
	j += i + len(s.indent) + 2
	if err := s.buf.Flush(); err != nil {
		return fmt.Errorf("scan: sarif: spooling results: %w", err)
	}
	if _, err := s.spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("scan: sarif: reading spooled results: %w", err)
	}
	if _, err := s.w.Write(b[:i]); err != nil {
		return err
	}
	if _, err := io.Copy(s.w, s.spool); err != nil {
		return fmt.Errorf("scan: sarif: copying spooled results: %w", err)
	}
	_, err := s.w.Write(b[j:])
	return err
}

func (s *sarifWriter) close() error {
	if s.spool == nil {
		return nil
	}
	name := s.spool.Name()
	err := s.spool.Close()
	s.spool = nil
	return errors.Join(err, os.Remove(name))
}

// sarifLevel maps a GB/T 39725 level to a SARIF result level.
func sarifLevel(level int) string {
	switch {
	case level >= 4:
		return "error"
	case level == 3:
		return "warning"
	}
	return "note"
}

// artifactURI turns a path (possibly "a.zip!/b.txt", possibly with
// non-ASCII names) into a relative URI reference.
func artifactURI(path string) string {
	return (&url.URL{Path: path}).String()
}

// SARIF converts res to a SARIF 2.1.0 log: one rule per finding type,
// one result per finding located by line and byte offset, and one tool
// execution notification per problem. It holds every finding; a Writer of
// format "sarif" writes the same log without holding them.
func SARIF(res *Result) *sarif.Report {
	rep := sarif.NewReport()
	run := newSARIFRun()
	rules := map[string]bool{}
	for _, fr := range res.Files {
		for _, f := range fr.Findings {
			addSARIFResult(run, rules, f)
		}
	}
	run.AddInvocation(sarifInvocation(res))
	rep.AddRun(run)
	return rep
}

// addSARIFResult adds f to run as a result, and its rule when rules does
// not have it yet.
func addSARIFResult(run *sarif.Run, rules map[string]bool, f Finding) {
	if !rules[f.Type] {
		rules[f.Type] = true
		run.AddRule(f.Type).WithDescription(ruleDescription(f.Type, f.Category, f.Level)).
			WithProperties(sarif.NewPropertyBag().Add("category", f.Category).Add("level", f.Level))
	}
	msg := fmt.Sprintf("%s (%s, level %d): %s", f.Type, f.Category, f.Level, f.Preview)
	if f.Field != "" {
		msg += " in " + f.Field
	}
	region := sarif.NewRegion().WithStartLine(max(f.Line, 1)).WithByteOffset(f.Start).WithByteLength(f.End - f.Start)
	loc := sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(f.Path))).WithRegion(region))
	props := sarif.NewPropertyBag().Add("confidence", f.Confidence).Add("category", f.Category).Add("level", f.Level)
	if f.Field != "" {
		props.Add("field", f.Field)
	}
	run.CreateResultForRule(f.Type).WithLevel(sarifLevel(f.Level)).WithMessage(sarif.NewTextMessage(msg)).
		AddLocation(loc).WithProperties(props)
}

// sarifInvocation reports the problems of res as tool execution
// notifications.
func sarifInvocation(res *Result) *sarif.Invocation {
	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	for _, p := range res.Problems {
		n := sarif.NewNotification().WithLevel("warning").WithMessage(sarif.NewTextMessage(p.String())).
			AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(p.Path)))))
		inv.AddToolExecutionNotification(n)
	}
	return inv
}

func ruleDescription(typ, category string, level int) string {
	if _, builtin := dlp.Classify(typ); !builtin {
		return fmt.Sprintf("site identifier %s (%s, level %d)", typ, category, level)
	}
	return fmt.Sprintf("%s: %s data, GB/T 39725-2020 level %d", typ, category, level)
}
