package reference

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

var testKey = bytes.Repeat([]byte{7}, KeySize)

type world struct {
	t            testing.TB
	db           *store.DB
	svc          *Service
	hospA, hospB org.Node
	adminA       actor.Actor // sees hospital A only
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	prov, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "province"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db}
	if w.hospA, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if w.hospB, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: "B"}); err != nil {
		t.Fatal(err)
	}
	w.adminA = actor.Actor{Username: "a", Role: "admin", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	if w.svc, err = New(db, tl, Options{Key: testKey, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) imp(orgID int64, kind, csv string) Report {
	w.t.Helper()
	rep, err := w.svc.Import(context.Background(), actor.System(), orgID, kind, strings.NewReader(csv))
	if err != nil {
		w.t.Fatalf("import %s: %v", kind, err)
	}
	return rep
}

const (
	staffCSV = "staff_id,account,name,department,role,address\n" +
		"S1,u1,王芳,心内科,nurse,东城区和平里1号1-101\n" +
		"S2,u2,李强,骨科,doctor,西城区建设路2号2-202\n" +
		"S3,u3,张三,骨科,doctor,东城区和平里1号2-201\n"
	patientsCSV = "patient_id,name,address,vip,deceased_on,staff_id\n" +
		"P1,王伟,东城区和平里１号 1-101,false,,\n" +
		"P2,赵敏,朝阳区幸福路3号3-303,true,,\n" +
		"P3,李强,西城区建设路2号2-202,false,,S2\n" +
		"P4,钱七,海淀区学院路9号,0,2026-01-05,\n" +
		"P5,刘梅,东城区和平里1号1-101,false,,\n"
	encountersCSV = "patient_id,staff_id,department,start,end\n" +
		"P2,S2,骨科,2026-03-01 08:00:00,\n" +
		"P1,,心内科,2026-02-01T08:00:00+08:00,2026-02-10 12:00:00\n"
)

// TestImportAndLookups imports each kind and checks what the engine reads back: staff by
// account, patients by hash, relation flags (family, neighbour, co-worker, self, VIP,
// deceased) and open or recent encounters.
func TestImportAndLookups(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		for kind, csv := range map[string]string{KindStaff: staffCSV, KindPatients: patientsCSV, KindEncounters: encountersCSV} {
			rep := w.imp(w.hospA.ID, kind, csv)
			if rep.ErrorCount != 0 || rep.Imported != rep.Rows || rep.Rows == 0 {
				t.Fatalf("%s: %+v", kind, rep)
			}
		}
		s1, err := w.svc.StaffByAccount(ctx, w.hospA.ID, "u1")
		if err != nil || s1.StaffID != "S1" || s1.Department != "心内科" {
			t.Fatalf("StaffByAccount u1 = %+v, %v", s1, err)
		}
		s2, _ := w.svc.StaffByAccount(ctx, w.hospA.ID, "u2")
		s3, _ := w.svc.StaffByAccount(ctx, w.hospA.ID, "u3")
		pat := func(id string) Patient {
			t.Helper()
			p, err := w.svc.PatientByHash(ctx, w.hospA.ID, w.svc.PatientHash(id))
			if err != nil {
				t.Fatalf("patient %s: %v", id, err)
			}
			return p
		}
		for _, c := range []struct {
			name string
			st   Staff
			p    Patient
			want Flags
		}{
			{"王芳 reads 王伟 at her address: family", s1, pat("p1"), Flags{Family: true}},
			{"张三 reads 王伟 in his building: neighbour", s3, pat("P1"), Flags{Neighbour: true}},
			{"王芳 reads 刘梅 at her address, other surname: neighbour", s1, pat("P5"), Flags{Neighbour: true}},
			{"李强 reads 王伟 elsewhere: nothing", s2, pat("P1"), Flags{}},
			{"王芳 reads employee 李强: co-worker", s1, pat("P3"), Flags{CoWorker: true}},
			{"李强 reads himself", s2, pat("P3"), Flags{Self: true}},
			{"VIP", s2, pat("P2"), Flags{VIP: true}},
			{"deceased", s2, pat("P4"), Flags{Deceased: true}},
		} {
			if got := Relate(c.st, c.p); got != c.want {
				t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
			}
		}
		if p := pat("P4"); p.DeceasedOn != "2026-01-05" {
			t.Errorf("deceased_on %q", p.DeceasedOn)
		}
		if id, err := w.svc.PatientID(ctx, w.hospA.ID, w.svc.PatientHash("P2")); err != nil || id != "P2" {
			t.Errorf("PatientID = %q, %v", id, err)
		}

		at := time.Date(2026, 3, 2, 9, 0, 0, 0, Shanghai)
		enc, err := w.svc.OpenOrRecentEncounters(ctx, w.hospA.ID, w.svc.PatientHash("P2"), "S2", "", at, 0)
		if err != nil || len(enc) != 1 || !enc[0].Open(at) || !enc[0].Start.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("open encounter of P2 with S2: %+v, %v", enc, err)
		}
		if enc, _ := w.svc.OpenOrRecentEncounters(ctx, w.hospA.ID, w.svc.PatientHash("P2"), "S1", "心内科", at, 0); len(enc) != 0 {
			t.Errorf("S1 has no encounter with P2: %+v", enc)
		}
		// P1's encounter in 心内科 ended 2026-02-10 04:00 UTC: recent within 30 days, not within 7.
		if enc, _ := w.svc.OpenOrRecentEncounters(ctx, w.hospA.ID, w.svc.PatientHash("P1"), "", "心内科", at, 30*24*time.Hour); len(enc) != 1 || enc[0].End == nil {
			t.Errorf("recent department encounter of P1: %+v", enc)
		}
		if enc, _ := w.svc.OpenOrRecentEncounters(ctx, w.hospA.ID, w.svc.PatientHash("P1"), "", "心内科", at, 7*24*time.Hour); len(enc) != 0 {
			t.Errorf("encounter ended 20 days ago counted within 7: %+v", enc)
		}
		sum, err := w.svc.Summary(ctx, w.adminA, w.hospA.ID)
		if err != nil || sum != (Summary{OrgID: w.hospA.ID, Staff: 3, Patients: 5, Encounters: 2, OpenEncounters: 1}) {
			t.Errorf("summary %+v, %v", sum, err)
		}
	})
}

// TestImportGBK: a GBK file imports as the same values as its UTF-8 text.
func TestImportGBK(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(staffCSV)
		if err != nil {
			t.Fatal(err)
		}
		rep := w.imp(w.hospA.ID, KindStaff, gbk)
		if rep.Encoding != "gbk" || rep.Imported != 3 || rep.ErrorCount != 0 {
			t.Fatalf("%+v", rep)
		}
		st, err := w.svc.StaffByAccount(context.Background(), w.hospA.ID, "u1")
		if err != nil || st.Department != "心内科" || st.SurnameHash != w.svc.SurnameHash("王芳") ||
			st.AddressHash != w.svc.AddressHash("东城区和平里1号1-101") {
			t.Fatalf("%+v, %v", st, err)
		}
	})
}

// TestImportBadRows: bad rows are reported by line, column and code without their
// values, and the good rows of the file are imported.
func TestImportBadRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		csv := "patient_id,name,address,vip,deceased_on,staff_id\n" +
			"P1,王伟,东城区和平里1号1-101,false,,\n" +
			",秘密甲,秘密地址,false,,\n" +
			"P3,秘密乙,地址,maybe-秘密,,\n" +
			"P4,秘密丙,地址,false,yesterday-秘密,\n" +
			"P5,only,three\n" +
			"P6,ok,addr,true,,\n"
		rep := w.imp(w.hospA.ID, KindPatients, csv)
		want := []RowError{
			{Line: 3, Column: "patient_id", Code: CodeRequired},
			{Line: 4, Column: "vip", Code: CodeBool},
			{Line: 5, Column: "deceased_on", Code: CodeDate},
			{Line: 6, Code: CodeFields},
		}
		if rep.Rows != 6 || rep.Imported != 2 || rep.ErrorCount != len(want) || len(rep.Errors) != len(want) {
			t.Fatalf("%+v", rep)
		}
		for i, e := range rep.Errors {
			if e.Line != want[i].Line || e.Column != want[i].Column || e.Code != want[i].Code || e.Message == "" {
				t.Errorf("error %d = %+v, want %+v", i, e, want[i])
			}
			if strings.Contains(e.Message, "秘密") || strings.Contains(e.Message, "maybe") || strings.Contains(e.Message, "yesterday") {
				t.Errorf("error %d echoes the value: %q", i, e.Message)
			}
		}
		enc := "patient_id,staff_id,department,start,end\n" +
			"P1,S1,,2026-03-01 08:00:00,2026-02-01 08:00:00\n" +
			"P1,,,2026-03-01 08:00:00,\n" +
			"P1,S1,,03/01/2026,\n"
		rep = w.imp(w.hospA.ID, KindEncounters, enc)
		if rep.Imported != 0 || rep.ErrorCount != 3 || rep.Errors[0].Code != CodeEndBefore ||
			rep.Errors[1].Code != CodeNoOwner || rep.Errors[2].Code != CodeTime {
			t.Fatalf("%+v", rep)
		}
		// A file-level problem: wrong header, nothing imported, a catalogued message.
		_, err := w.svc.Import(context.Background(), actor.System(), w.hospA.ID, KindStaff,
			strings.NewReader("staff_id,account,name\nS9,秘密,x\n"))
		if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Msg == nil || strings.Contains(pe.Message, "秘密") {
			t.Fatalf("bad header: %v", err)
		}
	})
}

// TestReimportReplaces: a second import upserts by key — the same staff_id, patient_id
// or encounter (patient, staff, start) is replaced, not added.
func TestReimportReplaces(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.imp(w.hospA.ID, KindStaff, staffCSV)
		w.imp(w.hospA.ID, KindPatients, patientsCSV)
		w.imp(w.hospA.ID, KindEncounters, encountersCSV)
		w.imp(w.hospA.ID, KindStaff, "staff_id,account,name,department,role,address\nS1,u1new,王芳,急诊科,nurse,东城区和平里1号1-101\n")
		w.imp(w.hospA.ID, KindPatients, "patient_id,name,address,vip,deceased_on,staff_id\np2,赵敏,朝阳区幸福路3号3-303,false,,\n")
		w.imp(w.hospA.ID, KindEncounters, "patient_id,staff_id,department,start,end\nP2,S2,骨科,2026-03-01T00:00:00Z,2026-03-01 20:00:00\n")
		if _, err := w.svc.StaffByAccount(ctx, w.hospA.ID, "u1"); err != ErrNotFound {
			t.Errorf("old account still found: %v", err)
		}
		if st, err := w.svc.StaffByAccount(ctx, w.hospA.ID, "u1new"); err != nil || st.Department != "急诊科" {
			t.Errorf("replaced staff: %+v, %v", st, err)
		}
		if p, _ := w.svc.PatientByHash(ctx, w.hospA.ID, w.svc.PatientHash("P2")); p.VIP {
			t.Error("patient P2 still VIP after re-import")
		}
		sum, _ := w.svc.Summary(ctx, actor.System(), w.hospA.ID)
		if sum.Staff != 3 || sum.Patients != 5 || sum.Encounters != 2 || sum.OpenEncounters != 0 {
			t.Errorf("summary after re-import %+v", sum)
		}
	})
}

// TestSealedAtRest: names, addresses and patient identifiers are not in the database in
// clear; the hashes depend on the key.
func TestSealedAtRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.imp(w.hospA.ID, KindStaff, staffCSV)
		w.imp(w.hospA.ID, KindPatients, "patient_id,name,address,vip,deceased_on,staff_id\nZX9187234,欧阳娜娜,海淀区秘密路77号5-501,true,,\n")
		w.imp(w.hospA.ID, KindEncounters, "patient_id,staff_id,department,start,end\nZX9187234,S1,,2026-03-01 08:00:00,\n")
		secrets := []string{"ZX9187234", "zx9187234", "欧阳娜娜", "秘密路", "王芳", "和平里"}
		var dump strings.Builder
		for _, q := range []string{
			`SELECT patient_hash || patient_sealed || name_sealed || surname_hash || address_sealed || address_hash || building_hash FROM reference_patients`,
			`SELECT staff_id || account || name_sealed || surname_hash || address_sealed || address_hash || building_hash FROM reference_staff`,
			`SELECT patient_hash FROM reference_encounters`,
			`SELECT summary FROM trail`,
		} {
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				dump.WriteString(s + "\n")
			}
			rows.Close()
		}
		for _, s := range secrets {
			if strings.Contains(dump.String(), s) {
				t.Errorf("the database holds %q in clear", s)
			}
		}
		if db.Dialect() == store.SQLite {
			var seq int
			var name, file string
			if err := db.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{file, file + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				for _, s := range secrets {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s contains %q", f, s)
					}
				}
			}
		}
		other, err := New(db, nil, Options{Key: bytes.Repeat([]byte{8}, KeySize)})
		if err != nil {
			t.Fatal(err)
		}
		if other.PatientHash("ZX9187234") == w.svc.PatientHash("ZX9187234") {
			t.Error("the patient hash does not depend on the key")
		}
		if _, err := other.PatientID(ctx, w.hospA.ID, w.svc.PatientHash("ZX9187234")); err == nil {
			t.Error("a sealed identifier opened under another key")
		}
	})
}

// TestTenancy: an actor imports into and counts only organisations it sees, an
// invisible one looks like a missing one, and lookups never cross organisations.
func TestTenancy(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if _, err := w.svc.Import(ctx, w.adminA, w.hospB.ID, KindStaff, strings.NewReader(staffCSV)); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("import into another hospital: %v", err)
		}
		if _, err := w.svc.Summary(ctx, w.adminA, w.hospB.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("summary of another hospital: %v", err)
		}
		if _, err := w.svc.Import(ctx, w.adminA, w.hospA.ID, KindStaff, strings.NewReader(staffCSV)); err != nil {
			t.Fatal(err)
		}
		w.imp(w.hospA.ID, KindPatients, patientsCSV)
		if _, err := w.svc.StaffByAccount(ctx, w.hospB.ID, "u1"); err != ErrNotFound {
			t.Errorf("hospital B sees A's staff: %v", err)
		}
		if _, err := w.svc.PatientByHash(ctx, w.hospB.ID, w.svc.PatientHash("P1")); err != ErrNotFound {
			t.Errorf("hospital B sees A's patient: %v", err)
		}
		if sum, _ := w.svc.Summary(ctx, actor.System(), w.hospB.ID); sum.Staff != 0 || sum.Patients != 0 {
			t.Errorf("hospital B summary %+v", sum)
		}
	})
}
