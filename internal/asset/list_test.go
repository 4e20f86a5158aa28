package asset_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestListAndStats(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		mk := func(orgID int64, code, name, kind, zone string, mlps int, lifecycle, ip, vendor string, tags ...string) {
			in := asset.Input{OrgID: orgID, Code: code, Name: name, Kind: kind, Zone: zone, MLPSLevel: mlps,
				Lifecycle: lifecycle, IP: ip, Vendor: vendor, Tags: tags}
			mustCreate(t, w, w.prov1, in)
		}
		mk(w.deptA1.ID, "S-1", "HIS 数据库", "server", "internal", 3, "in_service", "10.0.0.1", "华为", "核心", "数据库")
		mk(w.deptA1.ID, "S-2", "EMR 应用", "server", "internal", 3, "maintenance", "10.0.0.2", "Dell", "核心")
		mk(w.deptA2.ID, "M-1", "CT 扫描仪", "medical_device", "medical", 0, "in_service", "172.16.0.9", "联影", "影像")
		mk(w.deptA2.ID, "M-2", "MRI", "medical_device", "medical", 2, "retired", "172.16.0.10", "Siemens")
		mk(w.hospA.ID, "APP-1", "互联网医院 App", "internet_app", "external", 3, "in_service", "", "卫宁健康", "互联网", "核心数据")
		mk(w.deptB1.ID, "S-1", "B 院 HIS 数据库", "server", "internal", 3, "in_service", "10.9.0.1", "华为", "核心")
		mk(w.hospB.ID, "W-1", "门诊工作站", "workstation", "internal", 0, "planned", "10.9.0.2", "联想")

		codes := func(p asset.Page) []string {
			out := []string{}
			for _, x := range p.Items {
				out = append(out, x.OrgName+"/"+x.Code)
			}
			return out
		}
		tests := []struct {
			name      string
			a         string // "A" or "P"
			q         asset.Query
			want      []string
			wantTotal int
		}{
			{name: "A default sort by name", a: "A", q: asset.Query{},
				want: []string{"放射科/M-1", "信息科/S-2", "信息科/S-1", "放射科/M-2", "第一人民医院/APP-1"}, wantTotal: 5},
			{name: "kind filter", a: "A", q: asset.Query{Kind: "server", Sort: "code"}, want: []string{"信息科/S-1", "信息科/S-2"}, wantTotal: 2},
			{name: "kind filter uppercase", a: "A", q: asset.Query{Kind: "SERVER", Sort: "-code"}, want: []string{"信息科/S-2", "信息科/S-1"}, wantTotal: 2},
			{name: "zone filter", a: "A", q: asset.Query{Zone: "medical", Sort: "code"}, want: []string{"放射科/M-1", "放射科/M-2"}, wantTotal: 2},
			{name: "lifecycle filter", a: "A", q: asset.Query{Lifecycle: "retired"}, want: []string{"放射科/M-2"}, wantTotal: 1},
			{name: "mlps filter", a: "P", q: asset.Query{MLPSLevel: 3, Sort: "code"},
				want: []string{"第一人民医院/APP-1", "信息科/S-1", "信息科/S-1", "信息科/S-2"}, wantTotal: 4},
			{name: "tag exact, not substring", a: "A", q: asset.Query{Tag: "核心", Sort: "code"},
				want: []string{"信息科/S-1", "信息科/S-2"}, wantTotal: 2},
			{name: "q searches tags by substring", a: "A", q: asset.Query{Q: "核心", Sort: "code"},
				want: []string{"第一人民医院/APP-1", "信息科/S-1", "信息科/S-2"}, wantTotal: 3},
			{name: "q case-insensitive on vendor", a: "A", q: asset.Query{Q: "siemens"}, want: []string{"放射科/M-2"}, wantTotal: 1},
			{name: "q on ip", a: "A", q: asset.Query{Q: "172.16.0.1"}, want: []string{"放射科/M-2"}, wantTotal: 1},
			{name: "q with like wildcard is literal", a: "A", q: asset.Query{Q: "%"}, want: []string{}, wantTotal: 0},
			{name: "org subtree", a: "P", q: asset.Query{OrgID: w.hospB.ID, Sort: "code"}, want: []string{"信息科/S-1", "第二人民医院/W-1"}, wantTotal: 2},
			{name: "org department", a: "A", q: asset.Query{OrgID: w.deptA2.ID, Sort: "-name"}, want: []string{"放射科/M-2", "放射科/M-1"}, wantTotal: 2},
			{name: "sort mlps desc", a: "A", q: asset.Query{Sort: "-mlps_level", Zone: "medical"}, want: []string{"放射科/M-2", "放射科/M-1"}, wantTotal: 2},
			{name: "sort org", a: "P", q: asset.Query{Sort: "org", Kind: "server"}, want: []string{"信息科/S-2", "信息科/S-1", "信息科/S-1"}, wantTotal: 3},
			{name: "page 2 of 2", a: "A", q: asset.Query{Sort: "code", PerPage: 3, Page: 2}, want: []string{"信息科/S-1", "信息科/S-2"}, wantTotal: 5},
			{name: "page past the end", a: "A", q: asset.Query{Sort: "code", PerPage: 3, Page: 3}, want: []string{}, wantTotal: 5},
			{name: "province sees all", a: "P", q: asset.Query{Sort: "code", PerPage: 2}, want: []string{"第一人民医院/APP-1", "放射科/M-1"}, wantTotal: 7},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a := w.actorA
				if tc.a == "P" {
					a = w.prov1
				}
				p, err := w.svc.List(ctx, a, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := codes(p); !reflect.DeepEqual(got, tc.want) || p.Total != tc.wantTotal {
					t.Fatalf("List(%+v) = %v total %d, want %v total %d", tc.q, got, p.Total, tc.want, tc.wantTotal)
				}
			})
		}

		// Paging defaults and clamps.
		p, err := w.svc.List(ctx, w.actorA, asset.Query{PerPage: 10000, Page: -1})
		if err != nil || p.PerPage != 500 || p.Page != 1 {
			t.Fatalf("clamped page = %+v, %v", p, err)
		}
		p, err = w.svc.List(ctx, w.actorA, asset.Query{})
		if err != nil || p.PerPage != 50 {
			t.Fatalf("default per page = %d, %v", p.PerPage, err)
		}
		// Bad queries.
		for _, q := range []asset.Query{{Sort: "password"}, {Kind: "toaster"}, {Zone: "x"}, {Lifecycle: "x"}, {MLPSLevel: 9}} {
			_, err := w.svc.List(ctx, w.actorA, q)
			wantProblem(t, err, problem.KindInvalid, "invalid")
		}

		// Stats for A: only hospital A's assets, by department.
		st, err := w.svc.Stats(ctx, w.actorA)
		if err != nil {
			t.Fatal(err)
		}
		want := asset.Stats{
			Total: 5,
			ByKind: []asset.Count{{"server", 2}, {"workstation", 0}, {"network", 0}, {"medical_device", 2},
				{"business_system", 0}, {"internet_app", 1}, {"software", 0}},
			ByZone:      []asset.Count{{"internal", 2}, {"external", 1}, {"dmz", 0}, {"medical", 2}},
			ByLifecycle: []asset.Count{{"planned", 0}, {"procured", 0}, {"in_service", 3}, {"maintenance", 1}, {"retired", 1}},
			ByMLPS:      []asset.Count{{"1", 0}, {"2", 1}, {"3", 3}, {"4", 0}, {"none", 1}},
			ByOrg:       []asset.Count{{"信息科", 2}, {"放射科", 2}, {"第一人民医院", 1}},
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatalf("Stats(A) = %+v\nwant %+v", st, want)
		}
		// Stats for the province: rolled up to hospitals.
		st, err = w.svc.Stats(ctx, w.prov1)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 7 || !reflect.DeepEqual(st.ByOrg, []asset.Count{{"第一人民医院", 5}, {"第二人民医院", 2}}) {
			t.Fatalf("Stats(province) = %+v", st)
		}
	})
}
