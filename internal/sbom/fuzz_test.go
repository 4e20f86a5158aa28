package sbom_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/sbom"
)

// FuzzParse feeds every file of testdata/ (and the corpus in testdata/fuzz) to Parse and,
// with a format chosen by the fuzzer, to ParseFormat. Neither may panic; an error must be a
// *ParseError; a document must have a non-empty, unique ref on every component and
// dependencies between known refs only (unknown ones are dropped with a warning). An
// error's Safe text never quotes echoMarker (seeds in testdata/fuzz/FuzzParse carry it).
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == "LICENSE" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f.Add(data, uint8(0))
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	formats := []sbom.Format{"", sbom.FormatCycloneDXJSON, sbom.FormatCycloneDXXML, sbom.FormatSPDXJSON, sbom.FormatSPDXTagValue}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		var doc *sbom.Document
		var err error
		if ft := formats[int(k)%len(formats)]; ft == "" {
			doc, err = sbom.Parse(data)
		} else {
			doc, err = sbom.ParseFormat(data, ft)
		}
		if err != nil {
			var pe *sbom.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			if bytes.Contains(data, []byte(echoMarker)) && strings.Contains(pe.Safe(), echoMarker) {
				t.Fatalf("Safe() quotes the document: %q", pe.Safe())
			}
			return
		}
		checkInvariants(t, doc)
	})
}
