package reference

import (
	"context"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// FuzzImportCSV: any input, as any kind, is imported or rejected with a problem, never a
// panic; the report's counts add up and its messages are catalogue texts, never input.
func FuzzImportCSV(f *testing.F) {
	f.Add(uint8(0), []byte(staffCSV))
	f.Add(uint8(1), []byte(patientsCSV))
	f.Add(uint8(2), []byte(encountersCSV))
	f.Add(uint8(1), []byte("patient_id,name,address,vip,deceased_on,staff_id\n\"P1,x\n"))
	w := newWorld(f, storetest.Open(f, store.SQLite))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		kind := Kinds[int(k)%len(Kinds)]
		rep, err := w.svc.Import(context.Background(), actor.System(), w.hospA.ID, kind, strings.NewReader(string(data)))
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("%s: not a problem: %v", kind, err)
			}
			return
		}
		if rep.Imported+len(rep.Errors) < rep.Imported || rep.Imported > rep.Rows || rep.ErrorCount < len(rep.Errors) {
			t.Fatalf("counts do not add up: %+v", rep)
		}
		for _, e := range rep.Errors {
			if e.Message != rowMessages[e.Code] || e.Message == "" {
				t.Fatalf("message %q for code %q", e.Message, e.Code)
			}
		}
	})
}
