// Package vuln owns medguard's copy of the OSV vulnerability database and the question
// "which advisories affect this package at this version?".
//
// It parses OSV records (JSON, or OSV-as-YAML) with the schema's own protobuf bindings,
// orders versions per ecosystem with OSV's maintained implementation
// (github.com/google/osv-scalibr/semantic), evaluates affected ranges as the OSV
// specification's evaluation section prescribes, maps package URLs to OSV ecosystems
// and names, computes a headline severity from CVSS vectors, and keeps the records in
// the database (tables vulns, vuln_aliases, vuln_affected, vuln_imports) with an
// incremental importer for osv.dev's per-ecosystem all.zip exports.
//
// # Relation to osv-scanner
//
// The set of (package, advisory) pairs found for an SBOM is meant to equal what
// osv-scanner v2.4.0 reports offline on the same data. Where osv-scanner departs from
// the OSV specification this package follows the specification instead, and says so in
// a comment marked "osv-scanner:" at the place where the behaviour differs. In short:
//
//   - limit events are honoured (osv-scanner ignores them);
//   - a GIT range does not hide the SEMVER/ECOSYSTEM ranges listed after it
//     (osv-scanner's rangeAffectsVersion stops at the first non-SEMVER/ECOSYSTEM range);
//   - SEMVER ranges are compared with SemVer 2.0 precedence whatever the ecosystem
//     (osv-scanner uses the ecosystem's parser for every range);
//   - a package without a version is not affected (osv-scanner reports every advisory
//     for it);
//   - Go module paths in pkg:golang purls keep their case (osv-scanner lowercases them
//     through packageurl-go, so github.com/BurntSushi/toml never matches), and the Go
//     toolchain versions "go1.21.3" of stdlib/toolchain compare as "1.21.3";
//   - Debian and Ubuntu purls carry their release (distro qualifier) into the ecosystem
//     suffix, so that a Debian 11 package is not matched against Debian:12 advisories;
//   - PyPI names are normalised (PEP 503) on both sides;
//   - NuGet package ids are compared without regard to (ASCII) case, as NuGet compares
//     them ("newtonsoft.json" is "Newtonsoft.Json"). osv.dev's API compares them as
//     written (google/osv.dev#5292); osv-scanner's offline matching was not compared
//     here, as the equivalence test covers Go, PyPI and crates.io only;
//   - a version its ecosystem cannot order (Comparable: a commit id, a PyPI version
//     outside PEP 440, a SemVer-like version without a leading number, a parser error,
//     the empty version) is not placed in SEMVER/ECOSYSTEM ranges at all — osv-scanner's
//     lenient parsers sort such strings below every version, so that every
//     "introduced: 0" range contains them. Evaluate reports NotComparable instead,
//     unless an exact match decides: the versions list, or a commit named by a GIT
//     range (introduced/last_affected: affected; fixed/limit: not). GIT spans between
//     commits are not walked, as that needs the repository's history.
//
// # Severity
//
// A record's headline severity is its own (CVSS, else the database's rating). When that
// is unknown — every Go advisory — Summaries takes the severity of another stored record
// of its alias group (the records naming each other as aliases or sharing an alias, the
// same group findings are grouped by), the highest of several, and names it in
// Severity.From. Consumers must treat a severity
// still unknown as unknown, not as low: supply's gates block on it by default.
package vuln
