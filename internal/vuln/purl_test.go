package vuln_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medguard/medguard/internal/vuln"
)

func TestPackageFromPURL(t *testing.T) {
	for _, c := range []struct {
		purl string
		want vuln.Package
	}{
		{"pkg:npm/lodash@4.17.20", vuln.Package{"npm", "lodash", "4.17.20"}},
		{"pkg:npm/%40babel/core@7.0.0", vuln.Package{"npm", "@babel/core", "7.0.0"}},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", vuln.Package{"Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"}},
		{"pkg:pypi/Django@3.2.0", vuln.Package{"PyPI", "django", "3.2.0"}},
		{"pkg:golang/github.com/BurntSushi/toml@v0.3.1", vuln.Package{"Go", "github.com/BurntSushi/toml", "v0.3.1"}},
		{"pkg:golang/stdlib@go1.20", vuln.Package{"Go", "stdlib", "go1.20"}},
		{"pkg:golang/golang.org/x/net@v0.0.0-20210226172049-e18ecbb05110#http2", vuln.Package{"Go", "golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110"}},
		{"pkg:cargo/smallvec@1.6.0", vuln.Package{"crates.io", "smallvec", "1.6.0"}},
		{"pkg:composer/laravel/framework@8.0.0", vuln.Package{"Packagist", "laravel/framework", "8.0.0"}},
		{"pkg:gem/rails@6.1.0", vuln.Package{"RubyGems", "rails", "6.1.0"}},
		{"pkg:nuget/Newtonsoft.Json@12.0.1", vuln.Package{"NuGet", "Newtonsoft.Json", "12.0.1"}},
		{"pkg:github/actions/checkout@v2", vuln.Package{"GitHub Actions", "actions/checkout", "v2"}},
		{"pkg:hex/phoenix@1.5.0", vuln.Package{"Hex", "phoenix", "1.5.0"}},
		{"pkg:pub/http@0.13.0", vuln.Package{"Pub", "http", "0.13.0"}},
		{"pkg:cran/jsonlite@1.7.0", vuln.Package{"CRAN", "jsonlite", "1.7.0"}},
		{"pkg:hackage/aeson@1.0.0.0", vuln.Package{"Hackage", "aeson", "1.0.0.0"}},
		{"pkg:conan/openssl@1.1.1", vuln.Package{"ConanCenter", "openssl", "1.1.1"}},
		{"pkg:swift/github.com/apple/swift-nio@2.0.0", vuln.Package{"SwiftURL", "github.com/apple/swift-nio", "2.0.0"}},
		{"pkg:deb/debian/openssl@1.1.1n-0+deb11u3?arch=amd64&distro=debian-11", vuln.Package{"Debian:11", "openssl", "1.1.1n-0+deb11u3"}},
		{"pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?distro=bullseye", vuln.Package{"Debian:11", "openssl", "1.1.1n-0+deb11u3"}},
		{"pkg:deb/debian/curl@7.88.1-10?distro=debian-12.4", vuln.Package{"Debian:12", "curl", "7.88.1-10"}},
		{"pkg:deb/debian/curl@7.88.1-10", vuln.Package{"Debian", "curl", "7.88.1-10"}},
		{"pkg:deb/debian/curl@7.88.1-10?distro=sid", vuln.Package{"Debian", "curl", "7.88.1-10"}},
		{"pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.4?distro=ubuntu-22.04", vuln.Package{"Ubuntu:22.04:LTS", "curl", "7.81.0-1ubuntu1.4"}},
		{"pkg:deb/ubuntu/curl@8.2.1-1ubuntu3?distro=mantic", vuln.Package{"Ubuntu:23.10", "curl", "8.2.1-1ubuntu3"}},
		{"pkg:apk/alpine/busybox@1.36.1-r2?arch=x86_64&distro=alpine-3.18.4", vuln.Package{"Alpine:v3.18", "busybox", "1.36.1-r2"}},
		{"pkg:apk/alpine/busybox@1.36.1-r2?distro=edge", vuln.Package{"Alpine:edge", "busybox", "1.36.1-r2"}},
		{"pkg:apk/alpine/busybox@1.36.1-r2", vuln.Package{"Alpine", "busybox", "1.36.1-r2"}},
		{"pkg:npm/left-pad", vuln.Package{"npm", "left-pad", ""}},
	} {
		got, err := vuln.PackageFromPURL(c.purl)
		if err != nil {
			t.Errorf("PackageFromPURL(%q): %v", c.purl, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("PackageFromPURL(%q) (-want +got):\n%s", c.purl, diff)
		}
	}
}

func TestPackageFromPURLErrors(t *testing.T) {
	for _, c := range []struct {
		purl        string
		unsupported bool
	}{
		{"pkg:rpm/fedora/curl@7.50.3-1.fc25", true},
		{"pkg:generic/openssl@1.1.1", true},
		{"pkg:deb/kali/curl@1.0", true},
		{"pkg:apk/wolfi/curl@1.0", true},
		{"not a purl", false},
		{"pkg:", false},
		{"pkg:npm/", false},
		{"https://example.com/x", false},
	} {
		_, err := vuln.PackageFromPURL(c.purl)
		if err == nil {
			t.Errorf("PackageFromPURL(%q) succeeded", c.purl)
			continue
		}
		if got := errors.Is(err, vuln.ErrUnsupportedEcosystem); got != c.unsupported {
			t.Errorf("PackageFromPURL(%q) = %v; unsupported = %v, want %v", c.purl, err, got, c.unsupported)
		}
	}
}

func TestKeyOf(t *testing.T) {
	got := vuln.KeyOf(vuln.Package{Ecosystem: "PyPI", Name: "Zope.Interface", Version: "1"})
	if want := (vuln.PackageKey{Ecosystem: "PyPI", Name: "zope-interface"}); got != want {
		t.Errorf("KeyOf = %+v, want %+v", got, want)
	}
	got = vuln.KeyOf(vuln.Package{Ecosystem: "Debian:11", Name: "openssl"})
	if want := (vuln.PackageKey{Ecosystem: "Debian", Name: "openssl"}); got != want {
		t.Errorf("KeyOf = %+v, want %+v", got, want)
	}
	// NuGet ids are case-insensitive; the key lowers ASCII letters only.
	got = vuln.KeyOf(vuln.Package{Ecosystem: "NuGet", Name: "Newtonsoft.Json_X-Ä"})
	if want := (vuln.PackageKey{Ecosystem: "NuGet", Name: "newtonsoft.json_x-Ä"}); got != want {
		t.Errorf("KeyOf = %+v, want %+v", got, want)
	}
	// npm, Go and Maven names are case-sensitive.
	for _, p := range []vuln.Package{{Ecosystem: "npm", Name: "JSONStream"}, {Ecosystem: "Go", Name: "github.com/BurntSushi/toml"},
		{Ecosystem: "Maven", Name: "org.Example:Lib"}} {
		if got := vuln.KeyOf(p); got.Name != p.Name {
			t.Errorf("KeyOf(%+v) = %+v, want the name unchanged", p, got)
		}
	}
}
