package sbom_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medguard/medguard/internal/sbom"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, path string) *sbom.Document {
	t.Helper()
	doc, err := sbom.Parse(readFile(t, path))
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return doc
}

// wardMonitor is the model of testdata/cyclonedx/ward-monitor-*.cdx.*, one logical
// document written in every CycloneDX version and both encodings.
func wardMonitor(f sbom.Format, spec string) *sbom.Document {
	return &sbom.Document{
		Format:      f,
		SpecVersion: spec,
		Serial:      "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
		Name:        "ward-monitor",
		Version:     "2.1.0",
		SubjectRef:  "app",
		Supplier:    "Medguard Test Hospital",
		Created:     time.Date(2024, 3, 1, 0, 30, 0, 0, time.UTC),
		Tools:       []string{"cyclonedx-gomod 1.4.0"},
		Components: []sbom.Component{
			{
				Ref:  "pkg:golang/github.com/gin-gonic/gin@v1.9.1",
				Type: "library", Name: "github.com/gin-gonic/gin", Version: "v1.9.1",
				PURL:     "pkg:golang/github.com/gin-gonic/gin@v1.9.1",
				Hashes:   []sbom.Hash{{Alg: "SHA-256", Value: "9f3c2d1a6b5e4f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"}},
				License:  "MIT",
				Supplier: "Gin Team",
				Scope:    "required",
			},
			{
				Ref:  "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
				Type: "library", Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1",
				PURL:     "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
				CPE:      "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
				Hashes:   []sbom.Hash{{Alg: "SHA-1", Value: "b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4"}},
				License:  "Apache-2.0", // licence name "apache-2.0" is an SPDX id
				Supplier: "The Apache Software Foundation",
				Scope:    "optional",
			},
			{
				Ref:  "spring",
				Type: "framework", Group: "org.springframework.boot", Name: "spring-boot", Version: "2.7.0",
				PURL:    "pkg:maven/org.springframework.boot/spring-boot@2.7.0",
				License: "Apache-2.0 AND MIT",
			},
			{
				Ref:    "component-4", // nested, without bom-ref
				Parent: "spring",
				Type:   "library", Group: "org.yaml", Name: "snakeyaml", Version: "1.30",
				PURL:    "pkg:maven/org.yaml/snakeyaml@1.30",
				License: "LicenseRef-Apache-License-Version-2.0",
			},
			{
				Ref:  "vendored-lib",
				Type: "library", Name: "libdicom", Version: "1.0",
				License:  "MIT OR GPL-2.0-only",
				Supplier: "Jane Roe",
			},
			{
				Ref:  "bad-purl",
				Type: "library", Name: "broken", Version: "0.1",
				PURL:    "pkg:npm/",
				License: "MIT ANDOR Apache-2.0",
			},
		},
		Dependencies: []sbom.Dependency{
			{Ref: "app", DependsOn: []string{"pkg:golang/github.com/gin-gonic/gin@v1.9.1", "spring", "vendored-lib"}},
			{Ref: "spring", DependsOn: []string{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}},
		},
		Warnings: []sbom.Warning{
			{Ref: "vendored-lib", Code: sbom.WarnMissingPURL, Message: `component "libdicom@1.0" has no purl`},
			{Ref: "bad-purl", Code: sbom.WarnInvalidPURL, Message: `component "broken@0.1" has an invalid purl "pkg:npm/": purl is missing name`},
			{Ref: "bad-purl", Code: sbom.WarnInvalidLicense, Message: `licence expression "MIT ANDOR Apache-2.0" is not a valid SPDX expression; kept as declared`},
			{Code: sbom.WarnUnknownDependencyRef, Message: `dependency on unknown ref "missing-ref" dropped`},
		},
	}
}

func TestParseCycloneDX(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"1.2", "1.3", "1.4", "1.5", "1.6"} {
		for _, enc := range []struct {
			ext string
			f   sbom.Format
		}{{"json", sbom.FormatCycloneDXJSON}, {"xml", sbom.FormatCycloneDXXML}} {
			name := "ward-monitor-" + spec + ".cdx." + enc.ext
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				got := mustParse(t, filepath.Join("testdata", "cyclonedx", name))
				if diff := cmp.Diff(wardMonitor(enc.f, spec), got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("model (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// labGateway is the model of testdata/spdx/lab-gateway-*: the described package is the
// subject, the file and the external document are not dependencies.
func labGateway(f sbom.Format, spec string) *sbom.Document {
	v23 := spec == "SPDX-2.3"
	typ := func(t string) string {
		if v23 {
			return t
		}
		return "library"
	}
	return &sbom.Document{
		Format:      f,
		SpecVersion: spec,
		Serial:      "https://sbom.example.org/lab-gateway/1.4.2-7f0d",
		Name:        "lab-gateway",
		Version:     "1.4.2",
		SubjectRef:  "SPDXRef-Package-lab-gateway",
		Supplier:    "Example Labs",
		Created:     time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Tools:       []string{"syft-1.0.0"},
		Components: []sbom.Component{
			{
				Ref:  "SPDXRef-Package-openssl",
				Type: "library", Name: "openssl", Version: "3.0.7",
				PURL: "pkg:generic/openssl@3.0.7",
				CPE:  "cpe:2.3:a:openssl:openssl:3.0.7:*:*:*:*:*:*:*",
				Hashes: []sbom.Hash{
					{Alg: "SHA-256", Value: "1d5c6f7b2e0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706"},
					{Alg: "SHA-1", Value: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"},
				},
				License:  "Apache-2.0", // concluded NOASSERTION, declared Apache-2.0
				Supplier: "OpenSSL Software Foundation",
			},
			{
				Ref:  "SPDXRef-Package-hl7",
				Type: typ("framework"), Name: "hapi-base", Version: "2.3",
				PURL:     "pkg:maven/ca.uhn.hapi/hapi-base@2.3", // category PACKAGE_MANAGER
				License:  "MPL-1.1 OR GPL-3.0-only",
				Supplier: "James Agnew", // originator, the supplier being NOASSERTION
			},
			{
				Ref:  "SPDXRef-Package-firmware",
				Type: typ("firmware"), Name: "pump-firmware", Version: "5.1",
				Hashes:  []sbom.Hash{{Alg: "MD5", Value: "9e107d9d372bb6826bd81d3542a419d6"}},
				License: "LicenseRef-Vendor-EULA",
			},
		},
		Dependencies: []sbom.Dependency{
			{Ref: "SPDXRef-Package-lab-gateway", DependsOn: []string{"SPDXRef-Package-openssl", "SPDXRef-Package-hl7", "SPDXRef-Package-firmware"}},
		},
		Warnings: []sbom.Warning{
			{Ref: "SPDXRef-Package-firmware", Code: sbom.WarnMissingPURL, Message: `component "pump-firmware@5.1" has no purl`},
			{Code: sbom.WarnUnknownDependencyRef, Message: `dependency on unknown ref "SPDXRef-Package-ghost" dropped`},
		},
	}
}

func TestParseSPDX(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want *sbom.Document
	}{
		{"lab-gateway-2.2.spdx.json", labGateway(sbom.FormatSPDXJSON, "SPDX-2.2")},
		{"lab-gateway-2.3.spdx.json", labGateway(sbom.FormatSPDXJSON, "SPDX-2.3")},
		{"lab-gateway-2.2.spdx", labGateway(sbom.FormatSPDXTagValue, "SPDX-2.2")},
		{"lab-gateway-2.3.spdx", labGateway(sbom.FormatSPDXTagValue, "SPDX-2.3")},
		{"single-package.spdx.json", &sbom.Document{
			// The only package is the subject and also the one component.
			Format: sbom.FormatSPDXJSON, SpecVersion: "SPDX-2.3",
			Serial: "https://sbom.example.org/dicom-viewer/3.2.1",
			Name:   "dicom-viewer", Version: "3.2.1", SubjectRef: "SPDXRef-Package-viewer",
			Supplier: "Imaging Vendor Ltd.",
			Created:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Tools:    []string{"handwritten"},
			Components: []sbom.Component{{
				Ref: "SPDXRef-Package-viewer", Type: "operating-system", Name: "dicom-viewer", Version: "3.2.1",
				PURL: "pkg:generic/imaging/dicom-viewer@3.2.1", License: "BSD-3-Clause", Supplier: "Imaging Vendor Ltd.",
			}},
		}},
		{"quirks-syft.spdx.json", &sbom.Document{
			Format: sbom.FormatSPDXJSON, SpecVersion: "SPDX-2.2",
			Serial:   "https://anchore.com/syft/file/nurse-call-0.3.0",
			Name:     "nurse-call_0.3.0_source_code.tar.gz",
			Supplier: "Anchore, Inc",
			Created:  time.Date(2022, 2, 1, 10, 11, 12, 123456000, time.UTC),
			Tools:    []string{"syft-0.33.0"},
			Components: []sbom.Component{
				{
					Ref: "SPDXRef-50f407f0ce01b5bb", Type: "library", Name: "github.com/gorilla/websocket", Version: "v1.5.0",
					PURL: "pkg:golang/github.com/gorilla/websocket@v1.5.0", CPE: "cpe:2.3:a:gorilla:websocket:v1.5.0:*:*:*:*:*:*:*",
					License: "BSD-2-Clause", Supplier: "Microsoft/GitHub",
				},
				{Ref: "SPDXRef-58c9feceb490d547", Type: "library", Name: "golang.org/x/net", Version: "v0.7.0", PURL: "pkg:golang/golang.org/x/net@v0.7.0"},
			},
			Dependencies: []sbom.Dependency{{Ref: "SPDXRef-50f407f0ce01b5bb", DependsOn: []string{"SPDXRef-58c9feceb490d547"}}},
			Warnings: []sbom.Warning{
				{Code: sbom.WarnRepaired, Message: `4 element ids without the SPDXRef- prefix were prefixed (first: "50f407f0ce01b5bb")`},
				{Code: sbom.WarnRepaired, Message: `1 suppliers or originators without "Person:" or "Organization:" were read as organisations (first: "Microsoft/GitHub")`},
				{Code: sbom.WarnRepaired, Message: `1 creators or annotators without "Person:", "Organization:" or "Tool:" were read as tools (first: "syft-0.33.0")`},
			},
		}},
		{"quirks-cr.spdx", &sbom.Document{
			// Lone CR line ends, SPDXID before PackageName, a tag in the wrong case.
			Format: sbom.FormatSPDXTagValue, SpecVersion: "SPDX-2.2",
			Serial:  "https://pub.example/packages/infusion-pump",
			Name:    "infusion-pump",
			Created: time.Date(2022, 1, 15, 10, 16, 33, 0, time.UTC),
			Tools:   []string{"https://pub.example/packages/sbom"},
			Components: []sbom.Component{
				{Ref: "SPDXRef-Package-pump", Type: "library", Name: "pump-core", Version: "2.0.0", License: "MIT"},
				{Ref: "SPDXRef-Package-crc", Type: "library", Name: "crc32", Version: "1.1", PURL: "pkg:pub/crc32@1.1", License: "BSD-3-Clause", Supplier: "Ada Lovelace"},
			},
			Dependencies: []sbom.Dependency{{Ref: "SPDXRef-Package-pump", DependsOn: []string{"SPDXRef-Package-crc"}}},
			Warnings: []sbom.Warning{
				{Code: sbom.WarnRepaired, Message: `tag "PACKAGEsupplier" read as "PackageSupplier" (line 22)`},
				{Code: sbom.WarnRepaired, Message: `SPDXID written before the PackageName or FileName it belongs to moved after it (2 times, first on line 9)`},
				{Ref: "SPDXRef-Package-pump", Code: sbom.WarnMissingPURL, Message: `component "pump-core@2.0.0" has no purl`},
			},
		}},
		{"quirks-truncated.spdx", &sbom.Document{
			Format: sbom.FormatSPDXTagValue, SpecVersion: "SPDX-2.3",
			Serial: "https://sbom.example.org/ventilator/7",
			Name:   "ventilator", Version: "7.0", SubjectRef: "SPDXRef-ventilator",
			Supplier: "Ventilator Corp",
			Created:  time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC),
			Tools:    []string{"Vent Build Pipeline"},
			Components: []sbom.Component{{
				Ref: "SPDXRef-zlib", Type: "library", Name: "zlib", Version: "1.2.13", PURL: "pkg:generic/zlib@1.2.13",
				Hashes:  []sbom.Hash{{Alg: "SHA-256", Value: "9a93b2b7dfdac77ceba5a558a580e74667dd6fede4585b91eefb60f03b72df23"}},
				License: "Zlib",
			}},
			Dependencies: []sbom.Dependency{{Ref: "SPDXRef-ventilator", DependsOn: []string{"SPDXRef-zlib"}}},
			Warnings: []sbom.Warning{
				{Code: sbom.WarnTruncated, Message: `the <text> value opened on line 28 is never closed: the document looks truncated and was read up to its end`},
				{Code: sbom.WarnRepaired, Message: `creators or annotators without "Person:", "Organization:" or "Tool:" read as tools (line 7)`},
				{Code: sbom.WarnRepaired, Message: `element ids without the SPDXRef- prefix prefixed (4 times, first on line 9)`},
				{Code: sbom.WarnRepaired, Message: `suppliers or originators without "Person:" or "Organization:" read as organisations (line 14)`},
				{Code: sbom.WarnRepaired, Message: `checksums without a known algorithm dropped (line 23)`},
				{Code: sbom.WarnRepaired, Message: `unknown tag "PackageFavouriteColour" dropped (line 24)`},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, filepath.Join("testdata", "spdx", tt.file))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("model (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseRealSamples checks the small published SBOMs copied into testdata/real.
func TestParseRealSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file        string
		format      sbom.Format
		name        string
		components  int
		warnings    map[string]int
		check       func(t *testing.T, d *sbom.Document)
		notInOutput []string // component names that must not appear
	}{
		{
			file: "cyclonedx-examples/cern-lhc-vdm-editor-bom.json", format: sbom.FormatCycloneDXJSON,
			name: "lhc-vdm-editor", components: 43, warnings: map[string]int{},
			notInOutput: []string{"lhc-vdm-editor"}, // the subject is not a component
			check: func(t *testing.T, d *sbom.Document) {
				c := d.Components[0]
				if c.Name != "puppeteer" || c.PURL != "pkg:npm/puppeteer@1.19.0" || c.License != "Apache-2.0" || len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-512" {
					t.Errorf("first component = %+v", c)
				}
				if d.Tools[0] != "Node.js module 2.0.0" {
					t.Errorf("tools = %q", d.Tools)
				}
			},
		},
		{
			file: "osv-scanner/alpine-zlib-16.cdx.json", format: sbom.FormatCycloneDXJSON,
			components: 1, warnings: map[string]int{},
			check: func(t *testing.T, d *sbom.Document) {
				want := "pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.22.0&origin=zlib"
				if d.SpecVersion != "1.6" || d.Components[0].PURL != want || d.Tools[0] != "SCALIBR" {
					t.Errorf("got %+v", d)
				}
			},
		},
		{
			file: "osv-scanner/bad-purls.cdx.xml", format: sbom.FormatCycloneDXXML,
			name: "alpine:latest", components: 16,
			warnings: map[string]int{sbom.WarnInvalidPURL: 6, sbom.WarnMissingPURL: 2, sbom.WarnMissingName: 2},
		},
		{
			file: "osv-scanner/with-duplicates.cdx.xml", format: sbom.FormatCycloneDXXML,
			name: "alpine:latest", components: 16, // 18 listed, two of them twice
			warnings: map[string]int{sbom.WarnDuplicateRef: 2, sbom.WarnMissingPURL: 2},
		},
		{
			file: "osv-scanner/only-unimportant.spdx.json", format: sbom.FormatSPDXJSON,
			name: "SCALIBR-generated SPDX", components: 1, warnings: map[string]int{},
			check: func(t *testing.T, d *sbom.Document) {
				if c := d.Components[0]; c.Name != "libpcre3" || c.PURL != "pkg:deb/ubuntu/pcre3@2%3A8.39-12ubuntu0.1?arch=amd64&distro=focal&source=pcre3" {
					t.Errorf("component = %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			d := mustParse(t, filepath.Join("testdata", "real", tt.file))
			if d.Format != tt.format || d.Name != tt.name || len(d.Components) != tt.components {
				t.Errorf("format %s name %q components %d; want %s %q %d", d.Format, d.Name, len(d.Components), tt.format, tt.name, tt.components)
			}
			codes := map[string]int{}
			for _, w := range d.Warnings {
				codes[w.Code]++
			}
			if diff := cmp.Diff(tt.warnings, codes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warning counts (-want +got):\n%s", diff)
			}
			for _, c := range d.Components {
				for _, n := range tt.notInOutput {
					if c.Name == n {
						t.Errorf("component %q must not be listed", n)
					}
				}
			}
			checkInvariants(t, d)
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

// checkInvariants asserts what holds for every parsed document: unique non-empty refs,
// parents that precede their children, dependencies between known refs only.
func checkInvariants(t testing.TB, d *sbom.Document) {
	t.Helper()
	refs := map[string]bool{}
	for _, c := range d.Components {
		if c.Ref == "" {
			t.Fatalf("component %+v has no ref", c)
		}
		if refs[c.Ref] {
			t.Fatalf("ref %q used twice", c.Ref)
		}
		if c.Parent != "" && !refs[c.Parent] && c.Parent != d.SubjectRef {
			t.Fatalf("component %q: parent %q not listed before it", c.Ref, c.Parent)
		}
		refs[c.Ref] = true
	}
	for _, dep := range d.Dependencies {
		for _, r := range append([]string{dep.Ref}, dep.DependsOn...) {
			if !refs[r] && (r == "" || r != d.SubjectRef) {
				t.Fatalf("dependency ref %q is neither a component nor the subject", r)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		format  sbom.Format // "" when detection fails
		place   string
		msg     string // in Msg, and so in Safe
		detail  string // quoted from the document: in Error, never in Safe
		notSBOM bool
	}{
		{"array.json", "", "document", "a JSON document whose top level is not an object", "", true},
		{"wrongns.cdx.xml", "", "line 2", "root element bom in another namespace", `namespace "http://example.org/not-cyclonedx"`, true},
		{"trailing.cdx.json", sbom.FormatCycloneDXJSON, "line 7, column 1", "data after the end of the JSON document", `"Contact Us | Terms of Use\n"`, false},
		{"truncated.cdx.json", sbom.FormatCycloneDXJSON, "line 6, column 38", "invalid JSON", "unexpected end of JSON input", false},
		{"type.cdx.json", sbom.FormatCycloneDXJSON, "line 7, column 85 (/components/1/hashes/0/content)", "field components.hashes.content: JSON number where a string was expected", "", false},
		{"badspec.cdx.json", sbom.FormatCycloneDXJSON, "line 3, column 18 (/specVersion)", "unsupported CycloneDX specVersion", "9.9", false},
		{"syntax.spdx.json", sbom.FormatSPDXJSON, "line 5, column 3", "invalid JSON", `invalid character '"' after object key:value pair`, false},
		{"spdx30.spdx.json", sbom.FormatSPDXJSON, "line 2, column 18 (/spdxVersion)", "unsupported spdxVersion", "SPDX-3.0", false},
		{"emptyid.spdx.json", sbom.FormatSPDXJSON, "line 7, column 35 (/packages/1/SPDXID)", "empty element id", "", false},
		{"supplier-number.spdx.json", sbom.FormatSPDXJSON, "line 7, column 18 (/packages/0/supplier)", "expected a string, found a number", "", false},
		{"mismatched.cdx.xml", sbom.FormatCycloneDXXML, "line 6", "invalid CycloneDX XML", "element <version> closed by </versoin>", false},
		{"nocolon.spdx", sbom.FormatSPDXTagValue, "line 10", `expected "Tag: value"`, `found "this line has no colon"`, false},
		{"badrel.spdx", sbom.FormatSPDXTagValue, "line 12", "a value the SPDX tag-value format does not accept", `"Relationship": invalid relationship format`, false},
		{"unsupported.spdx", sbom.FormatSPDXTagValue, "line 1", "unsupported SPDXVersion", `"SPDX-1.2"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			doc, err := sbom.Parse(readFile(t, filepath.Join("testdata", "broken", tt.file)))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", doc)
			}
			if doc != nil {
				t.Errorf("a document came back with the error")
			}
			var pe *sbom.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Format != tt.format || pe.Place != tt.place || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got format %q place %q msg %q; want %q %q containing %q", pe.Format, pe.Place, pe.Msg, tt.format, tt.place, tt.msg)
			}
			if errors.Is(err, sbom.ErrNotSBOM) != tt.notSBOM {
				t.Errorf("errors.Is(ErrNotSBOM) = %v", !tt.notSBOM)
			}
			if !strings.HasPrefix(err.Error(), "sbom: ") || !strings.Contains(err.Error(), tt.place+": ") || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("Error() = %q, want the place %q and %q", err, tt.place, tt.detail)
			}
			// Safe is what a client of the server sees: the line, the message, no quote
			// from the document, no JSON pointer, no package prefix.
			safe := pe.Safe()
			line, _, _ := strings.Cut(tt.place, " (")
			if !strings.Contains(safe, line+": "+pe.Msg) || strings.Contains(safe, "sbom:") || strings.Contains(safe, " (/") ||
				tt.detail != "" && strings.Contains(safe, tt.detail) {
				t.Errorf("Safe() = %q, want the place %q and no %q", safe, line, tt.detail)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	utf16 := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	tests := []struct {
		name  string
		input []byte
		want  sbom.Format // "" = rejected
	}{
		{"cyclonedx json", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5"}`), sbom.FormatCycloneDXJSON},
		{"cyclonedx json, key late", []byte(`{"components":[{"name":"x"}],"version":1,"bomFormat":"CycloneDX"}`), sbom.FormatCycloneDXJSON},
		{"cyclonedx json by $schema", []byte(`{"$schema":"http://cyclonedx.org/schema/bom-1.5.schema.json","components":[]}`), sbom.FormatCycloneDXJSON},
		{"cyclonedx json by specVersion", []byte(`{"specVersion":"1.4","components":[]}`), sbom.FormatCycloneDXJSON},
		{"utf-8 bom and white space", append([]byte("\xEF\xBB\xBF \n\t"), `{"bomFormat":"CycloneDX"}`...), sbom.FormatCycloneDXJSON},
		{"utf-16", utf16(`{"spdxVersion":"SPDX-2.3"}`), sbom.FormatSPDXJSON},
		{"utf-16 without bom", utf16(`{"spdxVersion":"SPDX-2.3"}`)[2:], sbom.FormatSPDXJSON},
		{"utf-16, odd length", utf16(`{"spdxVersion":"SPDX-2.3"}`)[:9], ""},
		{"spdx json", []byte(`{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.2"}`), sbom.FormatSPDXJSON},
		{"cyclonedx xml", []byte(`<?xml version="1.0"?><!-- made by hand --><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`), sbom.FormatCycloneDXXML},
		{"cyclonedx xml, latin-1", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.3\">\xe9</bom>"), sbom.FormatCycloneDXXML},
		{"tag-value", []byte("# comment\n\nSPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n"), sbom.FormatSPDXTagValue},
		{"tag-value, CR line ends", []byte("DataLicense: CC0-1.0\r  SPDXVersion : SPDX-2.2\r"), sbom.FormatSPDXTagValue},
		{"empty", nil, ""},
		{"white space", []byte(" \n "), ""},
		{"json without markers", []byte(`{"name":"x","packages":[]}`), ""},
		{"bomFormat not CycloneDX", []byte(`{"bomFormat":"Other"}`), ""},
		{"json array", []byte(`[{"bomFormat":"CycloneDX"}]`), ""},
		{"toml", []byte("[[PackageOverrides]]\nname = \"x\"\n"), ""},
		{"spdx rdf", []byte(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>`), ""},
		{"other xml", []byte(`<Project Sdk="Microsoft.NET.Sdk"/>`), ""},
		{"SPDXVersion not at line start", []byte("Comment: SPDXVersion: SPDX-2.3\n"), ""},
		{"text", []byte("requests==2.31.0\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sbom.Detect(tt.input)
			if got != tt.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tt.want)
			}
			if tt.want == "" {
				var pe *sbom.ParseError
				if !errors.As(err, &pe) {
					t.Errorf("error %v is not a *ParseError", err)
				}
			} else if err != nil {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	cdx := readFile(t, filepath.Join("testdata", "cyclonedx", "ward-monitor-1.4.cdx.json"))
	if _, err := sbom.ParseFormat(cdx, sbom.FormatCycloneDXJSON); err != nil {
		t.Errorf("right format: %v", err)
	}
	for _, f := range []sbom.Format{sbom.FormatCycloneDXXML, sbom.FormatSPDXTagValue, "yaml"} {
		if _, err := sbom.ParseFormat(cdx, f); err == nil {
			t.Errorf("ParseFormat(cyclonedx json, %s) succeeded", f)
		}
	}
	// SPDX JSON read as CycloneDX JSON has no components, not an error worth hiding:
	// the format was the caller's choice.
	spdx := readFile(t, filepath.Join("testdata", "spdx", "lab-gateway-2.3.spdx.json"))
	doc, err := sbom.ParseFormat(spdx, sbom.FormatCycloneDXJSON)
	if err != nil || len(doc.Components) != 0 {
		t.Errorf("got %v, %v", doc, err)
	}
}

func TestParseTooBig(t *testing.T) {
	t.Parallel()
	big := make([]byte, sbom.MaxSize+1)
	for _, fn := range []func() error{
		func() error { _, err := sbom.Parse(big); return err },
		func() error { _, err := sbom.ParseFormat(big, sbom.FormatSPDXTagValue); return err },
	} {
		var pe *sbom.ParseError
		if err := fn(); !errors.As(err, &pe) || pe.Place != "input" || !strings.Contains(pe.Msg, "more than") {
			t.Errorf("error = %v", err)
		}
	}
}

func TestParseLicences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		licenses string // JSON array
		want     string
		warn     string // expected warning code, "" for none
	}{
		{"id", `[{"license":{"id":"MIT"}}]`, "MIT", ""},
		{"id in the wrong case", `[{"license":{"id":"apache-2.0"}}]`, "Apache-2.0", ""},
		{"unknown id kept", `[{"license":{"id":"Apache 2"}}]`, "Apache 2", sbom.WarnInvalidLicense},
		{"expression", `[{"expression":"(MIT OR Apache-2.0) AND BSD-2-Clause"}]`, "(MIT OR Apache-2.0) AND BSD-2-Clause", ""},
		{"name that is an id", `[{"license":{"name":"bsd-3-clause"}}]`, "BSD-3-Clause", ""},
		{"name", `[{"license":{"name":"GNU General Public License v2.0 (GPLv2)"}}]`, "LicenseRef-GNU-General-Public-License-v2.0-GPLv2", ""},
		{"name without usable characters", `[{"license":{"name":"专有许可"}}]`, "", sbom.WarnInvalidLicense},
		{"several, compound parenthesised", `[{"license":{"id":"MIT"}},{"expression":"Apache-2.0 OR GPL-2.0-only"},{"expression":"(BSD-2-Clause OR ISC)"}]`, "MIT AND (Apache-2.0 OR GPL-2.0-only) AND (BSD-2-Clause OR ISC)", ""},
		{"duplicates once", `[{"license":{"id":"MIT"}},{"license":{"name":"MIT"}}]`, "MIT", ""},
		{"NOASSERTION and NONE", `[{"license":{"id":"NOASSERTION"}},{"expression":"NONE"},{"license":{"name":"noassertion"}}]`, "", ""},
		{"with exception", `[{"expression":"GPL-2.0-only WITH Classpath-exception-2.0"}]`, "GPL-2.0-only WITH Classpath-exception-2.0", ""},
		{"invalid expression kept", `[{"expression":"MIT AND"}]`, "MIT AND", sbom.WarnInvalidLicense},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := `{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[{"bom-ref":"c","type":"library","name":"c","purl":"pkg:npm/c@1","licenses":` + tt.licenses + `}]}`
			doc, err := sbom.Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Components[0].License; got != tt.want {
				t.Errorf("License = %q, want %q", got, tt.want)
			}
			var codes []string
			for _, w := range doc.Warnings {
				codes = append(codes, w.Code)
				if w.Ref != "c" {
					t.Errorf("warning %+v does not name the component", w)
				}
			}
			want := []string{}
			if tt.warn != "" {
				want = append(want, tt.warn)
			}
			if diff := cmp.Diff(want, codes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRefs(t *testing.T) {
	t.Parallel()
	// A synthesised ref must not collide with a declared one; a different component with
	// a taken ref is renamed; an identical repeat is dropped.
	in := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
	"metadata":{"component":{"bom-ref":"root","name":"root","components":[{"bom-ref":"part","name":"part","purl":"pkg:npm/part@1"}]}},
	"components":[
	  {"name":"a","purl":"pkg:npm/a@1"},
	  {"bom-ref":"component-2","name":"b","purl":"pkg:npm/b@1"},
	  {"bom-ref":"x","name":"c","purl":"pkg:npm/c@1","hashes":[{"alg":"SHA-256","content":"not hex"}]},
	  {"bom-ref":"x","name":"d","purl":"pkg:npm/d@1"},
	  {"bom-ref":"x","name":"c","purl":"pkg:npm/c@1","hashes":[{"alg":"SHA-256","content":"not hex"}]}
	],
	"dependencies":[{"ref":"root","dependsOn":["x","part","x","root"]},{"ref":"ghost","dependsOn":["x"]},{"ref":"x","dependsOn":["ghost"]}]}`
	doc, err := sbom.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, c := range doc.Components {
		refs = append(refs, c.Ref+"<"+c.Parent)
	}
	if diff := cmp.Diff([]string{"part<root", "component-2-2<", "component-2<", "x<", "x#2<"}, refs); diff != "" {
		t.Errorf("refs<parent (-want +got):\n%s", diff)
	}
	wantDeps := []sbom.Dependency{{Ref: "root", DependsOn: []string{"x", "part"}}, {Ref: "x"}}
	if diff := cmp.Diff(wantDeps, doc.Dependencies, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
	var codes []string
	for _, w := range doc.Warnings {
		codes = append(codes, w.Ref+":"+w.Code)
	}
	wantCodes := []string{
		"x:" + sbom.WarnInvalidHash,
		"x#2:" + sbom.WarnDuplicateRef,
		"x:" + sbom.WarnDuplicateRef,
		":" + sbom.WarnUnknownDependencyRef,
	}
	if diff := cmp.Diff(wantCodes, codes); diff != "" {
		t.Errorf("warnings (-want +got):\n%s\n%+v", diff, doc.Warnings)
	}
	checkInvariants(t, doc)
}

func TestParseDeepNesting(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[`)
	const depth = 300
	for i := 0; i < depth; i++ {
		b.WriteString(`{"type":"library","name":"n","purl":"pkg:npm/n@1","components":[`)
	}
	b.WriteString(strings.Repeat(`]}`, depth))
	b.WriteString(`]}`)
	doc, err := sbom.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(doc.Components); n != 257 {
		t.Errorf("%d components, want the 257 levels read", n)
	}
	if last := doc.Warnings[len(doc.Warnings)-1]; last.Code != sbom.WarnTooDeep {
		t.Errorf("last warning %+v", last)
	}
	checkInvariants(t, doc)
}

// echoMarker stands for a patient identifier put where a parser might quote it.
const echoMarker = "440305198807150031"

// TestParseErrorsDoNotQuoteTheDocument parses broken documents that carry echoMarker
// where an error could quote it: Safe, what a client of the server is shown, names the
// place and never the marker nor the package prefix; Error, for the command line, may.
func TestParseErrorsDoNotQuoteTheDocument(t *testing.T) {
	t.Parallel()
	cdx := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[]}`
	tests := []struct {
		name, doc, place string
	}{
		{"trailing data", cdx + "\n" + echoMarker + " Contact us", "line 2, column 1"},
		{"syntax", `{"bomFormat":"CycloneDX","specVersion":"1.5",` + "\n" + `"x` + echoMarker + `" 1}`, "line 2"},
		{"spec version", `{"bomFormat":"CycloneDX","specVersion":"` + echoMarker + `"}`, "line 1"},
		{"number too large", `{"bomFormat":"CycloneDX","specVersion":"1.5","version":` + echoMarker + `0000000000}`, "line 1"},
		{"component type", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"a","hashes":[{"alg":"SHA-256","content":` + echoMarker + `}]}]}`, "line 1"},
		{"XML mismatch", "<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">\n<a" + echoMarker + "></b>\n</bom>", "line 3"},
		{"XML root", "<?xml version=\"1.0\"?>\n<p" + echoMarker + "/>", "line 2"},
		{"XML namespace", "<bom xmlns=\"http://example.org/" + echoMarker + "\"></bom>", "line 1"},
		{"tag-value line", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n患者 " + echoMarker + "\n", "line 4"},
		{"tag-value version", "SPDXVersion: SPDX-" + echoMarker + "\n", "line 1"},
		{"tag-value value", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nDocumentNamespace: http://x\nCreator: Tool: x\nCreated: 2024-01-01T00:00:00Z\nRelationship: " + echoMarker + "\n", "line 8"},
		{"SPDX JSON version", `{"spdxVersion":"SPDX-` + echoMarker + `"}`, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sbom.Parse([]byte(tt.doc))
			var pe *sbom.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			safe := pe.Safe()
			if strings.Contains(safe, echoMarker) || strings.Contains(safe, "sbom:") || !strings.Contains(safe, tt.place) {
				t.Errorf("Safe() = %q, want %q and neither the marker nor the package", safe, tt.place)
			}
		})
	}
}
