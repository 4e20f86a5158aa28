package corpus

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/dlp"
)

// The records here are made up in CLUENER's format; nothing of CLUENER ships.
func TestReadCLUENER(t *testing.T) {
	t.Parallel()
	in := `{"text": "张小明在北京市海淀区上班", "label": {"name": {"张小明": [[0, 2]]}, "address": {"北京市海淀区": [[4, 9]]}, "company": {"x": [[10, 11]]}}}` + "\n\n" +
		`{"text": "no labels"}` + "\n"
	docs, err := ReadCLUENER(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{Kind: KindCLUENER, Text: "张小明在北京市海淀区上班", Spans: []Span{{dlp.TypePersonName, 0, 9}, {dlp.TypeAddress, 12, 30}}},
		{Kind: KindCLUENER, Text: "no labels"},
	}
	if diff := cmp.Diff(want, docs); diff != "" {
		t.Errorf("ReadCLUENER (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`not json`,
		`{"label": {}}`,
		`{"text": "ab", "label": {"name": {"ab": [[0, 2]]}}}`,
		`{"text": "ab", "label": {"name": {"ab": [[-1, 0]]}}}`,
		`{"text": "ab", "label": {"address": {"ab": [[1, 0]]}}}`,
	} {
		if _, err := ReadCLUENER(strings.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("ReadCLUENER(%q) = %v, want ErrFormat", bad, err)
		}
	}
}

func FuzzReadCLUENER(f *testing.F) {
	f.Add([]byte(`{"text": "王芳住在上海市", "label": {"name": {"王芳": [[0, 1]]}, "address": {"上海市": [[4, 6]]}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		docs, err := ReadCLUENER(strings.NewReader(string(in)))
		if err == nil {
			spansInside(t, docs)
		}
	})
}
