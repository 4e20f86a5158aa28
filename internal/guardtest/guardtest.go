// Package guardtest lists the product's own Go source files for the guard tests that
// check one rule over all of them (the tenancy predicate, trail messages, problem
// messages). Only tests import it.
package guardtest

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// File is one Go source file: its path and its slash-separated path below the root.
type File struct {
	Path string
	Rel  string
}

// Sources returns the non-test Go files below dir (testdata folders left out). It fails
// the test when it finds fewer than 50: the guard would be looking in the wrong place.
func Sources(t testing.TB, dir string) []File {
	t.Helper()
	root, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []File
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, File{Path: p, Rel: filepath.ToSlash(rel)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d Go files under %s; the guard is looking in the wrong place", len(out), root)
	}
	return out
}
