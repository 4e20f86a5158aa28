package appscore

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkAt is when the consequences of the score table are decided.
var checkAt = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func loadModel(t testing.TB, name string) Model {
	t.Helper()
	if name == "default" {
		return DefaultModel()
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseModel(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// parseFindings reads the FINDINGS of a line of testdata/scores.txt.
func parseFindings(s string) ([]Finding, error) {
	var out []Finding
	if strings.TrimSpace(s) == "-" {
		return nil, nil
	}
	for _, tok := range strings.Fields(s) {
		n := 1
		var deadline time.Time
		if base, mark, ok := strings.Cut(tok, "!"); ok {
			switch mark {
			case "overdue":
				deadline = checkAt.Add(-time.Hour)
			case "due":
				deadline = checkAt.Add(time.Hour)
			default:
				return nil, fmt.Errorf("%q: unknown mark !%s", tok, mark)
			}
			tok = base
		}
		if base, rep, ok := strings.Cut(tok, "*"); ok {
			var err error
			if n, err = strconv.Atoi(rep); err != nil || n < 1 {
				return nil, fmt.Errorf("%q: bad repeat", tok)
			}
			tok = base
		}
		typ, sev, ok := strings.Cut(tok, ":")
		if !ok {
			return nil, fmt.Errorf("%q: want TYPE:SEVERITY", tok)
		}
		for i := range n {
			out = append(out, Finding{Type: typ, Severity: Severity(sev), Ref: fmt.Sprintf("%s#%d", tok, i+1), Deadline: deadline})
		}
	}
	return out, nil
}

// TestScoreTable evaluates each line of testdata/scores.txt and checks score, grade and
// consequence, and that the explanation adds up to the score.
func TestScoreTable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "scores.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var m Model
	var modelName string
	cases := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if name, ok := strings.CutPrefix(line, "model "); ok {
			modelName = strings.TrimSpace(name)
			m = loadModel(t, modelName)
			continue
		}
		if modelName == "" {
			t.Fatalf("scores.txt:%d: no model line before the first case", lineNo)
		}
		in, want, ok := strings.Cut(line, "=>")
		f := strings.Fields(want)
		if !ok || len(f) != 3 {
			t.Fatalf("scores.txt:%d: want FINDINGS => SCORE GRADE ACTION", lineNo)
		}
		findings, err := parseFindings(in)
		if err != nil {
			t.Fatalf("scores.txt:%d: %v", lineNo, err)
		}
		wantScore, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("scores.txt:%d: score %q", lineNo, f[0])
		}
		cases++
		res := Evaluate(findings, m)
		got := fmt.Sprintf("%d %s %s", res.Score, res.Grade, res.Consequence(checkAt).Action)
		if want := fmt.Sprintf("%d %s %s", wantScore, f[1], f[2]); got != want {
			t.Errorf("scores.txt:%d (%s): %s => %s, want %s", lineNo, modelName, strings.TrimSpace(in), got, want)
		}
		checkExplained(t, fmt.Sprintf("scores.txt:%d", lineNo), findings, res)
	}
	if cases < 30 {
		t.Errorf("only %d cases in scores.txt", cases)
	}
}

// checkExplained checks that res explains every point: one deduction per finding, the
// taken points adding up to each type's and to Lost, the caps and the floor respected
// and flagged, and Score = max(0, 100 − Lost).
func checkExplained(t *testing.T, where string, findings []Finding, res Result) {
	t.Helper()
	n, lost := 0, 0
	for _, ty := range res.Types {
		points, taken, clipped := 0, 0, false
		for _, d := range ty.Deductions {
			n++
			if d.Finding.Type != ty.Type {
				t.Errorf("%s: a %s finding under type %s", where, d.Finding.Type, ty.Type)
			}
			if d.Taken < 0 || d.Taken > d.Points || d.Clipped != (d.Taken < d.Points) {
				t.Errorf("%s: deduction %+v does not add up", where, d)
			}
			points += d.Points
			taken += d.Taken
			clipped = clipped || d.Clipped
		}
		if points != ty.Points || taken != ty.Taken || clipped != ty.Clipped || ty.Taken > ty.Cap ||
			ty.Taken != min(ty.Points, ty.Cap) {
			t.Errorf("%s: type %s: points %d taken %d clipped %v, total says %+v", where, ty.Type, points, taken, clipped, ty)
		}
		if ty.Label.EN == "" || ty.Label.ZhCN == "" || !strings.HasPrefix(ty.LabelKey, LabelKeyPrefix) {
			t.Errorf("%s: type %s without labels: %+v", where, ty.Type, ty)
		}
		lost += ty.Taken
	}
	if n != len(findings) {
		t.Errorf("%s: %d deductions for %d findings", where, n, len(findings))
	}
	if lost != res.Lost || res.Score != max(0, MaxScore-lost) || res.Floored != (lost > MaxScore) {
		t.Errorf("%s: lost %d, result says lost %d score %d floored %v", where, lost, res.Lost, res.Score, res.Floored)
	}
}

// TestExplanation: the explanation of one evaluation in full — the most severe finding
// of a type takes its points first, the cap clips the rest, unknown severities are
// flagged, unlisted types say so and carry the other rule's label.
func TestExplanation(t *testing.T) {
	t.Parallel()
	m := loadModel(t, "small.yaml")
	res := Evaluate([]Finding{
		{Type: "t.a", Severity: Low, Ref: "L1"},
		{Type: "t.a", Severity: Critical, Ref: "C1"},
		{Type: "t.a", Severity: High, Ref: "H1"},
		{Type: "x.new", Severity: "urgent", Ref: "U1"},
	}, m)
	if res.Score != 68 || res.Lost != 32 || res.Grade != GradeC || res.Floored {
		t.Fatalf("score %d lost %d grade %s floored %v, want 68 32 C false", res.Score, res.Lost, res.Grade, res.Floored)
	}
	if len(res.Types) != 2 || res.Types[0].Type != "t.a" || res.Types[1].Type != "x.new" {
		t.Fatalf("types %+v", res.Types)
	}
	var got []string
	for _, d := range res.Types[0].Deductions {
		got = append(got, fmt.Sprintf("%s %s %d/%d %v", d.Finding.Ref, d.Severity, d.Taken, d.Points, d.Clipped))
	}
	want := []string{"C1 critical 20/20 false", "H1 high 5/10 true", "L1 low 0/2 true"}
	if !slices.Equal(got, want) {
		t.Errorf("t.a deductions %q, want %q", got, want)
	}
	a := res.Types[0]
	if !a.Listed || a.Points != 32 || a.Taken != 25 || a.Cap != 25 || !a.Clipped || a.Label.ZhCN != "类型 A" || a.LabelKey != "appscore.type.t.a" {
		t.Errorf("t.a total %+v", a)
	}
	x := res.Types[1]
	d := x.Deductions[0]
	if x.Listed || x.LabelKey != "appscore.type.other" || x.Label.EN != "Other" || !d.SeverityUnknown || d.Severity != Critical ||
		d.Finding.Severity != "urgent" || d.Taken != 7 {
		t.Errorf("unlisted type %+v", x)
	}
}

// TestConsequence: grade B orders rectification within the model's days; grade C, or a
// critical finding past its deadline whatever the grade, proposes eviction and names the
// overdue findings; every reason has both texts.
func TestConsequence(t *testing.T) {
	t.Parallel()
	m := loadModel(t, "small.yaml")
	b := Evaluate([]Finding{{Type: "t.a", Severity: High}, {Type: "t.a", Severity: High}}, m).Consequence(checkAt)
	if b.Action != ActionRectify || !b.Deadline.Equal(checkAt.AddDate(0, 0, 14)) || b.Reason != "appscore.consequence.grade_b" {
		t.Errorf("grade B: %+v", b)
	}
	late := Finding{Type: "x.y", Severity: Critical, Ref: "late", Deadline: checkAt.Add(-time.Minute)}
	onTime := Finding{Type: "x.y", Severity: Critical, Ref: "on time", Deadline: checkAt}
	c := Evaluate([]Finding{late, onTime}, m).Consequence(checkAt)
	if c.Action != ActionEvict || len(c.Overdue) != 1 || c.Overdue[0].Ref != "late" || c.Reason != "appscore.consequence.critical_overdue" {
		t.Errorf("overdue critical: %+v", c)
	}
	if c := Evaluate([]Finding{onTime}, m).Consequence(checkAt); c.Action != ActionNone {
		t.Errorf("critical due now (not past): %+v", c)
	}
	ev := Evaluate([]Finding{{Type: "t.b", Severity: Critical}}, m).Consequence(checkAt)
	if ev.Action != ActionEvict || ev.Reason != "appscore.consequence.grade_c" || !ev.Deadline.IsZero() {
		t.Errorf("grade C: %+v", ev)
	}
	for _, k := range []string{"appscore.consequence.grade_a", "appscore.consequence.grade_b", "appscore.consequence.grade_c",
		"appscore.consequence.critical_overdue"} {
		if l, ok := ReasonLabel(k); !ok || l.EN == "" || l.ZhCN == "" {
			t.Errorf("reason %s: %+v %v", k, l, ok)
		}
	}
}

// actionRank orders actions, mildest first.
var actionRank = map[Action]int{ActionNone: 0, ActionRectify: 1, ActionEvict: 2}

// gradeRank orders grades, best first.
var gradeRank = map[Grade]int{GradeA: 0, GradeB: 1, GradeC: 2}

// TestMonotonic: over many random finding sets (listed and unlisted types, every
// severity, an unknown one, deadlines past and ahead), adding a finding never raises the
// score nor improves the grade or the consequence, and removing one never lowers the
// score nor worsens them; every result is explained to the point.
func TestMonotonic(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"default", "small.yaml"} {
		m := loadModel(t, name)
		types := []string{"x.unlisted", "y.unlisted"}
		for typ := range m.Types {
			types = append(types, typ)
		}
		slices.Sort(types) // map order is random; the seed must decide everything
		sevs := append(slices.Clone(Severities), "unknown")
		rng := rand.New(rand.NewPCG(2026, 12))
		random := func() Finding {
			f := Finding{Type: types[rng.IntN(len(types))], Severity: sevs[rng.IntN(len(sevs))]}
			switch rng.IntN(4) {
			case 0:
				f.Deadline = checkAt.Add(-time.Hour)
			case 1:
				f.Deadline = checkAt.Add(time.Hour)
			}
			return f
		}
		worse := func(a, b Result) bool { // b is worse than or as bad as a
			ca, cb := a.Consequence(checkAt), b.Consequence(checkAt)
			return b.Score <= a.Score && gradeRank[b.Grade] >= gradeRank[a.Grade] && actionRank[cb.Action] >= actionRank[ca.Action]
		}
		for i := range 3000 {
			fs := make([]Finding, rng.IntN(25))
			for j := range fs {
				fs[j] = random()
			}
			before := Evaluate(fs, m)
			checkExplained(t, fmt.Sprintf("%s #%d", name, i), fs, before)

			added := slices.Insert(slices.Clone(fs), rng.IntN(len(fs)+1), random())
			after := Evaluate(added, m)
			if !worse(before, after) {
				t.Fatalf("%s #%d: adding %+v to %+v: %d %s → %d %s", name, i, added, fs, before.Score, before.Grade, after.Score, after.Grade)
			}
			if len(fs) > 0 {
				k := rng.IntN(len(fs))
				fixed := Evaluate(slices.Delete(slices.Clone(fs), k, k+1), m)
				if !worse(fixed, before) {
					t.Fatalf("%s #%d: fixing %+v of %+v: %d %s → %d %s", name, i, fs[k], fs, before.Score, before.Grade, fixed.Score, fixed.Grade)
				}
			}
			// The order of the findings does not matter.
			shuffled := slices.Clone(fs)
			rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
			if s := Evaluate(shuffled, m); s.Score != before.Score || s.Lost != before.Lost {
				t.Fatalf("%s #%d: shuffled findings score %d, in order %d", name, i, s.Score, before.Score)
			}
		}
	}
}

// TestFixingAMediumMoves: unlike a ratio score, fixing one medium finding among many
// raises the score (while the type's cap is not reached).
func TestFixingAMediumMoves(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	fs := []Finding{{Type: "vuln.open", Severity: Medium}, {Type: "vuln.open", Severity: Medium},
		{Type: "apk.cleartext", Severity: Medium}, {Type: "web.header", Severity: Low}}
	before := Evaluate(fs, m).Score
	after := Evaluate(fs[1:], m).Score
	if after <= before {
		t.Errorf("fixing a medium: %d → %d", before, after)
	}
}
