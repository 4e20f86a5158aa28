package web

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestNotifyAPIScenario: hospital A's security officer manages notification channels
// and routes through the API; hospital B's channel and dead letter are 404 to them, and
// no answer shows a channel's URL token or secret.
func TestNotifyAPIScenario(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		const sec = "secofficer"
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		deadB := e.NotifyDeadB
		vars := map[string]string{"chanA": id(e.NotifyChanA.ID), "chanB": id(e.NotifyChanB.ID), "deadB": id(deadB)}
		secrets := []string{"tok-duty-a", "s3cret-duty-a", "tok-" + notifyChanBName, "s3cret-", notifyChanBName, "goroutine ", "sql:"}
		e.runScenarios(t, vars, []apiScenario{
			{name: "list channels", method: "GET", url: "/api/v1/notify/channels", user: sec, status: http.StatusOK,
				expect: []string{`"name":"duty-a"`, `"has_secret":true`}, notExpect: secrets},
			{name: "add a channel", method: "POST", url: "/api/v1/notify/channels", user: sec,
				body:   jsonBody(map[string]any{"name": "ops-hook", "kind": "webhook", "url": "https://hooks.example/x?token=tok-new", "secret": "s3cret-new"}),
				status: http.StatusCreated, expect: []string{`"name":"ops-hook"`, `"lang":"zh-CN"`}, notExpect: []string{"tok-new", "s3cret-new"}},
			{name: "a channel of an unknown kind", method: "POST", url: "/api/v1/notify/channels", user: sec,
				body:   jsonBody(map[string]any{"name": "pager", "kind": "pager", "url": "https://hooks.example/x"}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"kind"`}, notExpect: []string{"pager"}},
			{name: "the same name again", method: "POST", url: "/api/v1/notify/channels", user: sec,
				body:   jsonBody(map[string]any{"name": "ops-hook", "kind": "webhook", "url": "https://hooks.example/y"}),
				status: http.StatusConflict, errCode: "conflict"},
			{name: "a channel in hospital B", method: "POST", url: "/api/v1/notify/channels", user: sec,
				body:   jsonBody(map[string]any{"org_id": e.HospB.ID, "name": "sneaky", "kind": "webhook", "url": "https://hooks.example/y"}),
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "test message", method: "POST", url: "/api/v1/notify/channels/{chanA}/test", user: sec, status: http.StatusAccepted,
				expect: []string{`"outbox_id":`}},
			{name: "test message to hospital B's channel", method: "POST", url: "/api/v1/notify/channels/{chanB}/test", user: sec,
				status: http.StatusNotFound, errCode: "not_found", notExpect: secrets},
			{name: "route to hospital B's channel", method: "POST", url: "/api/v1/notify/routes", user: sec,
				body: jsonBody(map[string]any{"channel_id": e.NotifyChanB.ID}), status: http.StatusNotFound, errCode: "not_found"},
			{name: "route with a bad severity", method: "POST", url: "/api/v1/notify/routes", user: sec,
				body:   jsonBody(map[string]any{"channel_id": e.NotifyChanA.ID, "min_severity": "urgent"}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"min_severity"`}},
			{name: "route", method: "POST", url: "/api/v1/notify/routes", user: sec,
				body:   jsonBody(map[string]any{"channel_id": e.NotifyChanA.ID, "source": "supply", "min_severity": "high", "subtree": true}),
				status: http.StatusCreated, expect: []string{`"min_severity":"high"`, `"org_id":` + id(e.HospA.ID)}},
			{name: "list routes", method: "GET", url: "/api/v1/notify/routes", user: "auditor", status: http.StatusOK,
				expect: []string{`"source":"supply"`}},
			{name: "deliveries: the test message waits", method: "GET", url: "/api/v1/notify/deliveries", user: sec, status: http.StatusOK,
				notExpect: []string{"mgd-b"}},
			{name: "deliveries in a state that does not exist", method: "GET", url: "/api/v1/notify/deliveries?state=lost", user: sec,
				status: http.StatusBadRequest, errCode: "invalid", notExpect: []string{"lost"}},
			{name: "re-send hospital B's dead letter", method: "POST", url: "/api/v1/notify/deliveries/{deadB}/resend", user: sec,
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "hospital B re-sends its own dead letter", method: "POST", url: "/api/v1/notify/deliveries/{deadB}/resend", user: "secofficer_b",
				status: http.StatusNoContent},
			{name: "the auditor reads but does not add", method: "POST", url: "/api/v1/notify/channels", user: "auditor",
				body: jsonBody(map[string]any{"name": "x", "kind": "webhook", "url": "https://hooks.example/x"}), status: http.StatusForbidden},
			{name: "inbox", method: "GET", url: "/api/v1/notify/inbox", user: "appops", status: http.StatusOK, expect: []string{`"items":[]`}},
			{name: "inbox read", method: "POST", url: "/api/v1/notify/inbox/read", user: "appops", body: jsonBody(map[string]any{}),
				status: http.StatusNoContent},
		})
	})
}

// TestNotifySubscriptionsAPI: any signed-in user subscribes themself (never another user,
// organisation or channel), lists and removes their own subscriptions; another user's is
// 404. A manager removes routes and disables and enables channels; hospital B's are 404.
func TestNotifySubscriptionsAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		vars := map[string]string{"subB": id(e.NotifySubB), "routeB": id(e.NotifyRouteB), "chanA": id(e.NotifyChanA.ID),
			"chanB": id(e.NotifyChanB.ID), "orgA": id(e.HospA.ID), "appops": id(e.Users["appops"].ID)}
		e.runScenarios(t, vars, []apiScenario{
			{name: "no subscription yet", method: "GET", url: "/api/v1/notify/subscriptions", user: "appops", status: http.StatusOK,
				expect: []string{`"items":[]`}, notExpect: []string{`"source":"incident"`}},
			// A request cannot name another user, organisation or channel: such fields are refused.
			{name: "subscribe someone else", method: "POST", url: "/api/v1/notify/subscriptions", user: "appops",
				body:   jsonBody(map[string]any{"source": "supply", "user_id": e.Users["secofficer_b"].ID}),
				status: http.StatusBadRequest, errCode: "bad_json"},
			{name: "subscribe to another organisation", method: "POST", url: "/api/v1/notify/subscriptions", user: "appops",
				body: jsonBody(map[string]any{"source": "supply", "org_id": e.HospB.ID}), status: http.StatusBadRequest, errCode: "bad_json"},
			{name: "subscribe a channel", method: "POST", url: "/api/v1/notify/subscriptions", user: "appops",
				body: jsonBody(map[string]any{"source": "supply", "channel_id": e.NotifyChanB.ID}), status: http.StatusBadRequest, errCode: "bad_json"},
			{name: "subscribe", method: "POST", url: "/api/v1/notify/subscriptions", user: "appops",
				body:   jsonBody(map[string]any{"source": "supply", "min_severity": "high"}),
				status: http.StatusCreated, expect: []string{`"min_severity":"high"`, `"org_id":` + id(e.Users["appops"].OrgID)}, notExpect: []string{"channel", "user_id"}},
			{name: "a bad severity", method: "POST", url: "/api/v1/notify/subscriptions", user: "appops",
				body: jsonBody(map[string]any{"min_severity": "urgent"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"min_severity"`}, notExpect: []string{"urgent"}},
			{name: "an unknown source", method: "POST", url: "/api/v1/notify/subscriptions", user: "appops",
				body: jsonBody(map[string]any{"source": "nosuch"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"source"`}, notExpect: []string{"nosuch"}},
			{name: "list own", method: "GET", url: "/api/v1/notify/subscriptions", user: "appops", status: http.StatusOK,
				expect: []string{`"total":1`, `"source":"supply"`}, notExpect: []string{`"source":"incident"`}},
			{name: "the route list shows it as a route to the user", method: "GET", url: "/api/v1/notify/routes", user: "secofficer",
				status: http.StatusOK, expect: []string{`"user_id":` + id(e.Users["appops"].ID)}, notExpect: []string{`"org_id":` + id(e.HospB.ID)}},
			{name: "another user's subscription", method: "DELETE", url: "/api/v1/notify/subscriptions/{subB}", user: "appops",
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "a route is not a subscription", method: "DELETE", url: "/api/v1/notify/subscriptions/{routeB}", user: "secofficer_b",
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "the owner removes theirs", method: "DELETE", url: "/api/v1/notify/subscriptions/{subB}", user: "secofficer_b",
				status: http.StatusNoContent},
			{name: "gone", method: "GET", url: "/api/v1/notify/subscriptions", user: "secofficer_b", status: http.StatusOK,
				expect: []string{`"items":[]`}},
			{name: "remove hospital B's route", method: "DELETE", url: "/api/v1/notify/routes/{routeB}", user: "secofficer",
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "the app operator may not remove routes", method: "DELETE", url: "/api/v1/notify/routes/{routeB}", user: "appops",
				status: http.StatusForbidden},
			{name: "hospital B removes its route", method: "DELETE", url: "/api/v1/notify/routes/{routeB}", user: "secofficer_b",
				status: http.StatusNoContent},
			{name: "disable hospital B's channel", method: "POST", url: "/api/v1/notify/channels/{chanB}/disable", user: "secofficer",
				status: http.StatusNotFound, errCode: "not_found", notExpect: []string{notifyChanBName}},
			{name: "disable", method: "POST", url: "/api/v1/notify/channels/{chanA}/disable", user: "secofficer",
				status: http.StatusOK, expect: []string{`"enabled":false`}, notExpect: []string{"tok-duty-a", "s3cret"}},
			{name: "no test message to a disabled channel", method: "POST", url: "/api/v1/notify/channels/{chanA}/test", user: "secofficer",
				status: http.StatusConflict, errCode: "conflict"},
			{name: "the auditor may not enable", method: "POST", url: "/api/v1/notify/channels/{chanA}/enable", user: "auditor",
				status: http.StatusForbidden},
			{name: "enable", method: "POST", url: "/api/v1/notify/channels/{chanA}/enable", user: "secofficer",
				status: http.StatusOK, expect: []string{`"enabled":true`}},
		})
	})
}
