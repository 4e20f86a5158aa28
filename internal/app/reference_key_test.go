package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/reference"
)

// TestReferenceKey: opening the application creates reference.key (0600) in the data
// directory, and a patient imported in one opening is found by the hash of its
// identifier in the next (the key is read back, not made anew).
func TestReferenceKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(cfg.DataDir, ReferenceKeyFile))
		if err != nil || st.Mode().Perm() != 0o600 || st.Size() != reference.KeySize {
			a.Close()
			t.Fatalf("reference.key: %v %v", st, err)
		}
		top, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
		if err == nil {
			_, err = a.Reference.Import(ctx, actor.CLI(), top.ID, reference.KindPatients,
				strings.NewReader("patient_id,name,address,vip,deceased_on,staff_id\nP1,王伟,东城区和平里1号1-101,true,,\n"))
		}
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if p, err := b.Reference.PatientByHash(ctx, top.ID, b.Reference.PatientHash("P1")); err != nil || !p.VIP {
			t.Fatalf("patient after reopening: %+v, %v", p, err)
		}
	})
}
