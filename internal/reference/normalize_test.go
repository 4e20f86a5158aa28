package reference

import "testing"

func TestSurnameAndBuilding(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, in, surname, building string }{
		{"chinese", "王芳", "王", ""},
		{"compound", "欧阳娜娜", "欧阳", ""},
		{"two-char compound-looking given", "欧阳", "欧", ""},
		{"latin comma", "Wang, Fang", "wang", ""},
		{"latin last word", "Fang  Wang", "wang", ""},
		{"empty", " ", "", ""},
	} {
		if got := Surname(c.in); got != c.surname {
			t.Errorf("%s: Surname(%q) = %q, want %q", c.name, c.in, got, c.surname)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"东城区和平里1号1-101", "东城区和平里1号"},
		{"东城区和平里１号 １－１０２室", "东城区和平里1号"},
		{"建设路2号院3号楼2单元201", "建设路2号院3号楼"},
		{"幸福小区5栋301", "幸福小区5栋"},
		{"朝阳区幸福路", "朝阳区幸福路"},
	} {
		if got := Building(c.in); got != c.want {
			t.Errorf("Building(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if NormalizeAddress("东城区和平里１号 １－１０１室") != NormalizeAddress("东城区和平里1号1-101") {
		t.Error("full-width and room suffix not folded")
	}
}
