package sbom

import (
	"fmt"
	"strings"

	"github.com/spdx/tools-golang/convert"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// toSPDX23 converts an SPDX 2.1 or 2.2 document of tools-golang to its 2.3 (current) model,
// the way its json and tagvalue readers do.
func toSPDX23(from any) (*spdx.Document, error) {
	var doc spdx.Document
	if err := convert.Document(from, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

func spdxRef(id common.ElementID) string { return "SPDXRef-" + string(id) }

// fromSPDX maps a tools-golang document (2.3 model). The subject is chosen thus:
//   - exactly one package described by the document (DESCRIBES from the document,
//     documentDescribes, DESCRIBED_BY to it): that package gives Name, Version, SubjectRef
//     and Supplier and is not a component — unless it is the document's only package, in
//     which case it is also a component (it is all the document lists);
//   - several described packages (an SBOM of several images, say) or none: there is no
//     single subject; Name is the document name and every package is a component.
//
// Files and snippets are not components. Dependencies come from DEPENDS_ON and CONTAINS
// (from → to) and DEPENDENCY_OF, *_DEPENDENCY_OF and CONTAINED_BY (reversed) between
// packages; relationships with files, snippets, the document or other documents are not
// dependencies.
func (b *builder) fromSPDX(doc *spdx.Document) {
	d := b.doc
	d.Serial = strings.TrimSpace(doc.DocumentNamespace)
	d.Name = strings.TrimSpace(doc.DocumentName)
	orgCreator := ""
	if ci := doc.CreationInfo; ci != nil {
		b.created(ci.Created)
		for _, c := range ci.Creators {
			switch c.CreatorType {
			case "Tool":
				if t := strings.TrimSpace(c.Creator); t != "" {
					d.Tools = append(d.Tools, t)
				}
			case "Organization":
				if orgCreator == "" {
					orgCreator = partyName(c.Creator)
				}
			}
		}
	}

	docID := doc.SPDXIdentifier
	if docID == "" {
		docID = "DOCUMENT"
	}
	packages := map[common.ElementID]*spdx.Package{}
	var pkgs []*spdx.Package
	for _, p := range doc.Packages {
		if p == nil {
			continue
		}
		pkgs = append(pkgs, p)
		if _, dup := packages[p.PackageSPDXIdentifier]; !dup {
			packages[p.PackageSPDXIdentifier] = p
		}
	}
	// Elements that exist but are not components.
	others := map[common.ElementID]bool{docID: true}
	for _, f := range doc.Files {
		if f != nil {
			others[f.FileSPDXIdentifier] = true
		}
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			if f != nil {
				others[f.FileSPDXIdentifier] = true
			}
		}
	}
	for _, s := range doc.Snippets {
		others[s.SnippetSPDXIdentifier] = true
	}

	var described []common.ElementID
	seenDescribed := map[common.ElementID]bool{}
	for _, r := range doc.Relationships {
		if r == nil {
			continue
		}
		var id common.ElementID
		switch strings.ToUpper(strings.TrimSpace(r.Relationship)) {
		case common.TypeRelationshipDescribe:
			if r.RefA.DocumentRefID == "" && r.RefA.ElementRefID == docID && r.RefB.DocumentRefID == "" {
				id = r.RefB.ElementRefID
			}
		case common.TypeRelationshipDescribeBy:
			if r.RefB.DocumentRefID == "" && r.RefB.ElementRefID == docID && r.RefA.DocumentRefID == "" {
				id = r.RefA.ElementRefID
			}
		}
		if _, isPkg := packages[id]; isPkg && !seenDescribed[id] {
			seenDescribed[id] = true
			described = append(described, id)
		}
	}
	var subject *spdx.Package
	if len(described) == 1 {
		subject = packages[described[0]]
		d.SubjectRef = spdxRef(subject.PackageSPDXIdentifier)
		if n := strings.TrimSpace(subject.PackageName); n != "" {
			d.Name = n
		}
		d.Version = strings.TrimSpace(subject.PackageVersion)
		d.Supplier = packageSupplier(subject)
	}
	if d.Supplier == "" {
		d.Supplier = orgCreator
	}

	for _, p := range pkgs {
		b.declared[spdxRef(p.PackageSPDXIdentifier)] = true
	}
	for _, p := range pkgs {
		if subject != nil && p == subject && len(pkgs) > 1 {
			continue
		}
		c := Component{
			Ref:      spdxRef(p.PackageSPDXIdentifier),
			Type:     packageType(p.PrimaryPackagePurpose),
			Name:     strings.TrimSpace(p.PackageName),
			Version:  strings.TrimSpace(p.PackageVersion),
			Supplier: packageSupplier(p),
		}
		if p.PackageSPDXIdentifier == "" {
			c.Ref = ""
		}
		mark := len(d.Warnings)
		for _, ref := range p.PackageExternalReferences {
			if ref == nil {
				continue
			}
			cat := strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(ref.Category)), "_", "-")
			typ := strings.ToLower(strings.TrimSpace(ref.RefType))
			loc := strings.TrimSpace(ref.Locator)
			switch {
			case cat == "PACKAGE-MANAGER" && typ == "purl" && c.PURL == "":
				c.PURL = loc
			case cat == "SECURITY" && typ == "cpe23type" && !strings.HasPrefix(c.CPE, "cpe:2.3:"):
				c.CPE = loc
			case cat == "SECURITY" && typ == "cpe22type" && c.CPE == "":
				c.CPE = loc
			}
		}
		for _, h := range p.PackageChecksums {
			if hh, ok := b.hash(c.Ref, string(h.Algorithm), h.Value); ok {
				c.Hashes = appendHash(c.Hashes, hh)
			}
		}
		switch {
		case !noLicense(p.PackageLicenseConcluded):
			c.License = strings.TrimSpace(p.PackageLicenseConcluded)
		case !noLicense(p.PackageLicenseDeclared):
			c.License = strings.TrimSpace(p.PackageLicenseDeclared)
		}
		if ref := b.add(c, mark); c.Ref == "" {
			b.warn(ref, WarnMissingRef, fmt.Sprintf("package %s has no SPDXID; named %s", quote(c.Name), quote(ref)))
		}
	}

	for _, r := range doc.Relationships {
		if r == nil {
			continue
		}
		rel := strings.ToUpper(strings.TrimSpace(r.Relationship))
		from, to := r.RefA, r.RefB
		switch {
		case rel == common.TypeRelationshipDependsOn || rel == common.TypeRelationshipContains:
		case rel == common.TypeRelationshipContainedBy || strings.HasSuffix(rel, "DEPENDENCY_OF"):
			from, to = to, from
		default:
			continue
		}
		if from.DocumentRefID != "" || to.DocumentRefID != "" || from.SpecialID != "" || to.SpecialID != "" {
			continue // another document, NONE or NOASSERTION
		}
		if others[from.ElementRefID] || others[to.ElementRefID] {
			continue
		}
		fr, tr := spdxRef(from.ElementRefID), spdxRef(to.ElementRefID)
		okFrom, okTo := b.known(fr), b.known(tr)
		if !okFrom {
			b.unknownRef(fr)
		}
		if !okTo {
			b.unknownRef(tr)
		}
		if okFrom && okTo {
			b.depend(fr, tr)
		}
	}
}

// packageType is primaryPackagePurpose in lower case ("operating-system"), default library.
func packageType(purpose string) string {
	t := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(purpose)), "_", "-")
	if t == "" {
		return "library"
	}
	return t
}

// packageSupplier is the supplier's name, else the originator's.
func packageSupplier(p *spdx.Package) string {
	if p.PackageSupplier != nil {
		if n := partyName(p.PackageSupplier.Supplier); n != "" {
			return n
		}
	}
	if p.PackageOriginator != nil {
		if n := partyName(p.PackageOriginator.Originator); n != "" {
			return n
		}
	}
	return ""
}
