package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/dlp/corpus"
)

func TestLabelledThenEval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.jsonl")
	var out, errb bytes.Buffer
	if code := run([]string{"-mode", "labelled", "-docs", "40", "-seed", "3", "-out", file}, &out, &errb); code != 0 {
		t.Fatalf("labelled: exit %d: %s", code, errb.String())
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := corpus.ReadJSONL(f)
	f.Close()
	if err != nil || len(docs) != 40 {
		t.Fatalf("read back %d documents: %v", len(docs), err)
	}
	out.Reset()
	if code := run([]string{"-mode", "eval", "-in", file, "-cluener", filepath.Join(dir, "absent.jsonl")}, &out, &errb); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"| cn_resident_id |", "| person_name |", "CLUENER: ", "not found, skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("eval output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMixed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"-mode", "mixed", "-size", "300000", "-seed", "2", "-out", dir}, &out, &errb); code != 0 {
		t.Fatalf("mixed: exit %d: %s", code, errb.String())
	}
	for _, name := range []string{"clinical.txt", "app.log", "patients.csv"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() < 100_000 || fi.Size() > 120_000 {
			t.Errorf("%s: %d bytes, want about 100000", name, fi.Size())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"text":"a","spans":[{"type":"x","start":0,"end":5}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-mode", "nope"},
		{"-mode", "labelled"},
		{"-mode", "mixed", "-size", "0", "-out", t.TempDir()},
		{"-mode", "eval"},
		{"-mode", "eval", "-in", bad},
		{"-bogus"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
