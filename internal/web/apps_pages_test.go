package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// pageScenario is one request of a page test: as user, method path (with {id} replaced)
// and form; the status, the redirect's target, what the body must and must not hold.
type pageScenario struct {
	name      string
	user      string
	method    string
	path      string
	form      url.Values
	status    int
	location  string // prefix of the redirect target
	expect    []string
	notExpect []string
	after     func(t *testing.T, body string, h http.Header)
}

// runPages runs rows in order, each user in a browser of their own signed in once.
func (e *testEnv) runPages(t *testing.T, vars map[string]string, rows []pageScenario) {
	t.Helper()
	browsers := map[string]*browser{}
	sub := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	for _, row := range rows {
		br := browsers[row.user]
		if br == nil {
			br = e.newBrowser()
			br.login(row.user)
			browsers[row.user] = br
		}
		path := sub(row.path)
		var code int
		var body string
		var h http.Header
		if row.method == "POST" {
			br.get(strings.SplitN(path, "?", 2)[0]) // the form's page, for its CSRF token (404 for a hidden one)
			code, body, h = br.post(path, row.form)
		} else {
			code, body, h = br.get(path)
		}
		if code != row.status {
			t.Fatalf("%s: %s %s as %s: status %d, want %d\n%.2000s", row.name, row.method, path, row.user, code, row.status, body)
		}
		if row.location != "" && !strings.HasPrefix(h.Get("Location"), sub(row.location)) {
			t.Errorf("%s: redirected to %q, want %q…", row.name, h.Get("Location"), sub(row.location))
		}
		for _, want := range row.expect {
			if !strings.Contains(body, sub(want)) {
				t.Errorf("%s: the page lacks %q", row.name, sub(want))
			}
		}
		for _, bad := range row.notExpect {
			if strings.Contains(body, sub(bad)) {
				t.Errorf("%s: the page shows %q", row.name, sub(bad))
			}
		}
		if row.after != nil {
			row.after(t, body, h)
		}
	}
}

// admissionForm is the admission form as a browser submits it, with email as the
// security contact's address.
func admissionForm(orgID int64, email string) url.Values {
	return url.Values{"org_id": {strconv.FormatInt(orgID, 10)}, "name": {"Cloud clinic"}, "platform": {appreg.PlatformAndroid},
		"package": {"cn.hospital.a.clinic"}, "operator": {"Clinic Ltd"}, "purpose": {"video consultations"},
		"contact_security_name": {"Wang"}, "contact_security_phone": {"13800000001"}, "contact_security_email": {email},
		"contact_technical_name": {"Li"}, "contact_technical_phone": {"13800000002"}, "contact_technical_email": {"tech@a.example"},
		"contact_management_name": {"Zhang"}, "contact_management_phone": {"13800000003"}, "contact_management_email": {"mgmt@a.example"},
		"channel_name": {"official-site", "", ""}, "channel_url": {"https://a.example/app", "", ""},
		"version": {"1.0", "2.0"}, "version_code": {"10", "20"},
		"version_sha256": {"", strings.Repeat("01", 32)}, "version_sm3": {"", ""},
		"version_signers": {"", strings.Repeat("AB:", 31) + "AB"}, "version_current": {"1"}}
}

// TestAppPages walks the registry's pages: the list and its filters as two roles, the
// admission form with a field error and then accepted, the review (a rejection without
// a comment refused), a channel serving foreign builds, the score page explaining
// every point lost with a capped type, the eviction and the re-admission form, and the
// report with its CSV — and another hospital's app stays out of every page.
func TestAppPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		e.seedApps()
		foreign := strings.Repeat("cd", 32)
		vars := map[string]string{"a": strconv.FormatInt(e.AppA.ID, 10), "b_name": e.AppB.Name}
		bad := admissionForm(e.HospA.ID, "not-an-address")
		good := admissionForm(e.HospA.ID, "sec@a.example")
		e.runPages(t, vars, []pageScenario{
			{name: "the list as the app operator", user: "appops", method: "GET", path: "/apps", status: http.StatusOK,
				expect:    []string{e.AppA.Name, `id="app-new"`, `class="badge grade grade-A"`, `id="nav-apps"`},
				notExpect: []string{"{b_name}"}},
			{name: "the list as the auditor: no filing", user: "auditor", method: "GET", path: "/apps?status=admitted&grade=A",
				status: http.StatusOK, expect: []string{e.AppA.Name}, notExpect: []string{`id="app-new"`, "{b_name}"}},
			{name: "a filter that matches nothing", user: "auditor", method: "GET", path: "/apps?grade=C", status: http.StatusOK,
				expect: []string{`id="app-empty"`}, notExpect: []string{e.AppA.Name}},
			{name: "a bad filter", user: "auditor", method: "GET", path: "/apps?grade=Z", status: http.StatusBadRequest,
				expect: []string{`role="alert"`}},
			{name: "the form offers the reader's hospitals", user: "appops", method: "GET", path: "/apps/new", status: http.StatusOK,
				expect: []string{"Hospital A", `name="contact_management_email"`, `name="version_current"`}, notExpect: []string{"Hospital B"}},
			{name: "a bad e-mail is shown at its field", user: "appops", method: "POST", path: "/apps", form: bad,
				status: http.StatusBadRequest,
				expect: []string{`id="err-contacts.email"`, "This is not an e-mail address.", `value="not-an-address"`,
					`value="Cloud clinic"`, `aria-invalid="true"`}},
			{name: "filed", user: "appops", method: "POST", path: "/apps", form: good, status: http.StatusSeeOther,
				location: "/apps/", after: func(t *testing.T, _ string, h http.Header) {
					m := regexp.MustCompile(`^/apps/(\d+)\?flash=flash\.app\.applied$`).FindStringSubmatch(h.Get("Location"))
					if m == nil {
						t.Fatalf("redirect %q", h.Get("Location"))
					}
					vars["id"] = m[1]
				}},
			{name: "the pending app", user: "appops", method: "GET", path: "/apps/{id}?flash=flash.app.applied", status: http.StatusOK,
				expect:    []string{"Cloud clinic", "Pending review", "The application was filed", "Admission", "official-site", strings.Repeat("ab", 32)},
				notExpect: []string{`id="app-approve"`, `id="app-evict"`}},
			{name: "the reviewer sees the decision form", user: "secofficer", method: "GET", path: "/apps/{id}", status: http.StatusOK,
				expect: []string{`id="app-approve"`, `id="app-reject"`}},
			{name: "a rejection needs a comment", user: "secofficer", method: "POST", path: "/apps/{id}/review",
				form: url.Values{"decision": {"reject"}}, status: http.StatusBadRequest, expect: []string{`id="err-comment"`, "Pending review"}},
			{name: "approved", user: "secofficer", method: "POST", path: "/apps/{id}/review",
				form: url.Values{"decision": {"approve"}, "comment": {"complete"}}, status: http.StatusSeeOther, location: "/apps/{id}?flash="},
			{name: "admitted with a code", user: "auditor", method: "GET", path: "/apps/{id}", status: http.StatusOK,
				expect: []string{"Admitted", "MGAC1.", `data-copy="code-text-0"`, "complete"}, notExpect: []string{`id="app-evict"`}},
			{name: "an unfiled channel serves a foreign build", user: "itops", method: "POST", path: "/apps/{id}/observations",
				form: url.Values{"channel": {"appgallery"}, "version": {"2.0"}, "signer": {foreign}}, status: http.StatusSeeOther},
			{name: "and so does the official site", user: "itops", method: "POST", path: "/apps/{id}/observations",
				form: url.Values{"channel": {"official-site"}, "version": {"2.0"}, "signer": {foreign}}, status: http.StatusSeeOther},
			{name: "an empty observation is refused", user: "itops", method: "POST", path: "/apps/{id}/observations",
				form: url.Values{"channel": {"official-site"}}, status: http.StatusBadRequest, expect: []string{`id="err-version"`}},
			{name: "the findings", user: "auditor", method: "GET", path: "/apps/{id}", status: http.StatusOK,
				expect: []string{"Open findings (3)", "appgallery", "not filed", "Critical"}},
			{name: "the score explains every point", user: "regulator", method: "GET", path: "/apps/{id}/score", status: http.StatusOK,
				after: func(t *testing.T, body string, _ http.Header) { checkScorePage(t, e, vars["id"], body) }},
			{name: "in Chinese", user: "regulator", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the evidence in the reader's language", user: "regulator", method: "GET", path: "/apps/{id}/score", status: http.StatusOK,
				expect: []string{"不是官方签名证书", "经未备案的渠道 appgallery 分发"}, notExpect: []string{"not an official signer", "a channel not filed"}},
			{name: "the app page too", user: "regulator", method: "GET", path: "/apps/{id}", status: http.StatusOK,
				expect: []string{"不是官方签名证书"}, notExpect: []string{"not an official signer"}},
			{name: "back to English", user: "regulator", method: "POST", path: "/lang", form: url.Values{"lang": {"en"}}, status: http.StatusSeeOther},
			{name: "evict without a reason", user: "secofficer", method: "POST", path: "/apps/{id}/evict", status: http.StatusBadRequest,
				expect: []string{`id="err-reason"`}},
			{name: "evict", user: "secofficer", method: "POST", path: "/apps/{id}/evict",
				form: url.Values{"reason": {"counterfeit build in appgallery"}}, status: http.StatusSeeOther},
			{name: "the re-admission form", user: "appops", method: "GET", path: "/apps/{id}", status: http.StatusOK,
				expect: []string{"Evicted", `action="/apps/{id}/readmit"`, `name="evidence"`, `value="cn.hospital.a.clinic"`, "counterfeit build"}},
			{name: "re-admission needs evidence", user: "appops", method: "POST", path: "/apps/{id}/readmit", form: good,
				status: http.StatusBadRequest, expect: []string{`id="err-evidence"`}},
			{name: "the report", user: "regulator", method: "GET", path: "/apps/report", status: http.StatusOK,
				expect: []string{"Cloud clinic", "counterfeit build in appgallery", `id="report-status-evicted"`,
					`id="report-type-channel.foreign_signer"`, `id="chart-app-report-average"`, "report.csv?from=",
					`id="report-incident-channel.foreign_signer-critical"`, `id="report-incident-app.evicted-high"`, "App evicted"},
				notExpect: []string{"{b_name}"}},
			{name: "the report's CSV", user: "regulator", method: "GET", path: "/apps/report.csv", status: http.StatusOK,
				expect: []string{"\ufeffsection,key,", "eviction,{id},Cloud clinic,Hospital A,evicted", "findings,channel.foreign_signer,",
					"incidents,app.evicted/high,App evicted,,,,1,"},
				notExpect: []string{"{b_name}"}},
			{name: "a bad period", user: "regulator", method: "GET", path: "/apps/report?from=2026-05-01&to=2026-04-01",
				status: http.StatusBadRequest, expect: []string{`role="alert"`}},
			{name: "re-admission", user: "appops", method: "POST", path: "/apps/{id}/readmit",
				form: func() url.Values {
					f := admissionForm(e.HospA.ID, "sec@a.example")
					f.Set("evidence", "the counterfeit build was taken down")
					return f
				}(), status: http.StatusSeeOther, location: "/apps/{id}?flash=flash.app.readmit"},
			{name: "pending again", user: "appops", method: "GET", path: "/apps/{id}", status: http.StatusOK,
				expect: []string{"Re-admission", "the counterfeit build was taken down", "Pending review"}, notExpect: []string{`name="evidence"`}},
		})
	})
}

// checkScorePage checks the score page against the stored evaluation: the sum, each
// type's label and points taken, the capped marker where the cap clipped, the grade
// thresholds and the consequence.
func checkScorePage(t *testing.T, e *testEnv, id, body string) {
	t.Helper()
	n, _ := strconv.ParseInt(id, 10, 64)
	scores, err := e.Apps.Scores(context.Background(), actor.System(), n)
	if err != nil || len(scores) < 2 {
		t.Fatalf("scores %v %v", scores, err)
	}
	var res appscore.Result
	if err := json.Unmarshal(scores[len(scores)-1].Details, &res); err != nil {
		t.Fatal(err)
	}
	if res.Lost == 0 || len(res.Types) < 2 {
		t.Fatalf("the app lost no points: %+v", res)
	}
	sum := "100"
	clipped := false
	for _, ty := range res.Types {
		if !strings.Contains(body, template.HTMLEscapeString(ty.Label.EN)) {
			t.Errorf("the score page lacks the label %q", ty.Label.EN)
		}
		if !strings.Contains(body, fmt.Sprintf("<b>−%d</b>", ty.Taken)) {
			t.Errorf("the score page lacks the %d points %s took", ty.Taken, ty.Type)
		}
		sum += fmt.Sprintf(" − %d", ty.Taken)
		clipped = clipped || ty.Clipped
	}
	sum += fmt.Sprintf(" = %d", res.Score)
	model := appscore.DefaultModel()
	for _, want := range []string{sum, fmt.Sprintf(`id="score-lost">−%d`, res.Lost), `grade-` + string(res.Grade),
		fmt.Sprintf("%d points and more", model.Grades.A), fmt.Sprintf("below %d points", model.Grades.B),
		`id="chart-app-score"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the score page lacks %q", want)
		}
	}
	if !clipped || !strings.Contains(body, "capped") {
		t.Errorf("two foreign signers must fill their type's cap and the page say so (clipped %v)", clipped)
	}
	if res.Grade == appscore.GradeC && !strings.Contains(body, "Grade C: eviction proposed") {
		t.Errorf("the consequence of grade C is missing")
	}
}
