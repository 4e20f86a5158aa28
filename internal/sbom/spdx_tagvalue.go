package sbom

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/v2_1"
	v21reader "github.com/spdx/tools-golang/spdx/v2/v2_1/tagvalue/reader"
	"github.com/spdx/tools-golang/spdx/v2/v2_2"
	v22reader "github.com/spdx/tools-golang/spdx/v2/v2_2/tagvalue/reader"
	v23reader "github.com/spdx/tools-golang/spdx/v2/v2_3/tagvalue/reader"
	"github.com/spdx/tools-golang/tagvalue/reader"
)

// tvPair is one tag: value pair with the line it starts on.
type tvPair struct {
	tag, value string
	line       int
}

// readTagValues splits tag-value text into pairs the way tools-golang's reader does, but
// keeping line numbers, accepting LF, CRLF and lone-CR line ends (old Mac tools) and lines
// of any length. A <text> value still open at the end of the input is closed there and
// its line returned as truncated.
func readTagValues(text []byte) (pairs []tvPair, truncated int, err error) {
	const f = FormatSPDXTagValue
	var (
		midtext   bool
		tag       string
		value     strings.Builder
		startLine int
	)
	lineNo := 0
	for pos := 0; pos < len(text); {
		end := bytes.IndexAny(text[pos:], "\r\n")
		next := len(text)
		if end < 0 {
			end = len(text)
		} else {
			end += pos
			next = end + 1
			if text[end] == '\r' && next < len(text) && text[next] == '\n' {
				next++
			}
		}
		line := string(text[pos:end])
		pos = next
		lineNo++
		if midtext {
			before, _, closed := strings.Cut(line, "</text>")
			if !closed {
				value.WriteString(line)
				value.WriteByte('\n')
				continue
			}
			value.WriteString(before)
			pairs = append(pairs, tvPair{tag: tag, value: value.String(), line: startLine})
			midtext = false
			continue
		}
		l := strings.TrimLeft(line, " \t\f\v")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		t, rest, ok := strings.Cut(l, ":")
		if !ok {
			return nil, 0, &ParseError{Format: f, Place: fmt.Sprintf("line %d", lineNo), Msg: `expected "Tag: value"`, Detail: "found " + quote(line)}
		}
		tag = strings.TrimSpace(t)
		if _, after, ok := strings.Cut(rest, "<text>"); ok {
			if inner, _, closed := strings.Cut(after, "</text>"); closed {
				pairs = append(pairs, tvPair{tag: tag, value: inner, line: lineNo})
				continue
			}
			value.Reset()
			value.WriteString(after)
			value.WriteByte('\n')
			midtext, startLine = true, lineNo
			continue
		}
		pairs = append(pairs, tvPair{tag: tag, value: strings.TrimSpace(rest), line: lineNo})
	}
	if midtext {
		pairs = append(pairs, tvPair{tag: tag, value: value.String(), line: startLine})
		truncated = startLine
	}
	return pairs, truncated, nil
}

// tagValueTags returns the tags tools-golang's parser knows for an SPDX version, keyed by
// their lower-case form.
func tagValueTags(version string) map[string]string {
	tags := []string{
		"AnnotationComment", "AnnotationDate", "AnnotationType", "Annotator",
		"ArtifactOfProjectHomePage", "ArtifactOfProjectName", "ArtifactOfProjectURI",
		"Created", "Creator", "CreatorComment", "DataLicense", "DocumentComment", "DocumentName",
		"DocumentNamespace", "ExternalDocumentRef", "ExternalRef", "ExternalRefComment",
		"ExtractedText", "FileChecksum", "FileComment", "FileContributor",
		"FileCopyrightText", "FileDependency", "FileName", "FileNotice", "FileType", "FilesAnalyzed",
		"LicenseComment", "LicenseComments", "LicenseConcluded", "LicenseCrossReference", "LicenseID",
		"LicenseInfoInFile", "LicenseInfoInSnippet", "LicenseListVersion", "LicenseName",
		"PackageChecksum", "PackageComment", "PackageCopyrightText",
		"PackageDescription", "PackageDownloadLocation", "PackageFileName", "PackageHomePage",
		"PackageLicenseComments", "PackageLicenseConcluded", "PackageLicenseDeclared",
		"PackageLicenseInfoFromFiles", "PackageName", "PackageOriginator", "PackageSourceInfo",
		"PackageSummary", "PackageSupplier", "PackageVerificationCode", "PackageVersion",
		"Relationship", "RelationshipComment", "ReviewComment", "ReviewDate", "Reviewer",
		"SPDXID", "SPDXREF", "SPDXVersion", "SnippetByteRange", "SnippetComment",
		"SnippetCopyrightText", "SnippetFromFileSPDXID", "SnippetLicenseComments",
		"SnippetLicenseConcluded", "SnippetLineRange", "SnippetName", "SnippetSPDXID",
	}
	if version != v2_1.Version {
		tags = append(tags, "FileAttributionText", "PackageAttributionText", "SnippetAttributionText")
	}
	if version == spdx.Version {
		tags = append(tags, "BuiltDate", "PrimaryPackagePurpose", "ReleaseDate", "ValidUntilDate")
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[strings.ToLower(t)] = t
	}
	return m
}

// spdxChecksumAlg spells a normalised algorithm key the way SPDX tag-value wants it.
func spdxChecksumAlg(key string) (string, bool) {
	a, ok := normalHashAlg(key)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(a, "SHA-") {
		return "SHA" + a[4:], true
	}
	return a, true
}

// parseSPDXTagValue reads pairs with line numbers, repairs what real documents get wrong
// (see repairTagValues) and hands the pairs to tools-golang's parser for the declared
// version, converting 2.1/2.2 to 2.3.
func parseSPDXTagValue(text []byte) (*Document, error) {
	const f = FormatSPDXTagValue
	pairs, truncated, err := readTagValues(text)
	if err != nil {
		return nil, err
	}
	version, versionLine := "", 0
	for _, p := range pairs {
		if strings.EqualFold(p.tag, "SPDXVersion") {
			version, versionLine = strings.TrimSpace(p.value), p.line
			break
		}
	}
	switch version {
	case v2_1.Version, v2_2.Version, spdx.Version:
	case "":
		return nil, &ParseError{Format: f, Place: "document", Msg: "no SPDXVersion tag"}
	default:
		return nil, &ParseError{Format: f, Place: fmt.Sprintf("line %d", versionLine), Msg: "unsupported SPDXVersion (SPDX-2.1, 2.2 and 2.3 are read)", Detail: quote(version)}
	}
	b := newBuilder(f, version)
	if truncated > 0 {
		b.warn("", WarnTruncated, fmt.Sprintf("the <text> value opened on line %d is never closed: the document looks truncated and was read up to its end", truncated))
	}
	pairs = b.repairTagValues(pairs, version)
	doc, err := b.parseTagValuePairs(pairs, version)
	if err != nil {
		return nil, err
	}
	b.fromSPDX(doc)
	return b.doc, nil
}

func parseTagValuesAs(version string, tvs []reader.TagValuePair) (*spdx.Document, error) {
	switch version {
	case v2_1.Version:
		d, err := v21reader.ParseTagValues(tvs)
		if err != nil {
			return nil, err
		}
		return toSPDX23(d)
	case v2_2.Version:
		d, err := v22reader.ParseTagValues(tvs)
		if err != nil {
			return nil, err
		}
		return toSPDX23(d)
	}
	return v23reader.ParseTagValues(tvs)
}

// parseTagValuePairs runs the library parser. Its errors carry no position, so the pair
// that fails is found by bisection over prefixes of the list (error path only). A tag the
// parser does not accept where it stands is dropped with a warning and parsing retried,
// within a budget of pairs parsed so that hostile input cannot make this quadratic.
func (b *builder) parseTagValuePairs(pairs []tvPair, version string) (*spdx.Document, error) {
	const f = FormatSPDXTagValue
	budget := 8*len(pairs) + 2_000_000
	for {
		tvs := make([]reader.TagValuePair, len(pairs))
		for i, p := range pairs {
			tvs[i] = reader.TagValuePair{Tag: p.tag, Value: p.value}
		}
		doc, err := parseTagValuesAs(version, tvs)
		if err == nil {
			return doc, nil
		}
		if len(pairs) == 0 {
			return nil, &ParseError{Format: f, Place: "document", Msg: "invalid SPDX document", Detail: err.Error(), Err: err}
		}
		msg := err.Error()
		budget -= len(tvs)
		lo, hi := 1, len(tvs)
		for lo < hi {
			mid := (lo + hi) / 2
			budget -= mid
			if _, e := parseTagValuesAs(version, tvs[:mid]); e != nil && e.Error() == msg {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		bad := pairs[lo-1]
		if strings.HasPrefix(msg, "received unknown tag") && budget > 0 {
			b.warn("", WarnRepaired, fmt.Sprintf("line %d: tag %s is not allowed there and was dropped", bad.line, quote(bad.tag)))
			pairs = append(pairs[:lo-1:lo-1], pairs[lo:]...)
			continue
		}
		return nil, &ParseError{Format: f, Place: fmt.Sprintf("line %d", bad.line), Msg: "a value the SPDX tag-value format does not accept",
			Detail: fmt.Sprintf("%s: %s", quote(bad.tag), msg), Err: err}
	}
}

// repairTagValues fixes what tools-golang refuses in tag-value SBOMs published by real
// projects though their meaning is plain: tags in the wrong case ("FIleCopyrightText"),
// tags unknown to the declared version (dropped), element ids without "SPDXRef-" (syft
// 0.3x), suppliers and originators without "Organization:"/"Person:", creators and
// annotators without a type, checksum algorithms spelled "SHA-256" or in lower case, and
// checksums without an algorithm (dropped), an SPDXID written before the name that opens
// its section. Each kind of repair gives one warning.
func (b *builder) repairTagValues(pairs []tvPair, version string) []tvPair {
	known := tagValueTags(version)
	type note struct {
		n     int
		first tvPair
	}
	notes := map[string]*note{}
	var order []string
	record := func(kind string, p tvPair) {
		nt, ok := notes[kind]
		if !ok {
			nt = &note{first: p}
			notes[kind] = nt
			order = append(order, kind)
		}
		nt.n++
	}
	out := pairs[:0:0]
	for _, p := range pairs {
		canon, ok := known[strings.ToLower(p.tag)]
		if !ok {
			record("unknown tag "+quote(p.tag)+" dropped", p)
			continue
		}
		if canon != p.tag {
			record("tag "+quote(p.tag)+" read as "+quote(canon), p)
			p.tag = canon
		}
		v := strings.TrimSpace(p.value)
		switch p.tag {
		case "SPDXID", "SnippetSPDXID", "SnippetFromFileSPDXID", "SPDXREF":
			if fixed, changed := fixElementID(v, false); changed {
				record("element ids without the SPDXRef- prefix prefixed", p)
				p.value = fixed
			}
		case "Relationship":
			if fs := strings.Fields(v); len(fs) == 3 {
				a, ca := fixElementID(fs[0], false)
				c, cc := fixElementID(fs[2], true)
				if ca || cc {
					record("element ids without the SPDXRef- prefix prefixed", p)
					p.value = a + " " + fs[1] + " " + c
				}
			}
		case "PackageSupplier", "PackageOriginator":
			if v != "NOASSERTION" {
				fixed, ok := hasPartyType(v, "Organization", "Person")
				if !ok {
					record("suppliers or originators without \"Person:\" or \"Organization:\" read as organisations", p)
					fixed = "Organization: " + v
				}
				p.value = fixed
			}
		case "Creator", "Annotator":
			fixed, ok := hasPartyType(v, "Person", "Organization", "Tool")
			if !ok {
				record("creators or annotators without \"Person:\", \"Organization:\" or \"Tool:\" read as tools", p)
				fixed = "Tool: " + v
			}
			p.value = fixed
		case "PackageChecksum", "FileChecksum":
			alg, val, found := strings.Cut(v, ":")
			a, ok := spdxChecksumAlg(algKey(alg))
			if !found || !ok {
				record("checksums without a known algorithm dropped", p)
				continue
			}
			p.value = a + ": " + strings.TrimSpace(val)
		}
		out = append(out, p)
	}
	// Some writers put an element's SPDXID before the PackageName or FileName that opens
	// its section; the parser would give it to the previous element. Only an SPDXID met
	// when the current section already has one is moved, so a standard document (where
	// SPDXID may be the last tag of its section) is left alone.
	hasID := false
	for i := 0; i < len(out); i++ {
		switch out[i].tag {
		case "PackageName", "FileName":
			hasID = false
		case "SnippetSPDXID", "LicenseID":
			hasID = true
		case "SPDXID":
			if hasID && i+1 < len(out) && (out[i+1].tag == "PackageName" || out[i+1].tag == "FileName") {
				out[i], out[i+1] = out[i+1], out[i]
				record("SPDXID written before the PackageName or FileName it belongs to moved after it", out[i+1])
				i++
			}
			hasID = true
		}
	}
	for _, kind := range order {
		nt := notes[kind]
		b.warn("", WarnRepaired, fmt.Sprintf("%s (%s)", kind, timesOnLine(nt.n, nt.first.line)))
	}
	return out
}

func timesOnLine(n, line int) string {
	if n == 1 {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("%d times, first on line %d", n, line)
}
