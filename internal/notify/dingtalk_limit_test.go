package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// dingRobot is a loopback DingTalk custom robot: it checks the signed URL the way the
// vendor documents (timestamp in ms within an hour of its clock, sign = base64 of
// HMAC-SHA256 keyed with the secret over timestamp + "\n" + secret) and keeps, per
// accepted message, the fake clock's time and the alert ids its markdown names.
type dingRobot struct {
	secret string
	now    func() time.Time

	mu   sync.Mutex
	msgs []dingMsg
	bad  int
}

type dingMsg struct {
	at  time.Time
	ids []int64
}

var alertRef = regexp.MustCompile(`#(\d+)`)

func (d *dingRobot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	mac := hmac.New(sha256.New, []byte(d.secret))
	mac.Write([]byte(q.Get("timestamp") + "\n" + d.secret))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	skew := d.now().Sub(time.UnixMilli(ts))
	var body struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Title, Text string }
	}
	raw, _ := io.ReadAll(r.Body)
	if err != nil || q.Get("sign") != want || skew > time.Hour || skew < -time.Hour ||
		json.Unmarshal(raw, &body) != nil || body.MsgType != "markdown" {
		d.mu.Lock()
		d.bad++
		d.mu.Unlock()
		_, _ = w.Write([]byte(`{"errcode":310000,"errmsg":"sign not match"}`))
		return
	}
	m := dingMsg{at: d.now()}
	for _, s := range alertRef.FindAllStringSubmatch(body.Markdown.Text, -1) {
		id, _ := strconv.ParseInt(s[1], 10, 64)
		m.ids = append(m.ids, id)
	}
	d.mu.Lock()
	d.msgs = append(d.msgs, m)
	d.mu.Unlock()
	_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
}

// TestDingTalkChannelGroupsWithinItsLimit: 100 alerts raised over 10 s for a DingTalk
// robot (its own sender and its documented limit of 20 messages a minute) reach it in at
// most 20 signed messages in any minute, and every alert is named in some message.
func TestDingTalkChannelGroupsWithinItsLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, Options{})
		robot := &dingRobot{secret: "SEC-robot", now: w.clock.Now}
		srv := httptest.NewServer(robot)
		defer srv.Close()
		c, err := w.svc.AddChannel(context.Background(), w.admin, ChannelInput{OrgID: w.prov.ID, Name: "值班群", Kind: channel.KindDingTalk,
			URL: srv.URL + "/robot/send?access_token=tok", Secret: "SEC-robot", Lang: i18n.ZhCN})
		if err != nil {
			t.Fatal(err)
		}
		w.route(Route{OrgID: w.prov.ID, ChannelID: c.ID, Subtree: true})
		for i := range 100 {
			w.raise(Event{AlertID: int64(i + 1), OrgID: w.hospA.ID, Source: "supply", Kind: "new_vulnerability", Severity: "high", Created: true})
			w.pass()
			w.clock.Add(100 * time.Millisecond)
		}
		for range 180 {
			w.pass()
			w.clock.Add(time.Second)
		}
		robot.mu.Lock()
		defer robot.mu.Unlock()
		if robot.bad > 0 {
			t.Fatalf("%d requests failed the robot's signature or body check", robot.bad)
		}
		limit, _ := channel.LimitFor(channel.KindDingTalk)
		var ids []int64
		for i, m := range robot.msgs {
			n := 0
			for _, o := range robot.msgs[i:] {
				if o.at.Sub(m.at) < time.Minute {
					n++
				}
			}
			if n > limit.PerMinute {
				t.Fatalf("%d messages in the minute from %v (limit %d)", n, m.at, limit.PerMinute)
			}
			ids = append(ids, m.ids...)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) != 100 || ids[0] != 1 || ids[99] != 100 {
			t.Fatalf("the messages name %d distinct alerts, want each of 1…100", len(ids))
		}
		t.Logf("%d messages to the robot", len(robot.msgs))
	})
}
