package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hit is one request a receiver got.
type hit struct {
	at     time.Time // the fake clock's time when it arrived
	key    string
	signed bool
	body   channel.WebhookBody
}

// receiver is a loopback webhook receiver that checks signatures as webhook-sink.py
// does and answers with status (200 when 0).
type receiver struct {
	secret []byte
	now    func() time.Time

	mu     sync.Mutex
	status int
	hits   []hit
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	body, _ := io.ReadAll(q.Body)
	ts := q.Header.Get(channel.HeaderTimestamp)
	h := hit{key: q.Header.Get(channel.HeaderDelivery), signed: q.Header.Get(channel.HeaderSignature) == channel.Sign(r.secret, ts, body)}
	if r.now != nil {
		h.at = r.now()
	}
	_ = json.Unmarshal(body, &h.body)
	r.mu.Lock()
	r.hits = append(r.hits, h)
	status := r.status
	r.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
	}
}

func (r *receiver) setStatus(s int) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

func (r *receiver) all() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// world is a migrated database with a province above hospitals A and B, a notify
// service on a fake clock and a loopback receiver.
type world struct {
	t     *testing.T
	db    *store.DB
	svc   *Service
	clock *clock
	recv  *receiver
	url   string
	prov  org.Node
	hospA org.Node
	hospB org.Node
	admin actor.Actor
}

func newWorld(t *testing.T, db *store.DB, opt Options) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	w := &world{t: t, db: db, clock: &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}}
	w.recv = &receiver{secret: []byte("s3cret"), now: w.clock.Now}
	srv := httptest.NewServer(w.recv)
	t.Cleanup(srv.Close)
	w.url = srv.URL + "/hook"
	if w.prov, err = orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "province"}); err != nil {
		t.Fatal(err)
	}
	if w.hospA, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: w.prov.ID, Kind: org.KindHospital, Name: "hospital A"}); err != nil {
		t.Fatal(err)
	}
	if w.hospB, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: w.prov.ID, Kind: org.KindHospital, Name: "hospital B"}); err != nil {
		t.Fatal(err)
	}
	w.admin = actor.Actor{UserID: 0, Username: "admin", Role: "admin", OrgID: w.prov.ID, OrgPath: w.prov.Path}
	if opt.Now == nil {
		opt.Now = w.clock.Now
	}
	if opt.Jitter == nil {
		opt.Jitter = func() float64 { return 0.5 }
	}
	if opt.Key == nil {
		opt.Key = testKey
	}
	opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	opt.BaseURL = "https://medguard.example"
	w.svc = New(db, tl, opt)
	return w
}

func (w *world) channel(name string, org int64) Channel {
	w.t.Helper()
	c, err := w.svc.AddChannel(context.Background(), w.admin, ChannelInput{OrgID: org, Name: name, Kind: channel.KindWebhook,
		URL: w.url, Secret: "s3cret", Lang: i18n.EN})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) route(r Route) Route {
	w.t.Helper()
	r, err := w.svc.AddRoute(context.Background(), w.admin, r)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// raise enqueues ev in a transaction of its own, as package alert does in the one that
// stores the alert.
func (w *world) raise(ev Event) {
	w.t.Helper()
	if ev.Title.Key == "" {
		ev.Title = i18n.M("notify.test.title")
	}
	if ev.FirstSeen.IsZero() {
		ev.FirstSeen, ev.LastSeen, ev.Count = w.clock.Now(), w.clock.Now(), 1
	}
	err := w.db.InTx(context.Background(), func(tx *store.Tx) error { return w.svc.Enqueue(context.Background(), tx, ev) })
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) pass() int {
	w.t.Helper()
	n, err := w.svc.Pass(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// outbox returns the alert ids of the outbox rows of channel c, in order.
func (w *world) outbox(c Channel) []int64 {
	w.t.Helper()
	rows, err := w.db.QueryContext(context.Background(), `SELECT alert_id FROM notify_outbox WHERE channel_id = ? ORDER BY id`, c.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// alertIDs returns the ids of the alerts the receiver's hits name, in order.
func alertIDs(hits []hit) []int64 {
	var out []int64
	for _, h := range hits {
		for _, a := range h.body.Alerts {
			out = append(out, a.ID)
		}
	}
	return out
}
