package risk_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/risk"
)

func loadMatrix(t testing.TB, name string) *risk.Matrix {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "matrices", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := risk.ParseMatrix(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestMatrixLevels reads testdata/levels/<size>.txt — "likelihood impact level score",
// one cell a line, "-" for a cell outside the matrix — and checks Level and Score of the
// matrix testdata/matrices/<size>.yaml. 5x5 is the built-in default.
func TestMatrixLevels(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "levels", "*.txt"))
	if err != nil || len(files) < 4 {
		t.Fatalf("level tables: %v %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			m := loadMatrix(t, name)
			if name == "5x5" {
				m = risk.DefaultMatrix()
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cells := 0
			sc := bufio.NewScanner(bytes.NewReader(b))
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				fs := strings.Fields(line)
				if len(fs) != 4 {
					t.Fatalf("line %d: %q", n, line)
				}
				l, _ := strconv.Atoi(fs[0])
				i, _ := strconv.Atoi(fs[1])
				score, _ := strconv.Atoi(fs[3])
				want := fs[2]
				if want == "-" {
					want = ""
				} else {
					cells++
				}
				if got := m.Level(l, i); got != want {
					t.Errorf("line %d: Level(%d, %d) = %q, want %q", n, l, i, got, want)
				}
				if got := m.Score(l, i); got != score {
					t.Errorf("line %d: Score(%d, %d) = %d, want %d", n, l, i, got, score)
				}
			}
			if cells != len(m.Likelihood)*len(m.Impact) {
				t.Errorf("the table covers %d cells of %d", cells, len(m.Likelihood)*len(m.Impact))
			}
		})
	}
}

// TestDefaultMatrixIsTheFile: the 5x5 fixture is the embedded default, so that the
// 5x5 table tests what the service uses.
func TestDefaultMatrixIsTheFile(t *testing.T) {
	m, f := risk.DefaultMatrix(), loadMatrix(t, "5x5")
	if m.ID != f.ID || len(m.Grid) != 5 || len(m.Levels) != 4 || m.Rank("critical") != 4 || m.Rank("low") != 1 || m.Rank("nope") != 0 {
		t.Fatalf("default matrix %+v", m)
	}
	for l := 1; l <= 5; l++ {
		for i := 1; i <= 5; i++ {
			if m.Level(l, i) != f.Level(l, i) {
				t.Errorf("(%d, %d): default %s, file %s", l, i, m.Level(l, i), f.Level(l, i))
			}
		}
	}
}

// TestParseMatrixRejects: every file of testdata/invalid is refused, with the error its
// first line names ("# want: …").
func TestParseMatrixRejects(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if len(files) < 10 {
		t.Fatalf("only %d invalid matrices", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want := strings.TrimPrefix(first, "# want: ")
			_, err = risk.ParseMatrix(b)
			if err == nil || !errors.Is(err, risk.ErrMatrix) || !strings.Contains(err.Error(), want) {
				t.Fatalf("ParseMatrix = %v, want an ErrMatrix saying %q", err, want)
			}
		})
	}
}

// FuzzParseMatrix: whatever the input, ParseMatrix does not panic, and a matrix it
// accepts keeps its promises: sizes 3..6, every cell a level, monotonic.
func FuzzParseMatrix(f *testing.F) {
	for _, dir := range []string{"matrices", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := risk.ParseMatrix(b)
		if err != nil {
			return
		}
		nl, ni := len(m.Likelihood), len(m.Impact)
		if nl < risk.MinSteps || nl > risk.MaxSteps || ni < risk.MinSteps || ni > risk.MaxSteps {
			t.Fatalf("accepted a %d × %d matrix", nl, ni)
		}
		for l := 1; l <= nl; l++ {
			for i := 1; i <= ni; i++ {
				r := m.Rank(m.Level(l, i))
				if r == 0 {
					t.Fatalf("cell (%d, %d) has no level", l, i)
				}
				if l > 1 && m.Rank(m.Level(l-1, i)) > r || i > 1 && m.Rank(m.Level(l, i-1)) > r {
					t.Fatalf("cell (%d, %d) is lower than a cell below it", l, i)
				}
			}
		}
		if m.Level(nl+1, 1) != "" || m.Level(1, 0) != "" {
			t.Fatal("a cell outside the matrix has a level")
		}
	})
}
