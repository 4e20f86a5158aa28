package upstream

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm4"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// KeyFile is the file under the data directory holding the SM4 key that seals the
// acknowledgement keys of the links; created 0600 on first open.
const KeyFile = "upstream.key"

// KeySize is the size of the sealing key of KeyFile.
const KeySize = sm4.BlockSize

// sealedPrefix marks a sealed acknowledgement key: "sm4gcm:" + base64(nonce ‖ ciphertext).
const sealedPrefix = "sm4gcm:"

// Region keeps a regional medguard's links and the reports its hospitals push.
type Region struct {
	db     *store.DB
	trail  *trail.Log
	auth   *auth.Service
	aead   cipher.AEAD
	alerts Raiser
	now    func() time.Time
}

// Raiser raises alerts (alert.Service) inside the caller's transaction.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// SetAlerts makes every incident new to the region raise an alert (source "upstream")
// for the hospital's node, so that the region's inbox and notification routes see it.
func (r *Region) SetAlerts(a Raiser) { r.alerts = a }

// NewRegion returns the regional side on db; key (KeySize bytes) seals the links'
// acknowledgement keys.
func NewRegion(db *store.DB, tl *trail.Log, au *auth.Service, key []byte) (*Region, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("upstream: the sealing key must be %d bytes, not %d", KeySize, len(key))
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("upstream: SM4 key: %w", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("upstream: SM4-GCM: %w", err)
	}
	return &Region{db: db, trail: tl, auth: au, aead: g, now: time.Now}, nil
}

func (r *Region) clock() time.Time { return r.now().UTC().Truncate(time.Microsecond) }

// keyAD binds a sealed key to its node, so that a value copied into another link's row
// does not open.
func keyAD(orgID int64) []byte { return []byte("upstream.ack_key\x00" + strconv.FormatInt(orgID, 10)) }

func (r *Region) seal(orgID int64, key []byte) (string, error) {
	nonce := make([]byte, r.aead.NonceSize(), r.aead.NonceSize()+len(key)+r.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("upstream: nonce: %w", err)
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(r.aead.Seal(nonce, nonce, key, keyAD(orgID))), nil
}

func (r *Region) open(orgID int64, stored string) ([]byte, error) {
	var b []byte
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if ok {
		b, _ = base64.StdEncoding.DecodeString(rest)
	}
	n := r.aead.NonceSize()
	if len(b) < n+r.aead.Overhead() {
		return nil, errors.New("upstream: a sealed acknowledgement key is damaged")
	}
	key, err := r.aead.Open(nil, b[:n], b[n:], keyAD(orgID))
	if err != nil {
		return nil, fmt.Errorf("upstream: open an acknowledgement key (is %s the one it was sealed with?): %w", KeyFile, err)
	}
	return key, nil
}

// Link is a hospital node's link, with the two secrets the hospital configures; they
// are shown once.
type Link struct {
	OrgID    int64  `json:"org_id"`
	Hospital string `json:"hospital"`
	// Username is the service account the token belongs to.
	Username string `json:"username"`
	TokenID  int64  `json:"token_id"`
	// Token is apps.upstream_token at the hospital; Key is apps.upstream_key.
	Token     string    `json:"token"`
	Key       string    `json:"key"`
	CreatedAt time.Time `json:"created_at"`
}

// serviceUsername is the service account of a node's link.
func serviceUsername(orgID int64) string { return "upstream-" + strconv.FormatInt(orgID, 10) }

// LinkHospital links hospital node orgID, which a must see and may manage users of:
// a service account of the node (made on first link) gets a token of scope app.report,
// and a new acknowledgement key is made and stored sealed. Linking again replaces both
// and revokes the previous token.
func (r *Region) LinkHospital(ctx context.Context, a actor.Actor, orgID int64) (Link, error) {
	if a.Role != "system" && !auth.Allowed(a.Role, auth.PermUserManage) {
		return Link{}, problem.Forbidden("your role does not allow linking a hospital")
	}
	node, err := org.Visible(ctx, r.db, a, orgID)
	if err != nil {
		return Link{}, err
	}
	if node.Kind != org.KindHospital {
		return Link{}, problem.Invalid("org_id", "only a hospital node reports upstream").WithMsg("upstream.error.not_hospital")
	}
	sys := actor.System()
	name := serviceUsername(orgID)
	u, err := r.auth.UserByName(ctx, sys, name)
	if problem.KindOf(err) == problem.KindNotFound {
		var pw [24]byte
		if _, err := rand.Read(pw[:]); err != nil {
			return Link{}, fmt.Errorf("upstream: random: %w", err)
		}
		// Nobody signs in with this account: its password is random and never shown.
		// The least role that may report: an app operator.
		u, err = r.auth.CreateUser(ctx, sys, auth.UserInput{OrgID: orgID, Username: name, Role: auth.RoleAppOperator,
			DisplayName: node.Name + " · upstream", Password: "Up-1" + hex.EncodeToString(pw[:])})
	}
	if err != nil {
		return Link{}, err
	}
	if u.OrgID != orgID {
		return Link{}, problem.Conflict("the user %s exists in another organisation", name).WithMsg("upstream.error.user_elsewhere", name)
	}
	var oldToken int64
	err = r.db.QueryRowContext(ctx, `SELECT token_id FROM upstream_links WHERE org_id = ?`, orgID).Scan(&oldToken)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Link{}, fmt.Errorf("upstream: link: %w", err)
	}
	plain, tok, err := r.auth.CreateToken(ctx, sys, u.ID, "upstream reporting", auth.ScopeAppReport, 0)
	if err != nil {
		return Link{}, err
	}
	keyText, err := newKey()
	if err != nil {
		return Link{}, fmt.Errorf("upstream: random: %w", err)
	}
	key, _ := ParseKey(keyText)
	sealed, err := r.seal(orgID, key)
	if err != nil {
		return Link{}, err
	}
	now := r.clock()
	l := Link{OrgID: orgID, Hospital: node.Name, Username: u.Username, TokenID: tok.ID, Token: plain, Key: keyText, CreatedAt: now}
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM upstream_links WHERE org_id = ?`, orgID); err != nil {
			return fmt.Errorf("upstream: link: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_links (org_id, user_id, token_id, ack_key, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, orgID, u.ID, tok.ID, sealed, a.Username, now); err != nil {
			return fmt.Errorf("upstream: link: %w", err)
		}
		_, err := r.trail.Append(ctx, tx, a, trail.Event{Action: "upstream.link", ObjectType: "org", ObjectID: strconv.FormatInt(orgID, 10),
			OrgID: orgID, Summary: fmt.Sprintf("%s linked for upward reporting (token %s)", node.Name, tok.Prefix),
			Msg: trail.Msg("trail.summary.upstream.link", node.Name, tok.Prefix)})
		return err
	})
	if err != nil {
		return Link{}, err
	}
	if oldToken != 0 && oldToken != tok.ID {
		if err := r.auth.RevokeToken(ctx, sys, oldToken); err != nil {
			return Link{}, err
		}
	}
	return l, nil
}

// Receive stores the report body the hospital of user u pushed from ip with API token tokenID,
// and returns the acknowledgement and its signature. Only the token of the node's
// current link may report, and only for that node.
func (r *Region) Receive(ctx context.Context, u auth.User, ip string, tokenID int64, body io.Reader) (ack []byte, sig string, err error) {
	var linkToken int64
	var sealed string
	err = r.db.QueryRowContext(ctx, `SELECT token_id, ack_key FROM upstream_links WHERE org_id = ?`, u.OrgID).Scan(&linkToken, &sealed)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && linkToken != tokenID) {
		return nil, "", problem.Forbidden("this token is not the upstream link of its organisation").WithCode("not_linked").
			WithMsg("upstream.error.not_linked")
	}
	if err != nil {
		return nil, "", fmt.Errorf("upstream: link: %w", err)
	}
	key, err := r.open(u.OrgID, sealed)
	if err != nil {
		return nil, "", err
	}
	now := r.clock()
	rep, err := DecodeReport(body, now)
	if err != nil {
		return nil, "", err
	}
	a := Ack{ReportID: rep.ReportID, OrgID: u.OrgID, Apps: len(rep.Apps), ReceivedAt: now}
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		var lastID string
		var lastAt store.Time
		err := tx.QueryRowContext(ctx, `SELECT report_id, generated_at FROM upstream_reports WHERE org_id = ?`, u.OrgID).Scan(&lastID, &lastAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("upstream: receive: %w", err)
		}
		gen := rep.GeneratedAt.UTC().Truncate(time.Microsecond)
		if err == nil && (lastID == rep.ReportID || !gen.After(lastAt.Time)) {
			return nil // the same report again, or an older one
		}
		a.Changed = true
		if err := r.store(ctx, tx, u.OrgID, rep, gen, now); err != nil {
			return err
		}
		for _, in := range rep.Incidents {
			res, err := tx.ExecContext(ctx, `INSERT INTO upstream_incidents (org_id, remote_key, remote_app_id, kind, severity, subject,
				detail, occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, remote_key) DO NOTHING`,
				u.OrgID, in.Key, in.AppID, in.Kind, in.Severity, in.Subject, in.Detail, in.At.UTC(), now)
			if err != nil {
				return fmt.Errorf("upstream: incident: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				a.Incidents++
				if err := r.raise(ctx, tx, u, in); err != nil {
					return err
				}
			}
		}
		_, err = r.trail.Append(ctx, tx, u.Actor(ip), trail.Event{Action: "upstream.report", ObjectType: "org",
			ObjectID: strconv.FormatInt(u.OrgID, 10), OrgID: u.OrgID,
			Summary: fmt.Sprintf("report %s: %d apps, %d new incidents", rep.ReportID, len(rep.Apps), a.Incidents),
			Msg:     trail.Msg("trail.summary.upstream.report", rep.ReportID, len(rep.Apps), a.Incidents)})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	ack, err = json.Marshal(a)
	if err != nil {
		return nil, "", fmt.Errorf("upstream: ack: %w", err)
	}
	return ack, Sign(key, ack), nil
}

// store replaces the apps of node orgID by those of rep.
func (r *Region) store(ctx context.Context, tx *store.Tx, orgID int64, rep Report, gen, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM upstream_reports WHERE org_id = ?`, orgID); err != nil {
		return fmt.Errorf("upstream: report: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_reports (org_id, report_id, generated_at, received_at, source)
		VALUES (?, ?, ?, ?, ?)`, orgID, rep.ReportID, gen, now, rep.Source); err != nil {
		return fmt.Errorf("upstream: report: %w", err)
	}
	keep := map[int64]bool{}
	for _, ap := range rep.Apps {
		keep[ap.ID] = true
		findings, _ := json.Marshal(orEmpty(ap.Findings))
		codes, _ := json.Marshal(orEmpty(ap.Codes))
		if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_apps (org_id, remote_id, name, platform, package, operator, status, score,
			grade, rectify_by, evaluated_at, findings, codes, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, remote_id) DO UPDATE SET name = excluded.name, platform = excluded.platform, package = excluded.package,
			operator = excluded.operator, status = excluded.status, score = excluded.score, grade = excluded.grade,
			rectify_by = excluded.rectify_by, evaluated_at = excluded.evaluated_at, findings = excluded.findings,
			codes = excluded.codes, reported_at = excluded.reported_at`,
			orgID, ap.ID, ap.Name, ap.Platform, ap.Package, ap.Operator, ap.Status, ap.Score, ap.Grade,
			store.NullTime(utcPtr(ap.RectifyBy)), store.NullTime(utcPtr(ap.EvaluatedAt)), string(findings), string(codes), gen); err != nil {
			return fmt.Errorf("upstream: app: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT remote_id FROM upstream_apps WHERE org_id = ?`, orgID)
	if err != nil {
		return fmt.Errorf("upstream: apps: %w", err)
	}
	var gone []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("upstream: apps: %w", err)
		}
		if !keep[id] {
			gone = append(gone, id)
		}
	}
	rows.Close()
	for _, id := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM upstream_apps WHERE org_id = ? AND remote_id = ?`, orgID, id); err != nil {
			return fmt.Errorf("upstream: apps: %w", err)
		}
	}
	return rows.Err()
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// raise raises the region's alert of a new incident of the hospital of u.
func (r *Region) raise(ctx context.Context, tx *store.Tx, u auth.User, in Incident) error {
	if r.alerts == nil {
		return nil
	}
	_, _, err := r.alerts.Raise(ctx, tx, alert.Input{OrgID: u.OrgID, Source: "upstream", Kind: in.Kind, Severity: in.Severity,
		Title: i18n.M("upstream.alert."+in.Kind, u.OrgName, in.Subject), Subject: u.OrgName + " · " + in.Subject,
		Evidence: map[string]any{"remote_key": in.Key, "remote_app_id": in.AppID, "detail": in.Detail, "at": in.At},
		DedupKey: "upstream:" + in.Key, At: in.At})
	if err != nil {
		return fmt.Errorf("upstream: raise %s: %w", in.Kind, err)
	}
	return nil
}
