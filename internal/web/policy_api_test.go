package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestPolicyAPI is a policy's life over the API, one request a row with what must and
// must not be in the answer: created as a draft with a document, submitted, refused to
// its author's approval, approved by another officer, revised into version 2 (version 1
// stays in force) with a document of its own; each version's document downloads as an
// attachment with its own bytes; hospital B's officer finds none of it.
func TestPolicyAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		doc1 := []byte("%PDF-1.4\n% version one of the access control rule\n%%EOF\n")
		doc2 := []byte("%PDF-1.4\n% version two of the access control rule\n%%EOF\n")
		const title = "Access control rule of hospital A"
		var id string
		steps := []struct {
			name         string
			user, method string
			path         string // {id} is the policy created by the first row
			body         any
			file         []byte // an upload of the multipart field "file" instead of body
			status       int
			expect       []string
			notExpect    []string
			header       map[string]string // response headers that must be set so
		}{
			{name: "created", user: "secofficer", method: "POST", path: "/api/v1/policies",
				body:   map[string]any{"org_id": e.HospA.ID, "title": title, "category": "rule", "owner": "secofficer", "body": "Accounts are personal."},
				status: http.StatusCreated, expect: []string{`"status":"draft"`, `"version":1`, `"approved_version":0`}},
			{name: "its document", user: "secofficer", method: "POST", path: "/api/v1/policies/{id}/document", file: doc1,
				status: http.StatusCreated, expect: []string{`"name":"rule.pdf"`, `"kind":"pdf"`}},
			{name: "submitted", user: "secofficer", method: "POST", path: "/api/v1/policies/{id}/submit",
				status: http.StatusOK, expect: []string{`"status":"in_review"`, `"submitted_by":"secofficer"`}},
			{name: "not approved by its author", user: "secofficer", method: "POST", path: "/api/v1/policies/{id}/approve",
				body: map[string]any{"approve": true}, status: http.StatusForbidden, notExpect: []string{`"status":"approved"`}},
			{name: "approved by another", user: "privacy", method: "POST", path: "/api/v1/policies/{id}/approve",
				body: map[string]any{"approve": true}, status: http.StatusOK,
				expect: []string{`"status":"approved"`, `"approved_version":1`, `"approved_by":"privacy"`, `"next_review_at":"`}},
			{name: "revised", user: "secofficer", method: "PUT", path: "/api/v1/policies/{id}",
				body:   map[string]any{"title": title, "category": "rule", "owner": "secofficer", "body": "Accounts are personal and reviewed monthly."},
				status: http.StatusOK, expect: []string{`"status":"draft"`, `"version":2`, `"approved_version":1`, "reviewed monthly"}},
			{name: "the new version's document", user: "secofficer", method: "POST", path: "/api/v1/policies/{id}/document", file: doc2,
				status: http.StatusCreated, expect: []string{`"version":2`}},
			{name: "version 1's document", user: "auditor", method: "GET", path: "/api/v1/policies/{id}/versions/1/document",
				status: http.StatusOK, expect: []string{"version one"}, notExpect: []string{"version two"},
				header: map[string]string{"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff", "Content-Type": "application/pdf"}},
			{name: "version 2's document", user: "auditor", method: "GET", path: "/api/v1/policies/{id}/versions/2/document",
				status: http.StatusOK, expect: []string{"version two"}, notExpect: []string{"version one"}},
			{name: "no version 3", user: "auditor", method: "GET", path: "/api/v1/policies/{id}/versions/3/document", status: http.StatusNotFound},
			{name: "the reader cannot revise", user: "auditor", method: "PUT", path: "/api/v1/policies/{id}",
				body: map[string]any{"title": "x", "category": "rule", "owner": "secofficer"}, status: http.StatusForbidden},
			{name: "not hospital B's", user: "secofficer_b", method: "GET", path: "/api/v1/policies/{id}", status: http.StatusNotFound,
				notExpect: []string{title}},
			{name: "nor its document", user: "secofficer_b", method: "GET", path: "/api/v1/policies/{id}/versions/1/document", status: http.StatusNotFound,
				notExpect: []string{"version one"}},
			{name: "nor may B approve it", user: "secofficer_b", method: "POST", path: "/api/v1/policies/{id}/approve",
				body: map[string]any{"approve": true}, status: http.StatusNotFound},
			{name: "nor attach to it", user: "secofficer_b", method: "POST", path: "/api/v1/policies/{id}/document", file: doc2,
				status: http.StatusNotFound},
			{name: "nor list it", user: "secofficer_b", method: "GET", path: "/api/v1/policies", status: http.StatusOK,
				notExpect: []string{title}},
			{name: "A lists it", user: "auditor", method: "GET", path: "/api/v1/policies?category=rule", status: http.StatusOK,
				expect: []string{title}},
		}
		for _, s := range steps {
			path := strings.ReplaceAll(s.path, "{id}", id)
			var code int
			var out []byte
			var h http.Header
			if s.file != nil {
				body, ct := multipartBody(t, mpPart{field: "file", filename: "rule.pdf", data: s.file})
				code, out, h = e.raw(s.method, path, s.user, body, ct)
			} else {
				var rd io.Reader
				ct := ""
				if s.body != nil || s.method != "GET" {
					body := s.body
					if body == nil {
						body = map[string]any{}
					}
					j, err := json.Marshal(body)
					if err != nil {
						t.Fatal(err)
					}
					rd, ct = bytes.NewReader(j), "application/json"
				}
				code, out, h = e.raw(s.method, path, s.user, rd, ct)
			}
			if code != s.status {
				t.Fatalf("%s: %s %s as %s: status %d, want %d\n%.1500s", s.name, s.method, path, s.user, code, s.status, out)
			}
			for _, want := range s.expect {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: the answer lacks %q\n%.1500s", s.name, want, out)
				}
			}
			for _, bad := range s.notExpect {
				if strings.Contains(string(out), bad) {
					t.Errorf("%s: the answer holds %q", s.name, bad)
				}
			}
			for k, want := range s.header {
				if !strings.Contains(h.Get(k), want) {
					t.Errorf("%s: header %s = %q, want %q", s.name, k, h.Get(k), want)
				}
			}
			if id == "" {
				var p struct{ ID int64 }
				if err := json.Unmarshal(out, &p); err != nil || p.ID == 0 {
					t.Fatalf("%s: no id in %s", s.name, out)
				}
				id = strconv.FormatInt(p.ID, 10)
			}
		}
	})
}
