package delivery_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/problem"
)

// goldenManifest has artifacts out of order, Chinese text and an artifact without SM3.
func goldenManifest() *delivery.Manifest {
	return &delivery.Manifest{
		Schema:      delivery.SchemaV1,
		Vendor:      "东华软件",
		Product:     "HIS",
		Version:     "5.2.0",
		DeliveryID:  "HIS-5.2.0-2026-11-01",
		DeliveredAt: time.Date(2026, 11, 1, 16, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		Artifacts: []delivery.Artifact{
			{Name: "sbom/his-5.2.0.cdx.json", Size: 2048,
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				SM3:    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
			{Name: "his-server-5.2.0.tar.gz", Size: 1048576,
				SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				SM3:    "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"},
			{Name: "docs/安装说明.txt", Size: 0,
				SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
			{Name: "Z-upper-sorts-first.txt", Size: 7, SM3: "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"},
		},
	}
}

func TestCanonicalGolden(t *testing.T) {
	m := goldenManifest()
	got := m.Canonical()
	path := filepath.Join("testdata", "canonical.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Canonical() differs from %s (-want +got):\n%s", path, diff)
	}
	// The canonical form does not depend on the order of artifacts or the time zone.
	shuffled := goldenManifest()
	a := shuffled.Artifacts
	a[0], a[1], a[2], a[3] = a[3], a[2], a[1], a[0]
	shuffled.DeliveredAt = shuffled.DeliveredAt.UTC()
	if !bytes.Equal(shuffled.Canonical(), got) {
		t.Error("Canonical() depends on artifact order or time zone")
	}
	// Nor does it change through Marshal and ParseManifest, nor cover the signature.
	back := reparse(t, m)
	if !bytes.Equal(back.Canonical(), got) {
		t.Errorf("canonical form changed through Marshal/ParseManifest:\n%s", back.Canonical())
	}
	// Canonical does not reorder the manifest itself.
	if m.Artifacts[0].Name != "sbom/his-5.2.0.cdx.json" {
		t.Error("Canonical() sorted the manifest's own artifacts")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	m := goldenManifest()
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"vendor": "东华软件"`, `"delivered_at": "2026-11-01T08:00:00Z"`, "\n  \"artifacts\": [\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("Marshal output lacks %q:\n%s", want, data)
		}
	}
	for _, notWant := range []string{`\u`, `"signature"`, `"sm3": ""`} {
		if strings.Contains(string(data), notWant) {
			t.Errorf("Marshal output contains %q:\n%s", notWant, data)
		}
	}
	back, err := delivery.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	want := *m
	want.DeliveredAt = m.DeliveredAt.UTC()
	if diff := cmp.Diff(&want, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	for name, breakIt := range map[string]func(*delivery.Manifest){
		"traversal":  func(m *delivery.Manifest) { m.Artifacts[0].Name = "../x" },
		"tab":        func(m *delivery.Manifest) { m.Vendor = "a\tb" },
		"no schema":  func(m *delivery.Manifest) { m.Schema = "" },
		"bad UTF-8":  func(m *delivery.Manifest) { m.Product = "\xff" },
		"no time":    func(m *delivery.Manifest) { m.DeliveredAt = time.Time{} },
		"upper hex":  func(m *delivery.Manifest) { m.Artifacts[1].SM3 = strings.ToUpper(m.Artifacts[1].SM3) },
		"empty sig":  func(m *delivery.Manifest) { m.Signature = &delivery.Signature{} },
		"duplicates": func(m *delivery.Manifest) { m.Artifacts[1].Name = m.Artifacts[0].Name },
	} {
		t.Run(name, func(t *testing.T) {
			m := goldenManifest()
			breakIt(m)
			if data, err := m.Marshal(); err == nil {
				t.Fatalf("Marshal accepted an invalid manifest:\n%s", data)
			} else if problem.KindOf(err) != problem.KindInvalid {
				t.Fatalf("error %v is not a KindInvalid problem", err)
			}
		})
	}
}

// TestParseCases runs testdata/parse_cases.txt: one case a line,
// name <TAB> want <TAB> input..., where want is "ok" or a substring of the error and
// each input is "@file" (a file under testdata/parse to start from instead of
// base.json), "path=json" (set a value) or "path!" (delete it), paths like artifacts/0/name.
func TestParseCases(t *testing.T) {
	for _, c := range parseCases(t) {
		t.Run(c.name, func(t *testing.T) {
			m, err := delivery.ParseManifest(c.input)
			if c.want == "ok" {
				if err != nil {
					t.Fatalf("ParseManifest: %v\ninput:\n%s", err, c.input)
				}
				reparse(t, m)
				return
			}
			if err == nil {
				t.Fatalf("ParseManifest accepted the input; want an error containing %q\ninput:\n%s", c.want, c.input)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Code != "invalid_manifest" {
				t.Fatalf("error %v is not an invalid_manifest problem", err)
			}
			// A client sees the message: no package prefix, and the place at fault.
			if strings.HasPrefix(pe.Message, "delivery: ") {
				t.Errorf("message %q has the package prefix", pe.Message)
			}
			if pe.Field != "" && !strings.HasPrefix(pe.Message, pe.Field+": ") {
				t.Errorf("message %q does not start with its field %q", pe.Message, pe.Field)
			}
		})
	}
}

type parseCase struct {
	name, want string
	input      []byte
}

// parseCases reads testdata/parse_cases.txt into inputs.
func parseCases(t testing.TB) []parseCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "parse_cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []parseCase
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) < 2 {
			t.Fatalf("parse_cases.txt:%d: want name<TAB>want<TAB>input...", line)
		}
		input, err := caseInput(cols[2:])
		if err != nil {
			t.Fatalf("parse_cases.txt:%d: %v", line, err)
		}
		out = append(out, parseCase{name: cols[0], want: cols[1], input: input})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 40 {
		t.Fatalf("only %d parse cases read", len(out))
	}
	return out
}

// caseInput builds one case's document from its input columns.
func caseInput(cols []string) ([]byte, error) {
	base := "base.json"
	if len(cols) > 0 && strings.HasPrefix(cols[0], "@") {
		base, cols = cols[0][1:], cols[1:]
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "parse", filepath.FromSlash(base)))
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", base, err)
	}
	for _, patch := range cols {
		path, value, isSet := strings.Cut(patch, "=")
		del := !isSet && strings.HasSuffix(patch, "!")
		if !isSet && !del {
			return nil, fmt.Errorf("bad patch %q", patch)
		}
		var v any
		if isSet {
			d := json.NewDecoder(strings.NewReader(value))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				return nil, fmt.Errorf("patch %q: %v", patch, err)
			}
		}
		if doc, err = setPath(doc, strings.Split(strings.TrimSuffix(path, "!"), "/"), v, del); err != nil {
			return nil, fmt.Errorf("patch %q: %v", patch, err)
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// setPath sets or deletes the value at keys inside doc.
func setPath(doc any, keys []string, v any, del bool) (any, error) {
	if len(keys) == 0 {
		return v, nil
	}
	switch d := doc.(type) {
	case map[string]any:
		if len(keys) == 1 && del {
			delete(d, keys[0])
			return d, nil
		}
		child, err := setPath(d[keys[0]], keys[1:], v, del)
		d[keys[0]] = child
		return d, err
	case []any:
		i, err := strconv.Atoi(keys[0])
		if err != nil || i < 0 || i >= len(d) {
			return nil, fmt.Errorf("no element %q", keys[0])
		}
		d[i], err = setPath(d[i], keys[1:], v, del)
		return d, err
	}
	return nil, fmt.Errorf("cannot descend into %T at %q", doc, keys[0])
}

func TestParseLimits(t *testing.T) {
	many := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"schema":"medguard.delivery/v1","vendor":"v","product":"p","version":"1","delivery_id":"d","delivered_at":"2026-11-01T08:00:00Z","artifacts":[`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":"f/%d","size":%d,"sha256":"%064x"}`, i, i, i)
		}
		b.WriteString("]}")
		return []byte(b.String())
	}
	m, err := delivery.ParseManifest(many(delivery.MaxArtifacts))
	if err != nil {
		t.Fatalf("%d artifacts: %v", delivery.MaxArtifacts, err)
	}
	if len(m.Artifacts) != delivery.MaxArtifacts {
		t.Fatalf("read %d artifacts", len(m.Artifacts))
	}
	if _, err := delivery.ParseManifest(many(delivery.MaxArtifacts + 1)); err == nil || !strings.Contains(err.Error(), "artifacts: more than 10000 artifacts") {
		t.Fatalf("%d artifacts: error %v", delivery.MaxArtifacts+1, err)
	}
	huge := append([]byte(`{"vendor":"`), bytes.Repeat([]byte("x"), delivery.MaxManifestSize)...)
	if _, err := delivery.ParseManifest(huge); err == nil || !strings.Contains(err.Error(), "more than the limit of 4194304") {
		t.Fatalf("oversized manifest: error %v", err)
	}
}

func TestParseTimeToUTC(t *testing.T) {
	data, err := goldenManifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("2026-11-01T08:00:00Z"), []byte("2026-11-01T16:00:00.5+08:00"), 1)
	m, err := delivery.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 1, 8, 0, 0, 5e8, time.UTC); !m.DeliveredAt.Equal(want) || m.DeliveredAt.Location() != time.UTC {
		t.Fatalf("delivered_at %v, want %v in UTC", m.DeliveredAt, want)
	}
	if !strings.Contains(string(m.Canonical()), "delivered_at\t2026-11-01T08:00:00.5Z\n") {
		t.Fatalf("fractional seconds not kept in the canonical form:\n%s", m.Canonical())
	}
}
