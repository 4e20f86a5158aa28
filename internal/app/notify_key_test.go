package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
)

// TestNotifyKeySealsSecrets: opening the application creates notify.key (0600) in the
// data directory; a channel's secret is stored sealed, so no file of the data directory
// holds it; a plain secret from before sealing is sealed by Convert (server start).
// Before sealing, the file held the secret as given.
func TestNotifyKeySealsSecrets(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		st, err := os.Stat(filepath.Join(cfg.DataDir, NotifyKeyFile))
		if err != nil || st.Mode().Perm() != 0o600 || st.Size() != notify.KeySize {
			t.Fatalf("notify.key: %v %v", st, err)
		}
		top, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Notify.AddChannel(ctx, actor.CLI(), notify.ChannelInput{OrgID: top.ID, Name: "robot", Kind: "dingtalk",
			URL: "https://oapi.dingtalk.com/robot/send?access_token=t", Secret: "SECsealed-app-secret"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.DB.ExecContext(ctx, `INSERT INTO notify_channels (org_id, name, kind, url, secret, created_at, updated_at)
			VALUES (?, 'old', 'webhook', 'https://hooks.example/x', 'plain-old-secret', ?, ?)`, top.ID, c.CreatedAt, c.CreatedAt); err != nil {
			t.Fatal(err)
		}
		if err := a.Convert(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := a.DB.QueryContext(ctx, `SELECT secret FROM notify_channels`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s, "sm4gcm:") {
				t.Errorf("stored secret %q is not sealed", s)
			}
		}
		rows.Close()
		if _, err := a.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil && cfg.DB == "" {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a directory
			}
			// Only the secret that was never written in plain: a row sealed later may
			// leave its old text in a free page of the file until a VACUUM.
			if bytes.Contains(b, []byte("SECsealed-app-secret")) {
				t.Errorf("%s holds the channel's secret", filepath.Base(f))
			}
		}
	})
}
