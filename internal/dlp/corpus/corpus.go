// Package corpus generates deterministic, labelled synthetic documents for
// measuring the patient-data detectors of package dlp: Chinese clinical
// notes (入院记录, 门诊病历, 出院小结, 处方笺, 检验报告单), application and
// HIS logs, and CSV/TSV exports of patient rows. Each document carries the
// exact byte spans (start inclusive, end exclusive) and types of every value
// a scanner should report.
//
// Check characters (GB 11643 MOD 11-2, Luhn, GB 32100 MOD 31, GB 11714) are
// computed by this package's own code from the standards' definitions, not
// by package dlp, so that the corpus is an independent oracle. Region codes
// are a hand-picked list of real GB/T 2260 divisions (checked against the
// detector's list in the tests), surnames the repository's surname list
// (weighted by frequency) and given-name characters a list written here.
//
// Labelled types use the names of package dlp. Spans follow these rules:
// a person_name is the name alone (患者⟦张三⟧); an address runs from the
// first division written to the room; a drug written with a dose runs from
// its name to its frequency and is a prescription when the document holds
// two or more of them, otherwise a drug; a lab_result runs from the test
// item to the unit (and flag arrow); a diagnosis is the disease name or the
// ICD-10 code, each on its own.
//
// Negatives are mixed into the same texts and never labelled; a scanner
// must not report them:
//   - resident IDs with a wrong check character, an impossible birth date
//     (month 13, 30 February, year 2099) or an unknown region code, and
//     15-digit legacy IDs with impossible dates;
//   - 17-digit numbers (an ID missing its check character, millisecond
//     timestamps 20240512103045123) and 19-digit date-based order numbers;
//   - 11-digit numbers in segments no mobile uses (120…, 154…);
//   - card-shaped 16–19-digit numbers with a real prefix and a failing
//     Luhn digit;
//   - USCCs with a wrong check character;
//   - specimen bar codes, record, invoice and inpatient numbers, drug
//     approval numbers (国药准字H20040123), epoch milliseconds;
//   - version strings (v1.2.3.4, build 3.10.42, Chrome/124.0.6367.60);
//   - near-miss e-mail addresses (admin@localhost, report@example, @张医生,
//     "ops at hospital.cn");
//   - identifiers glued to letters inside tokens (tka13812345678b…).
//
// Every 16–19-digit negative fails the Luhn check: a Luhn-valid number of
// that length with a card prefix is a card number as far as any detector
// can tell. IPv6 addresses appear in logs unlabelled, as the detectors do
// not claim IPv6. Patient exports carry no medical insurance column: the
// detector needs a context word (医保, 社保) that a bare CSV cell lacks.
package corpus

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/dlp"
)

// Types of labelled spans: the type names of package dlp (only the names are
// shared; the generator computes every value and check character itself).
const (
	TypeResidentID       = dlp.TypeResidentID
	TypeMobile           = dlp.TypeMobile
	TypeLandline         = dlp.TypeLandline
	TypeEmail            = dlp.TypeEmail
	TypeBankCard         = dlp.TypeBankCard
	TypePassport         = dlp.TypePassport
	TypeHKMacauPermit    = dlp.TypeHKMacauPermit
	TypeUSCC             = dlp.TypeUSCC
	TypeMedicalInsurance = dlp.TypeMedicalInsurance
	TypeIPAddress        = dlp.TypeIPAddress
	TypePersonName       = dlp.TypePersonName
	TypeAddress          = dlp.TypeAddress
	TypeDrug             = dlp.TypeDrug
	TypePrescription     = dlp.TypePrescription
	TypeLabResult        = dlp.TypeLabResult
	TypeDiagnosis        = dlp.TypeDiagnosis
)

// Document kinds.
const (
	KindAdmission    = "admission_note"    // 入院记录
	KindOutpatient   = "outpatient_record" // 门诊病历
	KindDischarge    = "discharge_summary" // 出院小结
	KindPrescription = "prescription"      // 处方笺
	KindLabReport    = "lab_report"        // 检验报告单
	KindLog          = "app_log"
	KindCSV          = "patients_csv"
	KindTSV          = "patients_tsv"
)

// Kinds returns every document kind.
func Kinds() []string {
	return []string{KindAdmission, KindOutpatient, KindDischarge, KindPrescription, KindLabReport, KindLog, KindCSV, KindTSV}
}

// Span is a labelled value: its type and byte offsets in the document's
// text (End exclusive).
type Span struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Document is one generated text with its labels, ordered by Start.
type Document struct {
	Kind  string `json:"kind"`
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
}

// Generate returns one document of the given kind drawn from r.
func Generate(r *rand.Rand, kind string) (Document, error) {
	switch kind {
	case KindAdmission, KindOutpatient, KindDischarge, KindPrescription, KindLabReport:
		return clinical(r, kind), nil
	case KindLog:
		return appLog(r), nil
	case KindCSV, KindTSV:
		return table(r, kind), nil
	}
	return Document{}, fmt.Errorf("corpus: unknown document kind %q", kind)
}

// GenerateLabelled returns n documents drawn with seed, cycling through
// every kind; the same seed and n give the same documents.
func GenerateLabelled(seed uint64, n int) []Document {
	r := rand.New(rand.NewPCG(seed, 0x6d656467))
	kinds := Kinds()
	docs := make([]Document, n)
	for i := range docs {
		docs[i], _ = Generate(r, kinds[i%len(kinds)]) // kinds are known
	}
	return docs
}

// Stream selects what Write produces.
type Stream int

// Streams of Write.
const (
	StreamMixed    Stream = iota // clinical notes, logs and CSV rows interleaved
	StreamClinical               // clinical notes only
	StreamLog                    // application log lines only
	StreamCSV                    // one CSV export: a header and patient rows
)

// Write writes about size bytes (at least size, at most one document more)
// of unlabelled text of the given stream to w, one document at a time so
// that memory stays flat. The same seed gives the same bytes.
func Write(w io.Writer, stream Stream, size int64, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0x6d697865))
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int64
	put := func(s string) error {
		k, err := bw.WriteString(s)
		n += int64(k)
		if err != nil {
			return fmt.Errorf("corpus: write: %w", err)
		}
		return nil
	}
	clinicalKinds := Kinds()[:5]
	if stream == StreamCSV {
		if err := put(joinHeader(",")); err != nil {
			return err
		}
	}
	for i := 0; n < size; i++ {
		var text string
		switch stream {
		case StreamClinical:
			text = clinical(r, clinicalKinds[i%len(clinicalKinds)]).Text + "\n"
		case StreamLog:
			text = appLog(r).Text
		case StreamCSV:
			g := &builder{r: r}
			g.tableRow(",")
			text = g.b.String()
		case StreamMixed:
			d, err := Generate(r, Kinds()[i%len(Kinds())])
			if err != nil {
				return err
			}
			text = d.Text + "\n"
		default:
			return fmt.Errorf("corpus: unknown stream %d", stream)
		}
		if err := put(text); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("corpus: write: %w", err)
	}
	return nil
}

// WriteMixed writes about size bytes of clinical notes, logs and CSV rows
// interleaved (Write with StreamMixed).
func WriteMixed(w io.Writer, size int64, seed uint64) error {
	return Write(w, StreamMixed, size, seed)
}

func joinHeader(sep string) string {
	s := ""
	for i, h := range tableHeader {
		if i > 0 {
			s += sep
		}
		s += h
	}
	return s + "\n"
}

// ErrFormat is wrapped by every error of ReadJSONL about the content of
// the input.
var ErrFormat = errors.New("corpus: malformed labelled corpus")

// maxLine bounds one JSON line of ReadJSONL.
const maxLine = 16 << 20

// ReadJSONL reads documents written one JSON object a line (the output of
// bench/dlp/gen -mode labelled) and checks them: text valid UTF-8, every
// span non-empty, inside the text, on rune boundaries and with a type.
func ReadJSONL(r io.Reader) ([]Document, error) {
	return readLines(r, "labelled corpus", func(b []byte) (Document, error) {
		var d Document
		if err := json.Unmarshal(b, &d); err != nil {
			return d, err
		}
		return d, d.check()
	})
}

// readLines reads one document a non-empty line with parse; a parse error is
// an ErrFormat naming the line.
func readLines(r io.Reader, what string, parse func([]byte) (Document, error)) ([]Document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var docs []Document
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		d, err := parse(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrFormat, what, line, err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpus: read %s: %w", what, err)
	}
	return docs, nil
}

func (d Document) check() error {
	if !utf8.ValidString(d.Text) {
		return errors.New("text is not valid UTF-8")
	}
	for i, s := range d.Spans {
		switch {
		case s.Type == "":
			return fmt.Errorf("span %d: no type", i)
		case s.Start < 0 || s.End > len(d.Text) || s.Start >= s.End:
			return fmt.Errorf("span %d: [%d,%d) outside a text of %d bytes", i, s.Start, s.End, len(d.Text))
		case !utf8.RuneStart(d.Text[s.Start]) || s.End < len(d.Text) && !utf8.RuneStart(d.Text[s.End]):
			return fmt.Errorf("span %d: [%d,%d) not on character boundaries", i, s.Start, s.End)
		}
	}
	return nil
}
