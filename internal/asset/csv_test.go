package asset_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"math/rand"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func doImport(t testing.TB, w *world, a actor.Actor, data []byte, opt asset.ImportOptions) asset.ImportReport {
	t.Helper()
	rep, err := w.svc.Import(context.Background(), a, bytes.NewReader(data), opt)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return rep
}

// errorsByLine summarises a report's errors as "line:field:code".
func errorsByLine(rep asset.ImportReport) []string {
	var out []string
	for _, e := range rep.Errors {
		out = append(out, strconv.Itoa(e.Line)+":"+e.Field+":"+e.Code)
	}
	return out
}

func byCode(t testing.TB, w *world, a actor.Actor) map[string]asset.Asset {
	t.Helper()
	p, err := w.svc.List(context.Background(), a, asset.Query{PerPage: 500})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]asset.Asset{}
	for _, x := range p.Items {
		m[x.OrgName+"/"+x.Code] = x
	}
	return m
}

func TestImportMixed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		data := readFixture(t, "import_mixed.csv")
		opt := asset.ImportOptions{DefaultOrgID: w.deptA1.ID}

		// A dry run reports exactly what a real import would do and writes nothing.
		trailBefore := verifyTrail(t, db).Entries
		dry := doImport(t, w, w.actorA, data, asset.ImportOptions{DefaultOrgID: w.deptA1.ID, DryRun: true})
		if countAssets(t, db) != 0 || verifyTrail(t, db).Entries != trailBefore {
			t.Fatal("dry run wrote to the database")
		}

		rep := doImport(t, w, w.actorA, data, opt)
		wantErrs := []string{"4:kind:invalid", "5:ip:invalid", "6::field_count", "7::malformed", "8:code:duplicate_in_file",
			"9:org:unknown_org", "10:name:invalid", "12:in_service_on:invalid", "13:code:invalid", "14:mlps_level:invalid", "17::malformed"}
		if got := errorsByLine(rep); !reflect.DeepEqual(got, wantErrs) {
			t.Fatalf("errors = %v\nwant %v", got, wantErrs)
		}
		if rep.Encoding != "utf-8" || rep.Rows != 15 || rep.Created != 4 || rep.Updated != 0 || rep.Rejected != 11 {
			t.Fatalf("report = %+v", rep)
		}
		if !reflect.DeepEqual(dry, rep) {
			t.Fatalf("dry run report %+v\ndiffers from real %+v", dry, rep)
		}
		got := byCode(t, w, w.actorA)
		if len(got) != 4 {
			t.Fatalf("imported %d assets: %v", len(got), got)
		}
		s1 := got["信息科/S-1"]
		if s1.MLPSLevel != 3 || s1.MAC != "aa:bb:cc:dd:ee:01" || !reflect.DeepEqual(s1.Tags, []string{"数据库", "核心"}) || s1.InServiceOn != "2020-02-01" {
			t.Fatalf("S-1 = %+v", s1)
		}
		if s2 := got["信息科/S-2"]; s2.Kind != "server" || s2.Zone != "internal" || s2.MLPSLevel != 3 || s2.Lifecycle != "in_service" {
			t.Fatalf("S-2 = %+v", s2)
		}
		if s11 := got["信息科/S-11"]; s11.Kind != "network" || s11.Lifecycle != "maintenance" {
			t.Fatalf("S-11 (default org) = %+v", s11)
		}
		if _, ok := got["第一人民医院/S-13"]; !ok {
			t.Fatalf("S-13 not in hospital A: %v", got)
		}
		for _, bad := range []string{"S-3", "S-4", "S-5", "S-6", "S-7", "S-8", "S-9", "S-10", "S-12"} {
			for k := range got {
				if strings.HasSuffix(k, "/"+bad) {
					t.Errorf("rejected row %s was imported", bad)
				}
			}
		}
		if n := countTrail(t, db, "asset.create"); n != 4 {
			t.Fatalf("trail asset.create = %d, want 4", n)
		}
		es, err := trail.List(context.Background(), db, w.actorA, trail.Filter{Action: "asset.create"})
		if err != nil || len(es) != 4 || es[0].Summary != "csv import" || es[0].Actor != "alice" {
			t.Fatalf("trail = %+v, %v", es, err)
		}
		verifyTrail(t, db)

		// Importing again: the good rows are now duplicates in the database.
		again := doImport(t, w, w.actorA, data, opt)
		if again.Created != 0 || again.Rejected != 15 || again.Updated != 0 {
			t.Fatalf("second import = %+v", again)
		}
		dups := 0
		for _, e := range again.Errors {
			if e.Code == "duplicate_code" {
				dups++
			}
		}
		if dups != 4 {
			t.Fatalf("duplicate_code errors = %d: %v", dups, errorsByLine(again))
		}
		// With Update, they are updated instead (and nothing else changes).
		upd := doImport(t, w, w.actorA, data, asset.ImportOptions{DefaultOrgID: w.deptA1.ID, Update: true})
		if upd.Created != 0 || upd.Updated != 4 || upd.Rejected != 11 {
			t.Fatalf("update import = %+v", upd)
		}
		if n := countTrail(t, db, "asset.update"); n != 4 {
			t.Fatalf("trail asset.update = %d", n)
		}
		if countAssets(t, db) != 4 {
			t.Fatal("update import created assets")
		}
		verifyTrail(t, db)
	})
}

func TestImportUpdateKeepsAbsentColumns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := input(w.deptA1.ID, "K-1")
		in.Serial, in.Notes = "SN-1", "keep me"
		x := mustCreate(t, w, w.actorA, in)
		csvText := "code,name,kind,zone,owner,org\nK-1,新名称,server,dmz,王芳,HA-IT\nK-2,new,software,internal,,HA-IT\n"
		rep := doImport(t, w, w.actorA, []byte(csvText), asset.ImportOptions{Update: true})
		if rep.Updated != 1 || rep.Created != 1 || rep.Rejected != 0 {
			t.Fatalf("report = %+v", rep)
		}
		y, err := w.svc.Get(ctx, w.actorA, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if y.Name != "新名称" || y.Zone != "dmz" || y.Owner != "王芳" || y.Serial != "SN-1" || y.Notes != "keep me" ||
			y.MLPSLevel != 3 || y.Version != 2 || !reflect.DeepEqual(y.Tags, []string{"核心"}) {
			t.Fatalf("updated = %+v", y)
		}
		// Without a default org, a row with an empty org column is rejected.
		rep = doImport(t, w, w.actorA, []byte("code,name,kind,zone\nK-3,a,server,internal\n"), asset.ImportOptions{})
		if rep.Rejected != 1 || rep.Errors[0].Field != "org" {
			t.Fatalf("no org = %+v", rep)
		}
		// A default org outside the actor's scope is refused outright.
		_, err = w.svc.Import(ctx, w.actorA, strings.NewReader(csvText), asset.ImportOptions{DefaultOrgID: w.deptB1.ID})
		wantProblem(t, err, problem.KindNotFound, "")
	})
}

func TestImportHeaders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		tests := []struct {
			name     string
			data     []byte
			wantCode string
		}{
			{"unknown column", readFixture(t, "import_unknown_column.csv"), "unknown_column"},
			{"missing column", readFixture(t, "import_missing_column.csv"), "missing_column"},
			{"duplicate column", []byte("code,name,kind,zone,编号\nX,a,server,internal,Y\n"), "duplicate_column"},
			{"empty file", nil, "missing_header"},
			{"only blank lines", []byte("\n\n\r\n"), "missing_header"},
			{"malformed header", []byte("code,\"name\n"), "malformed"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				rep := doImport(t, w, w.actorA, tc.data, asset.ImportOptions{DefaultOrgID: w.hospA.ID})
				if len(rep.Errors) != 1 || rep.Errors[0].Line != 1 || rep.Errors[0].Code != tc.wantCode || rep.Rows != 0 || rep.Created != 0 {
					t.Fatalf("report = %+v", rep)
				}
			})
		}
		if countAssets(t, db) != 0 {
			t.Fatal("a file with a bad header imported assets")
		}
		// Semicolon- and tab-separated files with spaced, capitalised headers.
		for i, text := range []string{
			"Code;Name;Kind;Zone;Tags\nSEMI-1;a;server;internal;\"x,y\"\n",
			"CODE\tName\tkind\tZONE\tMLPS Level\nTAB-1\ta\tserver\tinternal\t2\n",
		} {
			rep := doImport(t, w, w.actorA, []byte(text), asset.ImportOptions{DefaultOrgID: w.hospA.ID})
			if rep.Created != 1 {
				t.Fatalf("file %d: %+v", i, rep)
			}
		}
	})
}

// TestImportRefusesNonText: a workbook or a truncated UTF-16 file is refused as a whole,
// with a problem code the page translates, instead of being read as GBK nonsense.
func TestImportRefusesNonText(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for _, tt := range []struct {
			name, code string
			data       []byte
		}{
			{"xlsx", "not_text", []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml")},
			{"odd utf-16", "bad_encoding", []byte("\xff\xfec\x00o\x00d\x00e\x00\n")},
			{"cut utf-8", "bad_encoding", []byte("code,name,kind,zone\nA-1,张三,server,internal\nA-2,\xe6\x9d")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := w.svc.Import(context.Background(), w.actorA, bytes.NewReader(tt.data), asset.ImportOptions{DefaultOrgID: w.hospA.ID})
				if p, ok := problem.As(err); !ok || p.Code != tt.code || p.Field != "file" {
					t.Fatalf("Import = %v, want a problem with code %s", err, tt.code)
				}
			})
		}
	})
}

func TestImportChineseAndEncodings(t *testing.T) {
	utf8BOM := readFixture(t, "import_chinese.csv")
	plain := bytes.TrimPrefix(utf8BOM, []byte{0xEF, 0xBB, 0xBF})
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(plain)
	if err != nil {
		t.Fatal(err)
	}
	u16le, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(plain)
	if err != nil {
		t.Fatal(err)
	}
	u16be, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes(plain)
	if err != nil {
		t.Fatal(err)
	}
	u16leBare, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes(plain)
	if err != nil {
		t.Fatal(err)
	}
	files := []struct {
		name, enc string
		data      []byte
	}{
		{"utf-8 with bom", "utf-8", utf8BOM},
		{"utf-16le without bom", "utf-16le", u16leBare},
		{"utf-8", "utf-8", plain},
		{"gbk", "gbk", gbk},
		{"utf-16le", "utf-16le", u16le},
		{"utf-16be", "utf-16be", u16be},
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		for _, f := range files {
			t.Run(f.name, func(t *testing.T) {
				w := newWorld(t, db)
				rep := doImport(t, w, w.actorA, f.data, asset.ImportOptions{})
				if rep.Encoding != f.enc || rep.Created != 4 || rep.Rejected != 0 {
					t.Fatalf("report = %+v", rep)
				}
				got := byCode(t, w, w.actorA)
				cn1 := got["信息科/CN-1"]
				if cn1.Kind != "business_system" || cn1.Zone != "internal" || cn1.MLPSLevel != 3 || cn1.Owner != "张伟" ||
					cn1.ProcuredOn != "2019-05-01" || !reflect.DeepEqual(cn1.Tags, []string{"核心业务", "等保三级"}) || cn1.Notes != "重点保护" {
					t.Fatalf("CN-1 = %+v", cn1)
				}
				cn2 := got["放射科/CN-2"]
				if cn2.Kind != "medical_device" || cn2.Zone != "medical" || cn2.MLPSLevel != 2 || cn2.MAC != "00:1a:2b:3c:4d:5e" ||
					cn2.Lifecycle != "maintenance" || cn2.Serial != "SN123" || cn2.Model != "uCT 760" {
					t.Fatalf("CN-2 = %+v", cn2)
				}
				if cn3 := got["第一人民医院/CN-3"]; cn3.Kind != "internet_app" || cn3.Zone != "external" || cn3.Lifecycle != "planned" {
					t.Fatalf("CN-3 = %+v", cn3)
				}
				if cn4 := got["放射科/CN-4"]; cn4.Zone != "dmz" || cn4.MLPSLevel != 4 || cn4.Lifecycle != "retired" || cn4.RetiredOn != "2020-12-31" {
					t.Fatalf("CN-4 = %+v", cn4)
				}
			})
		}
	})
}

// TestExportImportRoundTrip exports in each language — column names and codes, or the
// labels the UI shows in Chinese or English — and imports the file back into a fresh
// database: the same assets come out.
func TestExportImportRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ins := asset.Generate(rand.New(rand.NewSource(3)), demoOrgs(w)[:3], 300)
		tricky := input(w.deptA1.ID, "=TRICKY")
		tricky.Name, tricky.Notes, tricky.Tags = "=HYPERLINK(\"http://x\")", "line 1\nline \"2\", with comma", []string{"-minus", "@at"}
		tricky.Owner, tricky.Location = "+86 张伟", "'=quoted"
		ins = append(ins, tricky)
		if _, err := w.svc.BulkCreate(ctx, w.actorA, ins); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, w, w.actorB, input(w.deptB1.ID, "NOT-EXPORTED"))
		strip := func(m map[string]asset.Asset) map[string]asset.Input {
			r := map[string]asset.Input{}
			for k, x := range m {
				in := asset.InputOf(x)
				in.OrgID, in.Version = 0, 0
				r[k] = in
			}
			return r
		}
		all := func(w *world) map[string]asset.Asset {
			m := map[string]asset.Asset{}
			err := forEachPage(ctx, w, func(x asset.Asset) { m[x.OrgName+"/"+x.Code] = x })
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		a1 := strip(all(w))
		delete(a1, "信息科/NOT-EXPORTED")
		for _, tt := range []struct {
			lang, start, medical string
		}{
			{"", "\ufeffcode,name,kind,", "medical_device"},
			{"zh-CN", "\ufeff资产编号,名称,资产类型,子类型,所属机构,负责人,位置,网络区域,等保级别,IP 地址,MAC 地址,", "医疗设备"},
			{"en", "\ufeffCode,Name,Kind,Subtype,Organisation,", "Medical device"},
		} {
			t.Run("lang="+tt.lang, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.svc.Export(ctx, w.actorA, &buf, asset.Query{Sort: "code"}, tt.lang); err != nil {
					t.Fatal(err)
				}
				out := bytes.Clone(buf.Bytes())
				if !bytes.HasPrefix(out, []byte(tt.start)) {
					t.Fatalf("export starts %q", out[:min(len(out), 120)])
				}
				if bytes.Contains(out, []byte("NOT-EXPORTED")) {
					t.Fatal("export contains hospital B's asset")
				}
				if !bytes.Contains(out, []byte("'=TRICKY")) || bytes.Contains(out, []byte(",=")) {
					t.Fatal("formula cells are not neutralised")
				}
				recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
				if err != nil || len(recs) != 302 {
					t.Fatalf("export has %d records, %v", len(recs), err)
				}
				// A filtered export holds only matching rows.
				buf.Reset()
				if err := w.svc.Export(ctx, w.actorA, &buf, asset.Query{Kind: "medical_device"}, tt.lang); err != nil {
					t.Fatal(err)
				}
				recs, _ = csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
				if len(recs) < 2 {
					t.Fatal("no medical devices exported")
				}
				for _, r := range recs[1:] {
					if r[2] != tt.medical {
						t.Fatalf("filtered export has %v", r)
					}
				}

				// Import the full export into a fresh database with the same organisations.
				db2 := storetest.Open(t, db.Dialect())
				w2 := newWorld(t, db2)
				rep := doImport(t, w2, w2.actorA, out, asset.ImportOptions{})
				if rep.Created != 301 || rep.Rejected != 0 {
					t.Fatalf("round trip import = %+v", rep)
				}
				a2 := strip(all(w2))
				if !reflect.DeepEqual(a1, a2) {
					for k, v := range a1 {
						if !reflect.DeepEqual(v, a2[k]) {
							t.Fatalf("round trip differs for %s:\n%+v\n%+v", k, v, a2[k])
						}
					}
					t.Fatalf("round trip differs: %d vs %d assets", len(a1), len(a2))
				}
			})
		}
	})
}

func forEachPage(ctx context.Context, w *world, fn func(asset.Asset)) error {
	for page := 1; ; page++ {
		p, err := w.svc.List(ctx, w.actorA, asset.Query{Page: page, PerPage: 100, Sort: "code"})
		if err != nil {
			return err
		}
		for _, x := range p.Items {
			fn(x)
		}
		if page*p.PerPage >= p.Total {
			return nil
		}
	}
}

// generatedCSV writes ins as an import file.
func generatedCSV(t testing.TB, ins []asset.Input, orgCode map[int64]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(asset.Columns)
	for _, in := range ins {
		mlps := ""
		if in.MLPSLevel > 0 {
			mlps = strconv.Itoa(in.MLPSLevel)
		}
		_ = cw.Write([]string{in.Code, in.Name, in.Kind, in.Subtype, orgCode[in.OrgID], in.Owner, in.Location, in.Zone,
			mlps, in.IP, in.MAC, in.Vendor, in.Model, in.Serial, in.Lifecycle, in.ProcuredOn, in.InServiceOn,
			in.RetiredOn, strings.Join(in.Tags, ";"), in.Notes})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportLarge(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// 50,000 rows on both engines (-short: 5,000).
		n := 50_000
		if testing.Short() {
			n = 5_000
		}
		w := newWorld(t, db)
		orgs := demoOrgs(w)[:3]
		codes := map[int64]string{}
		for _, o := range orgs {
			codes[o.ID] = o.Code
		}
		ins := asset.Generate(rand.New(rand.NewSource(50)), orgs, n)
		data := generatedCSV(t, ins, codes)
		start := time.Now()
		rep := doImport(t, w, w.actorA, data, asset.ImportOptions{})
		t.Logf("imported %d rows in %v", n, time.Since(start).Round(time.Millisecond))
		if rep.Rows != n || rep.Created != n || rep.Rejected != 0 {
			t.Fatalf("report: rows %d created %d rejected %d, first errors %v", rep.Rows, rep.Created, rep.Rejected, firstErrors(rep))
		}
		if got := countAssets(t, db); got != n {
			t.Fatalf("assets = %d, want %d", got, n)
		}
		if got := countTrail(t, db, "asset.create"); got != n {
			t.Fatalf("trail entries = %d, want %d", got, n)
		}
		verifyTrail(t, db)
		st, err := w.svc.Stats(context.Background(), w.actorA)
		if err != nil || st.Total != n {
			t.Fatalf("stats total = %d, %v", st.Total, err)
		}
	})
}

func firstErrors(rep asset.ImportReport) []asset.RowError {
	return rep.Errors[:min(5, len(rep.Errors))]
}

func TestImportLimits(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	w := newWorld(t, db)
	ctx := context.Background()
	// A field over 1 MiB is a row error; the other rows are imported.
	big := strings.Repeat("x", asset.MaxFieldBytes+1)
	text := "code,name,kind,zone,notes\nL-1,a,server,internal," + big + "\nL-2,b,server,internal,ok\n"
	rep := doImport(t, w, w.actorA, []byte(text), asset.ImportOptions{DefaultOrgID: w.hospA.ID})
	if rep.Created != 1 || rep.Rejected != 1 || rep.Errors[0].Code != "too_long" || rep.Errors[0].Line != 2 {
		t.Fatalf("report = %+v", rep)
	}
	// More than MaxImportRows rows: refused before anything is written.
	var b strings.Builder
	b.WriteString("code,name,kind,zone\n")
	for i := 0; i <= asset.MaxImportRows; i++ {
		b.WriteString("R-")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(",n,server,internal\n")
	}
	before := countAssets(t, db)
	_, err := w.svc.Import(ctx, w.actorA, strings.NewReader(b.String()), asset.ImportOptions{DefaultOrgID: w.hospA.ID})
	wantProblem(t, err, problem.KindInvalid, "invalid")
	if countAssets(t, db) != before {
		t.Fatal("an oversized file was partly imported")
	}
}

// TestImportErrorsSorted checks that errors found while writing (duplicates in the
// database) are merged in line order with those found while parsing.
func TestImportErrorsSorted(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	w := newWorld(t, db)
	mustCreate(t, w, w.actorA, input(w.hospA.ID, "D-2"))
	text := "code,name,kind,zone\nD-1,a,server,internal\nD-2,b,server,internal\nD-3,c,bad,internal\n"
	rep := doImport(t, w, w.actorA, []byte(text), asset.ImportOptions{DefaultOrgID: w.hospA.ID})
	lines := []int{}
	for _, e := range rep.Errors {
		lines = append(lines, e.Line)
	}
	if !sort.IntsAreSorted(lines) || !reflect.DeepEqual(errorsByLine(rep), []string{"3:code:duplicate_code", "4:kind:invalid"}) {
		t.Fatalf("errors = %v", errorsByLine(rep))
	}
}

// TestImportErrorsDoNotQuote imports rows whose cells carry a resident ID number where a
// message could quote it (an unknown column, an unknown organisation, a repeated or
// existing code, a bad value): every message names the line, field or column position,
// never the cell.
func TestImportErrorsDoNotQuote(t *testing.T) {
	const marker = "440305198807150031"
	w := newWorld(t, storetest.Open(t, store.SQLite))
	doImport(t, w, w.actorA, []byte("code,name,kind,zone\nA"+marker+",x,server,internal\n"), asset.ImportOptions{DefaultOrgID: w.deptA1.ID})
	data := "code,name,kind,zone,org\n" +
		"A" + marker + ",x,server,internal,\n" + // exists already
		"B" + marker + ",x,server,internal,\n" +
		"B" + marker + ",x,server,internal,\n" + // repeated in the file
		"C1,x,server,internal," + marker + "\n" + // unknown organisation
		"C2,x," + marker + ",internal,\n" // bad kind
	rep := doImport(t, w, w.actorA, []byte(data), asset.ImportOptions{DefaultOrgID: w.deptA1.ID})
	header := doImport(t, w, w.actorA, []byte("code,name,kind,zone,"+marker+"\nD,x,server,internal,y\n"), asset.ImportOptions{DefaultOrgID: w.deptA1.ID})
	codes := map[string]bool{}
	for _, e := range append(rep.Errors, header.Errors...) {
		codes[e.Code] = true
		if strings.Contains(e.Message, marker) {
			t.Errorf("line %d (%s): message quotes the cell: %q", e.Line, e.Code, e.Message)
		}
	}
	for _, c := range []string{"unknown_column", "duplicate_code", "duplicate_in_file", "unknown_org", "invalid"} {
		if !codes[c] {
			t.Errorf("no %s error in %+v", c, rep.Errors)
		}
	}
}

// TestImportUILabels: a header typed from the labels the asset form shows — in Chinese or
// English, with or without spaces, in full-width characters, in any case, with the
// form's required-field asterisk — is accepted, and so are the kind, zone and lifecycle
// labels the UI shows.
func TestImportUILabels(t *testing.T) {
	files := []struct{ name, csv string }{
		{"zh-CN form labels", "资产编号,名称,资产类型,网络区域,所属机构,IP 地址,MAC 地址,投入使用日期,生命周期,等保级别\n" +
			"L-1,HIS,业务系统,医疗设备网,信息科,10.0.0.1,00:1a:2b:3c:4d:5e,2020-01-02,维修中,第三级\n"},
		{"zh-CN, no spaces, full width, asterisks", "资产编号 *,名称*,资产类型 *,网络区域 *,所属机构,ＩＰ地址,ＭＡＣ　地址,投入 使用 日期,生命周期,等保级别\n" +
			"L-1,HIS,业务系统,医疗设备网,信息科,10.0.0.1,00:1a:2b:3c:4d:5e,2020-01-02,维修中,第三级\n"},
		{"en form labels", "Code,Name,Kind,Network zone,Organisation,IP address,MAC address,In service since,Lifecycle,MLPS level\n" +
			"L-1,HIS,Business system,Medical device network,信息科,10.0.0.1,00:1a:2b:3c:4d:5e,2020-01-02,Under maintenance,Level 3\n"},
		{"en, other case and spacing", "CODE,name,KIND,network  zone,ORGANISATION,ip-address,Mac Address,in_service_since,LIFECYCLE,mlps level\n" +
			"L-1,HIS,business system,medical device network,信息科,10.0.0.1,00:1a:2b:3c:4d:5e,2020-01-02,under maintenance,level 3\n"},
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		for _, f := range files {
			t.Run(f.name, func(t *testing.T) {
				w := newWorld(t, db)
				rep := doImport(t, w, w.actorA, []byte(f.csv), asset.ImportOptions{})
				if rep.Created != 1 || rep.Rejected != 0 || len(rep.Errors) != 0 {
					t.Fatalf("report = %+v", rep)
				}
				x := byCode(t, w, w.actorA)["信息科/L-1"]
				if x.IP != "10.0.0.1" || x.MAC != "00:1a:2b:3c:4d:5e" || x.InServiceOn != "2020-01-02" || x.Kind != asset.KindBusinessSystem ||
					x.Zone != asset.ZoneMedical || x.Lifecycle != asset.LifecycleMaintenance || x.MLPSLevel != 3 {
					t.Fatalf("imported %+v", x)
				}
			})
		}
	})
}

// TestImportUnknownColumn: an unknown header is named by its position (never quoted back)
// and the accepted names are listed.
func TestImportUnknownColumn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rep := doImport(t, w, w.actorA, []byte("资产编号,名称,患者张三,资产类型,网络区域,Colour\nU-1,x,y,server,internal,red\n"), asset.ImportOptions{})
		if len(rep.Errors) != 1 {
			t.Fatalf("errors = %+v", rep.Errors)
		}
		e := rep.Errors[0]
		if e.Code != "unknown_column" || e.Line != 1 || !reflect.DeepEqual(e.Positions, []int{3, 6}) {
			t.Fatalf("error = %+v", e)
		}
		if strings.Contains(e.Message, "张三") || strings.Contains(e.Message, "Colour") ||
			!strings.Contains(e.Message, "position 3, 6") || !strings.Contains(e.Message, "IP address") {
			t.Fatalf("message = %q", e.Message)
		}
	})
}
