package filewalk_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/filewalk"
)

func TestFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mk := func(name, body string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("a.txt", "a")
	mk("sub/b.csv", "bb")
	mk("sub/deeper/c.log", "ccc")
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("a.txt", "link-to-file")
	link("sub", "link-to-dir")
	link("missing", "broken")

	type seen struct {
		Path string
		Size int64
	}
	var files []seen
	skipped := map[string]string{}
	err := filewalk.Files(root, func(p string, fi fs.FileInfo) error {
		rel, _ := filepath.Rel(root, p)
		files = append(files, seen{rel, fi.Size()})
		return nil
	}, func(p string, err error) {
		rel, _ := filepath.Rel(root, p)
		skipped[rel] = err.Error()
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{{"a.txt", 1}, {"link-to-file", 1}, {"sub/b.csv", 2}, {"sub/deeper/c.log", 3}}
	if d := cmp.Diff(want, files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	wantSkipped := map[string]string{
		"broken":      "no such file or directory",
		"link-to-dir": filewalk.ErrLinkToDir.Error(),
	}
	if d := cmp.Diff(wantSkipped, skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}

	stop := errors.New("stop")
	n := 0
	err = filewalk.Files(root, func(string, fs.FileInfo) error { n++; return stop }, func(string, error) {})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Files = %v after %d files, want the callback's error after 1", err, n)
	}

	var missing []string
	err = filewalk.Files(filepath.Join(root, "nope"), func(string, fs.FileInfo) error { return nil }, func(p string, err error) {
		missing = append(missing, err.Error())
	})
	if err != nil || len(missing) != 1 {
		t.Errorf("a missing root: Files = %v, skipped %v", err, missing)
	}
}
