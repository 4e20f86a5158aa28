package asset_test

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

func TestValidate(t *testing.T) {
	base := func() asset.Input { return input(1, "A-1") }
	tests := []struct {
		name      string
		edit      func(in *asset.Input)
		wantField string // "" = valid
		check     func(t *testing.T, in asset.Input)
	}{
		{name: "valid", edit: func(in *asset.Input) {}},
		{name: "trims and lowercases", edit: func(in *asset.Input) {
			in.Code, in.Name, in.Kind, in.Zone, in.Lifecycle = "  A-1 ", " 名称 ", " Server", "DMZ", "In_Service"
		}, check: func(t *testing.T, in asset.Input) {
			if in.Code != "A-1" || in.Name != "名称" || in.Kind != "server" || in.Zone != "dmz" || in.Lifecycle != "in_service" {
				t.Errorf("not normalised: %+v", in)
			}
		}},
		{name: "lifecycle defaults to in service", edit: func(in *asset.Input) { in.Lifecycle = "" },
			check: func(t *testing.T, in asset.Input) {
				if in.Lifecycle != "in_service" {
					t.Errorf("lifecycle = %q", in.Lifecycle)
				}
			}},
		{name: "mac forms", edit: func(in *asset.Input) { in.MAC = "AA-BB-CC-DD-EE-0F" },
			check: func(t *testing.T, in asset.Input) {
				if in.MAC != "aa:bb:cc:dd:ee:0f" {
					t.Errorf("mac = %q", in.MAC)
				}
			}},
		{name: "mac bare hex", edit: func(in *asset.Input) { in.MAC = "AABBCCDDEEFF" },
			check: func(t *testing.T, in asset.Input) {
				if in.MAC != "aa:bb:cc:dd:ee:ff" {
					t.Errorf("mac = %q", in.MAC)
				}
			}},
		{name: "mac cisco", edit: func(in *asset.Input) { in.MAC = "aabb.ccdd.eeff" },
			check: func(t *testing.T, in asset.Input) {
				if in.MAC != "aa:bb:cc:dd:ee:ff" {
					t.Errorf("mac = %q", in.MAC)
				}
			}},
		{name: "ipv6 canonical", edit: func(in *asset.Input) { in.IP = "2001:DB8:0:0::1" },
			check: func(t *testing.T, in asset.Input) {
				if in.IP != "2001:db8::1" {
					t.Errorf("ip = %q", in.IP)
				}
			}},
		{name: "dates normalised", edit: func(in *asset.Input) { in.ProcuredOn, in.InServiceOn = "2020/3/5", "2020-03-05" },
			check: func(t *testing.T, in asset.Input) {
				if in.ProcuredOn != "2020-03-05" || in.InServiceOn != "2020-03-05" {
					t.Errorf("dates = %q %q", in.ProcuredOn, in.InServiceOn)
				}
			}},
		{name: "tags trimmed deduped sorted", edit: func(in *asset.Input) { in.Tags = []string{" b", "a", "", "b ", "a"} },
			check: func(t *testing.T, in asset.Input) {
				if !reflect.DeepEqual(in.Tags, []string{"a", "b"}) {
					t.Errorf("tags = %q", in.Tags)
				}
			}},
		{name: "no org", edit: func(in *asset.Input) { in.OrgID = 0 }, wantField: "org_id"},
		{name: "no code", edit: func(in *asset.Input) { in.Code = "  " }, wantField: "code"},
		{name: "code too long", edit: func(in *asset.Input) { in.Code = strings.Repeat("x", 65) }, wantField: "code"},
		{name: "no name", edit: func(in *asset.Input) { in.Name = "" }, wantField: "name"},
		{name: "name too long", edit: func(in *asset.Input) { in.Name = strings.Repeat("名", 67) }, wantField: "name"},
		{name: "control char in name", edit: func(in *asset.Input) { in.Name = "a\x00b" }, wantField: "name"},
		{name: "newline in name", edit: func(in *asset.Input) { in.Name = "a\nb" }, wantField: "name"},
		{name: "newline in notes ok", edit: func(in *asset.Input) { in.Notes = "line 1\nline 2" }},
		{name: "invalid utf8", edit: func(in *asset.Input) { in.Owner = "\xff\xfe" }, wantField: "owner"},
		{name: "bad kind", edit: func(in *asset.Input) { in.Kind = "toaster" }, wantField: "kind"},
		{name: "no kind", edit: func(in *asset.Input) { in.Kind = "" }, wantField: "kind"},
		{name: "bad zone", edit: func(in *asset.Input) { in.Zone = "moon" }, wantField: "zone"},
		{name: "bad lifecycle", edit: func(in *asset.Input) { in.Lifecycle = "lost" }, wantField: "lifecycle"},
		{name: "mlps 5", edit: func(in *asset.Input) { in.MLPSLevel = 5 }, wantField: "mlps_level"},
		{name: "mlps negative", edit: func(in *asset.Input) { in.MLPSLevel = -1 }, wantField: "mlps_level"},
		{name: "bad ip", edit: func(in *asset.Input) { in.IP = "10.0.0.256" }, wantField: "ip"},
		{name: "ip with cidr", edit: func(in *asset.Input) { in.IP = "10.0.0.0/8" }, wantField: "ip"},
		{name: "bad mac", edit: func(in *asset.Input) { in.MAC = "aa:bb:cc" }, wantField: "mac"},
		{name: "eui64 mac", edit: func(in *asset.Input) { in.MAC = "aa:bb:cc:dd:ee:ff:00:11" }, wantField: "mac"},
		{name: "bad date", edit: func(in *asset.Input) { in.ProcuredOn = "2020-13-01" }, wantField: "procured_on"},
		{name: "date text", edit: func(in *asset.Input) { in.RetiredOn = "yesterday" }, wantField: "retired_on"},
		{name: "in service before procured", edit: func(in *asset.Input) { in.ProcuredOn, in.InServiceOn = "2021-01-02", "2021-01-01" }, wantField: "in_service_on"},
		{name: "retired before in service", edit: func(in *asset.Input) { in.InServiceOn, in.RetiredOn = "2021-01-02", "2021-01-01" }, wantField: "retired_on"},
		{name: "retired before procured", edit: func(in *asset.Input) { in.ProcuredOn, in.RetiredOn = "2021-01-02", "2021-01-01" }, wantField: "retired_on"},
		{name: "same day ok", edit: func(in *asset.Input) {
			in.ProcuredOn, in.InServiceOn, in.RetiredOn = "2021-01-01", "2021-01-01", "2021-01-01"
		}},
		{name: "tag with separator", edit: func(in *asset.Input) { in.Tags = []string{"a;b"} }, wantField: "tags"},
		{name: "tag too long", edit: func(in *asset.Input) { in.Tags = []string{strings.Repeat("t", 65)} }, wantField: "tags"},
		{name: "too many tags", edit: func(in *asset.Input) {
			in.Tags = nil
			for i := 0; i < 33; i++ {
				in.Tags = append(in.Tags, strings.Repeat("t", i+1))
			}
		}, wantField: "tags"},
		{name: "notes too long", edit: func(in *asset.Input) { in.Notes = strings.Repeat("n", 4001) }, wantField: "notes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.edit(&in)
			err := in.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				if tc.check != nil {
					tc.check(t, in)
				}
				return
			}
			p, ok := problem.As(err)
			if !ok || p.Kind != problem.KindInvalid || p.Code != "invalid" || p.Field != tc.wantField {
				t.Fatalf("Validate() = %#v, want invalid %s", err, tc.wantField)
			}
		})
	}
}

func TestParseMLPS(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
		bad  bool
	}{
		{"empty", "", 0, false}, {"digit", "3", 3, false}, {"chinese", "三级", 3, false}, {"ordinal", "第三级", 3, false},
		{"prefixed", "等保二级", 2, false}, {"suffixed", "四级等保", 4, false}, {"L", "L1", 1, false}, {"none", "无", 0, false},
		{"five", "5", 0, true}, {"text", "high", 0, true}, {"fifth", "第五级", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := asset.ParseMLPS(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("ParseMLPS(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
}

func TestCRUD(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := input(w.deptA1.ID, "SRV-1")
		in.MAC = "AA-BB-CC-DD-EE-FF"
		in.ProcuredOn, in.InServiceOn = "2020-01-01", "2020-02-01"
		x := mustCreate(t, w, w.actorA, in)
		if x.ID == 0 || x.Version != 1 || x.OrgName != "信息科" || x.OrgPath != w.deptA1.Path || x.MAC != "aa:bb:cc:dd:ee:ff" {
			t.Fatalf("created = %+v", x)
		}
		got, err := w.svc.Get(ctx, w.actorA, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, x) {
			t.Fatalf("Get = %+v\nwant %+v", got, x)
		}

		// Duplicate code in the same org is a conflict; the same code elsewhere is fine.
		_, err = w.svc.Create(ctx, w.actorA, input(w.deptA1.ID, "SRV-1"))
		wantProblem(t, err, problem.KindConflict, "duplicate_code")
		mustCreate(t, w, w.actorA, input(w.deptA2.ID, "SRV-1"))

		// Invalid input and an org that cannot hold assets.
		bad := input(w.deptA1.ID, "SRV-2")
		bad.Zone = "moon"
		_, err = w.svc.Create(ctx, w.actorA, bad)
		wantProblem(t, err, problem.KindInvalid, "invalid")
		_, err = w.svc.Create(ctx, w.prov1, input(w.prov.ID, "SRV-3"))
		wantProblem(t, err, problem.KindInvalid, "invalid")
		_, err = w.svc.Create(ctx, w.actorA, input(99999, "SRV-4"))
		wantProblem(t, err, problem.KindNotFound, "")

		// Update with the right version, then with a stale one.
		up := asset.InputOf(x)
		up.Name, up.Lifecycle = "EMR 应用服务器", "maintenance"
		y, err := w.svc.Update(ctx, w.actorA, x.ID, up)
		if err != nil {
			t.Fatal(err)
		}
		if y.Version != 2 || y.Name != "EMR 应用服务器" || y.Lifecycle != "maintenance" || !y.CreatedAt.Equal(x.CreatedAt) {
			t.Fatalf("updated = %+v", y)
		}
		_, err = w.svc.Update(ctx, w.actorA, x.ID, up) // still version 1
		wantProblem(t, err, problem.KindConflict, "stale_version")
		if got, _ := w.svc.Get(ctx, w.actorA, x.ID); got.Version != 2 || got.Name != "EMR 应用服务器" {
			t.Fatalf("after stale update: %+v", got)
		}
		// Version 0 skips the check; OrgID 0 keeps the org.
		up.Version, up.OrgID, up.Owner = 0, 0, "张伟"
		y, err = w.svc.Update(ctx, w.actorA, x.ID, up)
		if err != nil || y.Version != 3 || y.OrgID != w.deptA1.ID || y.Owner != "张伟" {
			t.Fatalf("update without version = %+v, %v", y, err)
		}
		// Moving it onto a code already used in the target org is a conflict.
		up.OrgID = w.deptA2.ID
		_, err = w.svc.Update(ctx, w.actorA, x.ID, up)
		wantProblem(t, err, problem.KindConflict, "duplicate_code")
		// Moving it to an org outside scope is not found.
		up.OrgID = w.deptB1.ID
		_, err = w.svc.Update(ctx, w.actorA, x.ID, up)
		wantProblem(t, err, problem.KindNotFound, "")

		// Retire: date before in service is invalid; then retired; again is a conflict.
		_, err = w.svc.Retire(ctx, w.actorA, x.ID, "2019-12-31")
		wantProblem(t, err, problem.KindInvalid, "invalid")
		_, err = w.svc.Retire(ctx, w.actorA, x.ID, "someday")
		wantProblem(t, err, problem.KindInvalid, "invalid")
		r, err := w.svc.Retire(ctx, w.actorA, x.ID, "2024-06-30")
		if err != nil || r.Lifecycle != "retired" || r.RetiredOn != "2024-06-30" || r.Version != 4 {
			t.Fatalf("retire = %+v, %v", r, err)
		}
		_, err = w.svc.Retire(ctx, w.actorA, x.ID, "")
		wantProblem(t, err, problem.KindConflict, "already_retired")
		z := mustCreate(t, w, w.actorA, input(w.deptA1.ID, "SRV-5"))
		if r, err := w.svc.Retire(ctx, w.actorA, z.ID, ""); err != nil || len(r.RetiredOn) != 10 {
			t.Fatalf("retire today = %+v, %v", r, err)
		}

		// Delete, then it is gone.
		if err := w.svc.Delete(ctx, w.actorA, x.ID); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.Get(ctx, w.actorA, x.ID)
		wantProblem(t, err, problem.KindNotFound, "")
		wantProblem(t, w.svc.Delete(ctx, w.actorA, x.ID), problem.KindNotFound, "")

		// The trail holds one entry per change, scoped to the asset's org.
		for action, want := range map[string]int{"asset.create": 3, "asset.update": 2, "asset.retire": 2, "asset.delete": 1} {
			if got := countTrail(t, db, action); got != want {
				t.Errorf("trail %s = %d, want %d", action, got, want)
			}
		}
		es, err := trail.List(ctx, db, w.actorA, trail.Filter{ObjectType: "asset", ObjectID: idStr(x.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 5 || es[0].Action != "asset.delete" || es[0].OrgID != w.deptA1.ID || es[0].Actor != "alice" {
			t.Fatalf("trail for asset: %+v", es)
		}
		verifyTrail(t, db)
	})
}

func TestScoping(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		xa := mustCreate(t, w, w.actorA, input(w.deptA1.ID, "A-1"))
		xb := mustCreate(t, w, w.actorB, input(w.deptB1.ID, "B-SECRET"))
		before := countTrail(t, db, "asset.update")

		_, err := w.svc.Get(ctx, w.actorA, xb.ID)
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = w.svc.Update(ctx, w.actorA, xb.ID, input(w.deptA1.ID, "B-SECRET"))
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = w.svc.Retire(ctx, w.actorA, xb.ID, "")
		wantProblem(t, err, problem.KindNotFound, "")
		wantProblem(t, w.svc.Delete(ctx, w.actorA, xb.ID), problem.KindNotFound, "")
		_, err = w.svc.Create(ctx, w.actorA, input(w.deptB1.ID, "X"))
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = w.svc.List(ctx, w.actorA, asset.Query{OrgID: w.hospB.ID})
		wantProblem(t, err, problem.KindNotFound, "")

		// B's asset is untouched.
		got, err := w.svc.Get(ctx, w.actorB, xb.ID)
		if err != nil || !reflect.DeepEqual(got, xb) {
			t.Fatalf("B's asset changed: %+v, %v", got, err)
		}
		if countTrail(t, db, "asset.update") != before {
			t.Fatal("a refused update reached the trail")
		}

		// List, Stats and Export never show B's asset to A.
		p, err := w.svc.List(ctx, w.actorA, asset.Query{Q: "SECRET"})
		if err != nil || p.Total != 0 || len(p.Items) != 0 {
			t.Fatalf("A searching B's code: %+v, %v", p, err)
		}
		p, err = w.svc.List(ctx, w.actorA, asset.Query{})
		if err != nil || p.Total != 1 || p.Items[0].ID != xa.ID {
			t.Fatalf("A's list: %+v, %v", p, err)
		}
		st, err := w.svc.Stats(ctx, w.actorA)
		if err != nil || st.Total != 1 {
			t.Fatalf("A's stats: %+v, %v", st, err)
		}
		for _, c := range st.ByOrg {
			if c.Key == w.hospB.Name {
				t.Fatalf("A's stats name hospital B: %+v", st.ByOrg)
			}
		}
		var buf strings.Builder
		if err := w.svc.Export(ctx, w.actorA, &buf, asset.Query{}, ""); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "B-SECRET") || !strings.Contains(buf.String(), "A-1") {
			t.Fatalf("A's export:\n%s", buf.String())
		}
		// The province sees both.
		st, err = w.svc.Stats(ctx, w.prov1)
		if err != nil || st.Total != 2 {
			t.Fatalf("province stats: %+v, %v", st, err)
		}
	})
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
