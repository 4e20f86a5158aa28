package paging

import (
	"net/url"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/problem"
)

func TestParse(t *testing.T) {
	t.Parallel()
	spec := Spec{Default: 50, Max: 500}
	for _, c := range []struct {
		name, query string
		want        Params
		bad         string // parameter named by the error; "" = no error
	}{
		{"defaults", "", Params{Limit: 50}, ""},
		{"canonical", "limit=20&offset=40", Params{Limit: 20, Offset: 40}, ""},
		{"aliases", "per_page=20&page=3", Params{Limit: 20, Offset: 40}, ""},
		{"page with the default limit", "page=2", Params{Limit: 50, Offset: 50}, ""},
		{"alias and canonical agree", "limit=20&per_page=20&page=2&offset=20", Params{Limit: 20, Offset: 20}, ""},
		{"the maximum", "limit=500", Params{Limit: 500}, ""},
		{"above the maximum", "limit=501", Params{}, "limit"},
		{"alias above the maximum", "per_page=100000", Params{}, "limit"},
		{"zero limit", "limit=0", Params{}, "limit"},
		{"negative limit", "limit=-5", Params{}, "limit"},
		{"not a number", "limit=ten", Params{}, "limit"},
		{"huge number", "limit=99999999999999999999999", Params{}, "limit"},
		{"limit and alias disagree", "limit=10&per_page=20", Params{}, "limit"},
		{"negative offset", "offset=-1", Params{}, "offset"},
		{"offset too far", "offset=100000001", Params{}, "offset"},
		{"page zero", "page=0", Params{}, "page"},
		{"page too far", "page=9999999999", Params{}, "page"},
		{"offset and page disagree", "page=2&offset=7", Params{}, "offset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, _ := url.ParseQuery(c.query)
			got, err := Parse(q, spec)
			if c.bad == "" {
				if err != nil || got != c.want {
					t.Fatalf("Parse(%q) = %+v, %v; want %+v", c.query, got, err, c.want)
				}
				return
			}
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Field != c.bad {
				t.Fatalf("Parse(%q) = %+v, %v; want an invalid-input problem on %s", c.query, got, err, c.bad)
			}
			if v := q.Get(c.bad); v != "" && len(v) > 3 && strings.Contains(pe.Message, v) {
				t.Errorf("the message echoes the value: %s", pe.Message)
			}
		})
	}
}

func TestEnvelopes(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("/api/v1/assets?q=pacs&per_page=2&page=1")
	p, err := Parse(u.Query(), Standard)
	if err != nil {
		t.Fatal(err)
	}
	e := Slice(u, p, []int{1, 2, 3, 4, 5})
	if len(e.Items) != 2 || e.Total != 5 || e.Next == nil || *e.Next != "/api/v1/assets?limit=2&offset=2&q=pacs" {
		t.Fatalf("first page: %+v next=%v", e, deref(e.Next))
	}
	u2, _ := url.Parse(*e.Next)
	p2, _ := Parse(u2.Query(), Standard)
	u3, _ := url.Parse(*Slice(u2, p2, []int{1, 2, 3, 4, 5}).Next)
	p3, _ := Parse(u3.Query(), Standard)
	last := Slice(u3, p3, []int{1, 2, 3, 4, 5})
	if len(last.Items) != 1 || last.Items[0] != 5 || last.Next != nil {
		t.Fatalf("last page: %+v", last)
	}
	if past := Slice(u3, Params{Limit: 2, Offset: 99}, []int{1}); past.Items == nil || len(past.Items) != 0 || past.Next != nil {
		t.Fatalf("past the end: %+v", past)
	}
	k := Keyset(u, Params{Limit: 2}, []string{"a", "b"}, true, "before", "17")
	if !k.TotalCapped || k.Next == nil || !strings.Contains(*k.Next, "before=17") {
		t.Fatalf("keyset: %+v %v", k, deref(k.Next))
	}
	if k := Keyset[string](u, Params{Limit: 2}, nil, false, "before", ""); k.Items == nil || k.Next != nil || k.TotalCapped {
		t.Fatalf("empty keyset: %+v", k)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// FuzzParse checks that no query makes Parse panic and that whatever it accepts is
// within the spec.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "limit=10&offset=20", "page=3&per_page=7", "limit=-1", "page=0", "offset=%ff", "limit=1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := Parse(q, Standard)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("Parse(%q): error %v is not a problem", raw, err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > Standard.Max || p.Offset < 0 || p.Offset > MaxOffset {
			t.Fatalf("Parse(%q) = %+v out of range", raw, p)
		}
	})
}
