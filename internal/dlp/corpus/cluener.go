package corpus

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/medguard/medguard/internal/dlp"
)

// KindCLUENER is the Kind of the documents ReadCLUENER returns.
const KindCLUENER = "cluener"

// cluenerTypes maps the CLUENER2020 labels medguard is measured on to its types.
var cluenerTypes = map[string]string{"name": dlp.TypePersonName, "address": dlp.TypeAddress}

// ReadCLUENER reads the CLUENER2020 NER data (one JSON object a line: text,
// and label → entity → spans as rune indexes with the end inclusive) and
// returns each text with its name and address spans as person_name and
// address spans in bytes, ordered by Start. Spans outside the text are
// errors, as are lines that are not such objects.
func ReadCLUENER(r io.Reader) ([]Document, error) {
	return readLines(r, "CLUENER", parseCLUENER)
}

func parseCLUENER(b []byte) (Document, error) {
	var rec struct {
		Text  *string                        `json:"text"`
		Label map[string]map[string][][2]int `json:"label"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return Document{}, err
	}
	if rec.Text == nil { // (encoding/json has made it valid UTF-8)
		return Document{}, errors.New("no text")
	}
	text := *rec.Text
	byteAt := make([]int, 0, len(text)+1) // byteAt[k]: offset of rune k
	for i := range text {
		byteAt = append(byteAt, i)
	}
	byteAt = append(byteAt, len(text))
	d := Document{Kind: KindCLUENER, Text: text}
	for lab, ents := range rec.Label {
		typ, ok := cluenerTypes[lab]
		if !ok {
			continue
		}
		for _, sps := range ents {
			for _, sp := range sps {
				if sp[0] < 0 || sp[1] < sp[0] || sp[1]+1 >= len(byteAt) {
					return Document{}, fmt.Errorf("%s span %v outside the text", lab, sp)
				}
				d.Spans = append(d.Spans, Span{Type: typ, Start: byteAt[sp[0]], End: byteAt[sp[1]+1]})
			}
		}
	}
	slices.SortFunc(d.Spans, func(a, b Span) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), cmp.Compare(a.Type, b.Type))
	})
	return d, nil
}
