package incident

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/medguard/medguard/internal/problem"
)

// TestReadUpload: a file within its limit is read and checked; too large, empty and
// disguised files are refused with a problem of the field "file" with their messages; a broken upload is an internal error, not the sender's mistake.
func TestReadUpload(t *testing.T) {
	t.Parallel()
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	up, err := ReadUpload("报告.pdf", strings.NewReader(string(pdf)), 1<<10)
	if err != nil || up.Type.Kind != "pdf" || len(up.SHA256) != 64 || string(up.Data) != string(pdf) {
		t.Fatalf("a PDF: %+v %v", up, err)
	}
	for _, tc := range []struct {
		name, body string
		max        int64
		want       error
		key        string
	}{
		{"big.pdf", string(pdf), 8, ErrTooLarge, "upload.error.too_large"},
		{"empty.pdf", "", 1 << 10, ErrEmpty, "upload.error.empty_file"},
		{"page.pdf", "<html><script>x</script></html>", 1 << 10, ErrActive, "upload.error.file_active"},
		{"note.png", string(pdf), 1 << 10, ErrDisguised, "upload.error.file_disguised"},
	} {
		_, err := ReadUpload(tc.name, strings.NewReader(tc.body), tc.max)
		if !errors.Is(err, tc.want) || !Refused(err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		pe, ok := problem.As(UploadProblem(err, tc.max, "policy"))
		if !ok || pe.Field != "file" || pe.Msg == nil || pe.Msg.Key != tc.key {
			t.Errorf("%s: problem %+v, want field file and key %s", tc.name, pe, tc.key)
		}
	}
	_, err = ReadUpload("a.pdf", iotest.ErrReader(errors.New("connection reset")), 1<<10)
	if err == nil || Refused(err) {
		t.Fatalf("a broken upload: %v", err)
	}
	if _, ok := problem.As(UploadProblem(err, 1<<10, "incident")); ok {
		t.Error("a broken upload became the sender's problem")
	}
}
