package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

const eventsPatient = "PATIENT-EVT-0042"

func eventLine(id string) string {
	return fmt.Sprintf(`{"id":%q,"time":"2026-03-31T09:00:00+08:00","system":"EMR","account":"doc","action":"view","patient_id":%q}`, id, eventsPatient)
}

// TestEventsIngest: a hospital system's token (scope events.ingest) posts a JSON array or
// NDJSON batch and is answered after commit with the counts; duplicates are counted; a
// batch of 10,000 events is taken; a body that is not JSON stores nothing and names its
// line; the token may call nothing else, and a token of another scope may not call this;
// another hospital's organisation is not found; a full server answers 429 with
// Retry-After. No answer names the patient.
func TestEventsIngest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		for _, tc := range []struct{ user, name, scope string }{
			{"itops", "itops-his", auth.ScopeEventsIngest},
			{"itops", "itops-gw", auth.ScopeDLPCheck},
			{"auditor", "auditor-his", auth.ScopeEventsIngest},
		} {
			plain, tok, err := e.Auth.CreateToken(ctx, actor.System(), e.Users[tc.user].ID, "HIS", tc.scope, 0)
			if err != nil || tok.Scope != tc.scope {
				t.Fatalf("token %s: %v", tc.name, err)
			}
			e.Tokens[tc.name] = plain
		}
		stored := func() int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		post := func(user, query, contentType, body string) (int, string, http.Header) {
			t.Helper()
			code, out, h := e.raw("POST", "/api/v1/events"+query, user, strings.NewReader(body), contentType)
			if strings.Contains(string(out), eventsPatient) {
				t.Errorf("the answer names the patient: %s", out)
			}
			return code, string(out), h
		}
		result := func(code int, body string, _ http.Header) events.Result {
			t.Helper()
			var r events.Result
			if code != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
				t.Fatalf("status %d: %s", code, body)
			}
			return r
		}

		array := "[" + eventLine("1") + "," + eventLine("2") + "]"
		if r := result(post("itops-his", "", "application/json", array)); r.Accepted != 2 || r.Duplicates != 0 {
			t.Errorf("array: %+v", r)
		}
		nd := eventLine("2") + "\n" + eventLine("3") + "\n" + `{"id":"4","time":"2026-03-31T09:00:00Z","system":"EMR","account":"doc","action":"peek"}` + "\n"
		r := result(post("itops-his", "", "application/x-ndjson", nd))
		if r.Accepted != 1 || r.Duplicates != 1 || len(r.Rejected) != 1 || r.Rejected[0].Index != 2 || r.Rejected[0].Field != "action" {
			t.Errorf("ndjson: %+v", r)
		}
		if n := stored(); n != 3 {
			t.Fatalf("stored %d, want 3", n)
		}
		l, err := e.Events.List(ctx, e.Users["itops"].Actor(""), events.Filter{PatientID: eventsPatient})
		if err != nil || len(l) != 3 || l[0].OrgID != e.HospA.ID {
			t.Fatalf("listed %+v %v", l, err)
		}

		// Bad JSON in the middle: nothing of the batch is stored.
		code, body, _ := post("itops-his", "", "application/x-ndjson", eventLine("5")+"\n"+`{"id":"6",`+eventsPatient+"\n")
		if code != http.StatusBadRequest || !strings.Contains(body, "bad_json") || !strings.Contains(body, "line 2") {
			t.Errorf("bad json: %d %s", code, body)
		}
		if n := stored(); n != 3 {
			t.Errorf("a bad batch stored events: %d", n)
		}

		// 10,000 events in one request.
		var big strings.Builder
		for i := range 10000 {
			big.WriteString(eventLine(fmt.Sprint("big-", i)))
			big.WriteByte('\n')
		}
		if r := result(post("itops-his", "", "", big.String())); r.Accepted != 10000 {
			t.Errorf("big batch: %+v", r)
		}

		// Scopes and roles.
		for _, req := range []struct{ method, path string }{{"GET", "/api/v1/assets"}, {"GET", "/api/v1/me"}, {"POST", "/api/v1/dlp/check"}} {
			if code, body, _ := e.raw(req.method, req.path, "itops-his", strings.NewReader("x"), "application/json"); code != http.StatusForbidden || !strings.Contains(string(body), "limited_token") {
				t.Errorf("ingest token %s %s: %d %s", req.method, req.path, code, body)
			}
		}
		for _, user := range []string{"itops-gw", "auditor-his", "auditor"} {
			if code, body, _ := post(user, "", "application/json", array); code != http.StatusForbidden {
				t.Errorf("%s: %d %s", user, code, body)
			}
		}
		if code, body, _ := post("itops-his", fmt.Sprint("?org_id=", e.HospB.ID), "application/json", array); code != http.StatusNotFound {
			t.Errorf("other hospital: %d %s", code, body)
		}
		if r := result(post("itops-his", fmt.Sprint("?org_id=", e.DeptA.ID), "application/json", "["+eventLine("dept")+"]")); r.Accepted != 1 {
			t.Errorf("own department: %+v", r)
		}

		// Overload: every ingest slot taken, the next batch is refused with Retry-After
		// and stores nothing; once a slot is free it is taken.
		for range cap(e.srv.ingests) {
			e.srv.ingests <- struct{}{}
		}
		code, body, h := post("itops-his", "", "application/json", "["+eventLine("busy")+"]")
		if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, "ingest_busy") {
			t.Errorf("overload: %d %q %s", code, h.Get("Retry-After"), body)
		}
		<-e.srv.ingests
		if r := result(post("itops-his", "", "application/json", "["+eventLine("busy")+"]")); r.Accepted != 1 {
			t.Errorf("after overload: %+v", r)
		}
		for range cap(e.srv.ingests) - 1 {
			<-e.srv.ingests
		}
	})
}
