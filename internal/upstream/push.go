package upstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/store"
)

// pushKeep is how long the record of a push is kept.
const pushKeep = 30 * 24 * time.Hour

// ErrBadSignature says the region's answer did not carry a valid signature of the
// link's acknowledgement key, or acknowledged another report: the push failed.
var ErrBadSignature = errors.New("upstream: the region's acknowledgement is not signed with the link's key")

// Pusher sends a hospital's report to its regional medguard.
type Pusher struct {
	DB   *store.DB
	Apps *appreg.Service
	// URL is the regional medguard's address (https://region.example); Path is added
	// unless it ends with it already.
	URL   string
	Token string // apps.upstream_token
	Key   []byte // apps.upstream_key, parsed by ParseKey
	// Source names this instance in the report (e.g. "medguard v1.2.3").
	Source string
	Client *http.Client // default: a client with a 30 s timeout
	// Attempts is how many times one Push tries (default 3), Backoff the wait before the
	// second try, doubled each time (default 2 s).
	Attempts int
	Backoff  time.Duration
	Now      func() time.Time
}

func (p *Pusher) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// endpoint is the URL reports are POSTed to.
func (p *Pusher) endpoint() (string, error) {
	u, err := url.Parse(strings.TrimSpace(p.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("upstream: apps.upstream_url must be an http:// or https:// URL")
	}
	if !strings.HasSuffix(strings.TrimRight(u.Path, "/"), Path) {
		u.Path = strings.TrimRight(u.Path, "/") + Path
	}
	return u.String(), nil
}

// since is the generation time of the last acknowledged report (zero: none).
func (p *Pusher) since(ctx context.Context) (time.Time, error) {
	var at store.Time
	if err := p.DB.QueryRowContext(ctx, `SELECT MAX(generated_at) FROM upstream_pushes WHERE status = 'acknowledged'`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("upstream: last push: %w", err)
	}
	return at.Time, nil
}

// Build makes the report of the registry now: every app, and the incidents since the
// last acknowledged report.
func (p *Pusher) Build(ctx context.Context) (Report, error) {
	since, err := p.since(ctx)
	if err != nil {
		return Report{}, err
	}
	// The report's time is taken before the registry is read: an incident of the moment
	// in between is in this report and the next (the region keeps it once), never in
	// neither.
	generated := p.now()
	apps, incidents, err := p.Apps.Export(ctx, since)
	if err != nil {
		return Report{}, err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Report{}, fmt.Errorf("upstream: report id: %w", err)
	}
	rep := Report{Version: ReportVersion, ReportID: hex.EncodeToString(id[:]), GeneratedAt: generated, Source: p.Source,
		Apps: make([]App, 0, len(apps)), Incidents: make([]Incident, 0, len(incidents))}
	for _, e := range apps {
		a := App{ID: e.App.ID, Name: e.App.Name, Platform: e.App.Platform, Package: e.App.Package, Operator: e.App.Operator,
			Status: e.App.Status, Score: e.App.Score, Grade: e.App.Grade, RectifyBy: e.App.RectifyBy, EvaluatedAt: e.EvaluatedAt,
			Findings: make([]Finding, 0, len(e.Findings)), Codes: make([]Code, 0, len(e.Codes))}
		for _, f := range e.Findings {
			a.Findings = append(a.Findings, Finding{Type: f.Type, Severity: f.Severity, Subject: f.Subject, OpenedAt: f.OpenedAt})
		}
		for _, c := range e.Codes {
			a.Codes = append(a.Codes, Code{ID: c.ID, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, RevokedAt: c.RevokedAt, Reason: c.Reason})
		}
		rep.Apps = append(rep.Apps, a)
	}
	for _, in := range incidents {
		rep.Incidents = append(rep.Incidents, Incident{Key: in.Key, AppID: in.AppID, Kind: in.Kind, Severity: in.Severity,
			Subject: in.Subject, Detail: in.Detail, At: in.At})
	}
	return rep, nil
}

// Digest is a digest of what a report says, without its id and time: two reports with
// the same digest tell the region the same thing.
func Digest(rep Report) string {
	rep.ReportID, rep.GeneratedAt = "", time.Time{}
	b, _ := json.Marshal(rep)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Push builds the report and sends it, trying again (Attempts, Backoff) after a network
// failure, a server error, a refusal under load or an answer without a valid signature;
// every attempt is recorded. It returns the region's acknowledgement.
func (p *Pusher) Push(ctx context.Context) (Ack, error) {
	rep, err := p.Build(ctx)
	if err != nil {
		return Ack{}, err
	}
	return p.Send(ctx, rep)
}

// Send sends rep as Push does.
func (p *Pusher) Send(ctx context.Context, rep Report) (Ack, error) {
	endpoint, err := p.endpoint()
	if err != nil {
		return Ack{}, err
	}
	if len(p.Key) == 0 || p.Token == "" {
		return Ack{}, errors.New("upstream: apps.upstream_token and apps.upstream_key are required")
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return Ack{}, fmt.Errorf("upstream: report: %w", err)
	}
	attempts, wait := p.Attempts, p.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return Ack{}, ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		ack, retry, err := p.send(ctx, endpoint, rep, body)
		p.record(ctx, rep, endpoint, err)
		if err == nil {
			return ack, nil
		}
		last = err
		if !retry {
			break
		}
	}
	return Ack{}, last
}

// send makes one attempt; retry says whether another may succeed.
func (p *Pusher) send(ctx context.Context, endpoint string, rep Report, body []byte) (Ack, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Ack{}, false, fmt.Errorf("upstream: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.Token)
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Ack{}, true, fmt.Errorf("upstream: push to %s: %w", redact(endpoint), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Ack{}, true, fmt.Errorf("upstream: read the acknowledgement: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return Ack{}, retry, fmt.Errorf("upstream: the region answered %s: %s", resp.Status, errorMessage(answer))
	}
	if !VerifySignature(p.Key, answer, resp.Header.Get(SignatureHeader)) {
		return Ack{}, true, ErrBadSignature
	}
	var ack Ack
	if err := json.Unmarshal(answer, &ack); err != nil || ack.ReportID != rep.ReportID {
		return Ack{}, true, ErrBadSignature
	}
	return ack, false, nil
}

// errorMessage is the message of an API error body, or a short excerpt of the body.
func errorMessage(b []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		return e.Error.Message + " (" + e.Error.Code + ")"
	}
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// redact drops the query and user info of an address for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the region"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// record stores one attempt; a failure to record is not the push's failure.
func (p *Pusher) record(ctx context.Context, rep Report, endpoint string, err error) {
	status, msg := "acknowledged", ""
	if err != nil {
		status, msg = "failed", err.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
	}
	ctx = context.WithoutCancel(ctx)
	now := p.now()
	_, _ = p.DB.ExecContext(ctx, `INSERT INTO upstream_pushes (report_id, url, generated_at, status, error, pushed_at)
		VALUES (?, ?, ?, ?, ?, ?)`, rep.ReportID, redact(endpoint), rep.GeneratedAt.UTC(), status, msg, now)
	// Pushes are kept for pushKeep; the next report after a gap carries every incident
	// again, which the region keeps once.
	_, _ = p.DB.ExecContext(ctx, `DELETE FROM upstream_pushes WHERE pushed_at < ?`, now.Add(-pushKeep))
}

// Loop is the periodic push of a serving process: Step, run every minute or so, pushes
// when the report says something new (a change of the registry is reported at the
// next step) or when Every has passed since the last acknowledged push. A report that
// carried incidents is followed by one without them: that one is pushed too.
type Loop struct {
	Pusher *Pusher
	Every  time.Duration
	Logger interface {
		Info(msg string, args ...any)
		Error(msg string, args ...any)
	}
	last   string    // digest of the last acknowledged report
	lastAt time.Time // when it was acknowledged
}

// Step pushes if there is something to push; it logs its outcome.
func (l *Loop) Step(ctx context.Context) {
	rep, err := l.Pusher.Build(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.Logger.Error("upstream report", "err", err)
		}
		return
	}
	d := Digest(rep)
	if d == l.last && time.Since(l.lastAt) < l.Every {
		return
	}
	ack, err := l.Pusher.Send(ctx, rep)
	if err != nil {
		if ctx.Err() == nil {
			l.Logger.Error("upstream report: push failed; it is tried again at the next step", "err", err)
		}
		return
	}
	l.last, l.lastAt = d, time.Now()
	l.Logger.Info("upstream report acknowledged", "report", ack.ReportID, "apps", ack.Apps, "new_incidents", ack.Incidents, "changed", ack.Changed)
}
