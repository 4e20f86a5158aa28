package web

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
)

// maxPolicyUpload bounds an attached policy document or self-check report.
const maxPolicyUpload = 20 << 20

// Request bodies of the policy API that are not domain inputs.
type (
	// policyRetireRequest is the body of POST /api/v1/policies/{id}/retire.
	policyRetireRequest struct {
		Reason string `json:"reason"`
	}
)

func (s *Server) policies() (*policy.Service, error) {
	if s.Policies == nil {
		return nil, problem.NotFound("policies")
	}
	return s.Policies, nil
}

func (s *Server) apiPolicyList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	page, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q := policy.Query{Status: v.Get("status"), Category: v.Get("category"), Text: v.Get("q"), Overdue: v.Get("overdue") == "true",
		Now: time.Now(), Limit: page.Limit, Offset: page.Offset}
	if q.OrgID, err = queryID(r, "org_id"); err != nil {
		return err
	}
	list, total, err := svc.Policies(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, page, list, total))
}

func (s *Server) apiPolicyCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	var in policy.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := svc.Create(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/policies/", p.ID), p)
}

// policyAction runs f on the policy named by the path after decoding body (nil: none).
func policyAction(s *Server, w http.ResponseWriter, r *http.Request, body any, f func(svc *policy.Service, id int64) (policy.Policy, error)) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if body != nil {
		if _, err := svc.Policy(r.Context(), reqActor(r), id); err != nil { // another hospital's policy before a bad body
			return err
		}
		if err := decodeJSON(r, body); err != nil {
			return err
		}
	}
	p, err := f(svc, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiPolicyGet(w http.ResponseWriter, r *http.Request) error {
	return policyAction(s, w, r, nil, func(svc *policy.Service, id int64) (policy.Policy, error) {
		return svc.Policy(r.Context(), reqActor(r), id)
	})
}

func (s *Server) apiPolicyRevise(w http.ResponseWriter, r *http.Request) error {
	var in policy.Input
	return policyAction(s, w, r, &in, func(svc *policy.Service, id int64) (policy.Policy, error) {
		return svc.Revise(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiPolicySubmit(w http.ResponseWriter, r *http.Request) error {
	return policyAction(s, w, r, nil, func(svc *policy.Service, id int64) (policy.Policy, error) {
		return svc.Submit(r.Context(), reqActor(r), id)
	})
}

func (s *Server) apiPolicyApprove(w http.ResponseWriter, r *http.Request) error {
	var in policy.Decision
	return policyAction(s, w, r, &in, func(svc *policy.Service, id int64) (policy.Policy, error) {
		return svc.Approve(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiPolicyRetire(w http.ResponseWriter, r *http.Request) error {
	var in policyRetireRequest
	return policyAction(s, w, r, &in, func(svc *policy.Service, id int64) (policy.Policy, error) {
		return svc.Retire(r.Context(), reqActor(r), id, in.Reason)
	})
}

func (s *Server) apiPolicyReview(w http.ResponseWriter, r *http.Request) error {
	var in policy.ReviewInput
	return policyAction(s, w, r, &in, func(svc *policy.Service, id int64) (policy.Policy, error) {
		return svc.CompleteReview(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiPolicyAttach(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := svc.Policy(r.Context(), reqActor(r), id); err != nil { // before reading a stranger's upload
		return err
	}
	data, name, err := uploadedDocument(w, r, "file", "attachment_too_large", "attachment_required", maxPolicyUpload)
	if err != nil {
		return err
	}
	if name == "" {
		name = r.URL.Query().Get("name")
	}
	p, err := svc.AttachFile(r.Context(), reqActor(r), id, name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/policies/", p.ID)+"/versions/"+strconv.Itoa(p.Version)+"/document", p)
}

func (s *Server) apiPolicyDocument(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	v, err := pathInt(r, "version")
	if err != nil {
		return err
	}
	f, err := svc.File(r.Context(), reqActor(r), id, int(v))
	if err != nil {
		return err
	}
	return download(w, f)
}

// download sends f as a file to save, never rendered by the browser.
func download(w http.ResponseWriter, f policy.File) error {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(f.Content)
	return err
}

// Roles and responsibilities.

func (s *Server) apiRoleBook(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	a := reqActor(r)
	id, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	if id == 0 {
		id = a.OrgID
	}
	book, err := svc.RoleBook(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, book)
}

func (s *Server) apiRoleSave(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	var id int64
	if r.PathValue("id") != "" {
		if id, err = pathInt(r, "id"); err != nil {
			return err
		}
		if _, err := svc.Role(r.Context(), reqActor(r), id); err != nil {
			return err
		}
	}
	var in policy.RoleInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ro, err := svc.SaveRole(r.Context(), reqActor(r), id, in)
	if err != nil {
		return err
	}
	if id == 0 {
		return created(w, idPath("/api/v1/compliance/roles/", ro.ID), ro)
	}
	return writeJSON(w, http.StatusOK, ro)
}

func (s *Server) apiRoleRemove(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := svc.RemoveRole(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Self-checks.

func (s *Server) apiSelfCheckList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	page, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q := policy.CheckQuery{Kind: v.Get("kind"), Overdue: v.Get("overdue") == "true", Now: time.Now(), Limit: page.Limit, Offset: page.Offset}
	if q.OrgID, err = queryID(r, "org_id"); err != nil {
		return err
	}
	list, total, err := svc.SelfCheckList(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, page, list, total))
}

func (s *Server) apiSelfCheckSave(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	var id int64
	if r.PathValue("id") != "" {
		if id, err = pathInt(r, "id"); err != nil {
			return err
		}
		if _, err := svc.SelfCheck(r.Context(), reqActor(r), id); err != nil {
			return err
		}
	}
	var in policy.CheckInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := svc.SaveCheck(r.Context(), reqActor(r), id, in)
	if err != nil {
		return err
	}
	if id == 0 {
		return created(w, idPath("/api/v1/selfchecks/", c.ID), c)
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiSelfCheckGet(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	c, err := svc.SelfCheck(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiSelfCheckAttach(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := svc.SelfCheck(r.Context(), reqActor(r), id); err != nil { // before reading a stranger's upload
		return err
	}
	data, name, err := uploadedDocument(w, r, "file", "attachment_too_large", "attachment_required", maxPolicyUpload)
	if err != nil {
		return err
	}
	if name == "" {
		name = r.URL.Query().Get("name")
	}
	c, err := svc.AttachReport(r.Context(), reqActor(r), id, name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/selfchecks/", c.ID)+"/report", c)
}

func (s *Server) apiSelfCheckReport(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	f, err := svc.Report(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return download(w, f)
}

func init() {
	const tag = "compliance"
	apiDocs["GET /api/v1/policies"] = apiOp{Summary: "The policy documents the caller sees, next review soonest first; overdue=true keeps those past their review date",
		Tag: tag, Response: listResponse[policy.Policy]{}, Status: 200, Query: []string{"org_id", "status", "category", "overdue", "q"}}
	opQueryDocs["GET /api/v1/policies"] = map[string]qdoc{
		"status":   oneOf("Status of the latest version", policy.Statuses),
		"category": oneOf("Category in the MLPS document hierarchy", policy.Categories),
		"overdue":  flag("Only policies in force past their review date"),
		"org_id":   id("This organisation and its subtree"),
		"q":        str("Text in the title"),
	}
	apiDocs["POST /api/v1/policies"] = apiOp{Summary: "Create a policy (strategy, rule, procedure or record form) as version 1, a draft; the owner is a user of its hospital",
		Tag: tag, Request: policy.Input{}, Response: policy.Policy{}, Status: 201}
	apiDocs["GET /api/v1/policies/{id}"] = apiOp{Summary: "A policy with its versions (approval trail) and reviews", Tag: tag, Response: policy.Policy{}, Status: 200}
	apiDocs["PUT /api/v1/policies/{id}"] = apiOp{Summary: "Revise a policy: a draft is rewritten, an approved policy gets a new draft version (the approved one stays in force)",
		Tag: tag, Request: policy.Input{}, Response: policy.Policy{}, Status: 200}
	apiDocs["POST /api/v1/policies/{id}/submit"] = apiOp{Summary: "Submit the draft version for approval", Tag: tag, Response: policy.Policy{}, Status: 200}
	apiDocs["POST /api/v1/policies/{id}/approve"] = apiOp{Summary: "Approve (or, approve false, return) the version in review; the approver is not its author",
		Tag: tag, Request: policy.Decision{}, Response: policy.Policy{}, Status: 200}
	apiDocs["POST /api/v1/policies/{id}/retire"] = apiOp{Summary: "Retire a policy (reason required)", Tag: tag, Request: policyRetireRequest{}, Response: policy.Policy{}, Status: 200}
	apiDocs["POST /api/v1/policies/{id}/review"] = apiOp{Summary: "Complete the policy's review: no_change, or revised (a new draft version)",
		Tag: tag, Request: policy.ReviewInput{}, Response: policy.Policy{}, Status: 200}
	apiDocs["POST /api/v1/policies/{id}/document"] = apiOp{Summary: "Attach the document of the draft version (multipart field file, or the raw body named by the query's name; " +
		"at most 20 MiB; its type checked by content)", Tag: tag, Body: "application/octet-stream", Response: policy.Policy{}, Status: 201, Query: []string{"name"}}
	apiDocs["GET /api/v1/policies/{id}/versions/{version}/document"] = apiOp{Summary: "The document of a version, as a download",
		Tag: tag, Produces: "application/octet-stream", Status: 200}
	apiDocs["GET /api/v1/compliance/roles"] = apiOp{Summary: "The security roles of an organisation (default the caller's) and who holds two of the three administrators",
		Tag: tag, Response: policy.RoleBook{}, Status: 200, Query: []string{"org_id"}}
	apiDocs["POST /api/v1/compliance/roles"] = apiOp{Summary: "Appoint a holder of a security role: a user or a named person with phone",
		Tag: tag, Request: policy.RoleInput{}, Response: policy.Role{}, Status: 201}
	apiDocs["PUT /api/v1/compliance/roles/{id}"] = apiOp{Summary: "Change a role holder", Tag: tag, Request: policy.RoleInput{}, Response: policy.Role{}, Status: 200}
	apiDocs["DELETE /api/v1/compliance/roles/{id}"] = apiOp{Summary: "End a role holder's appointment", Tag: tag, Status: 204}
	apiDocs["GET /api/v1/selfchecks"] = apiOp{Summary: "The periodic self-checks the caller sees, latest planned first; overdue=true keeps the planned ones past their date",
		Tag: tag, Response: listResponse[policy.SelfCheck]{}, Status: 200, Query: []string{"org_id", "kind", "overdue"}}
	opQueryDocs["GET /api/v1/selfchecks"] = map[string]qdoc{
		"kind":    oneOf("Kind of self-check", policy.CheckKinds),
		"overdue": flag("Only planned checks past their date and not performed"),
		"org_id":  id("This organisation and its subtree"),
	}
	apiDocs["POST /api/v1/selfchecks"] = apiOp{Summary: "Plan or record a self-check (vuln_scan, pentest, document_check, config_check, other); a recurring one plans its successor when performed",
		Tag: tag, Request: policy.CheckInput{}, Response: policy.SelfCheck{}, Status: 201}
	apiDocs["GET /api/v1/selfchecks/{id}"] = apiOp{Summary: "A self-check", Tag: tag, Response: policy.SelfCheck{}, Status: 200}
	apiDocs["PUT /api/v1/selfchecks/{id}"] = apiOp{Summary: "Record a self-check's performance and result", Tag: tag, Request: policy.CheckInput{}, Response: policy.SelfCheck{}, Status: 200}
	apiDocs["POST /api/v1/selfchecks/{id}/report"] = apiOp{Summary: "Attach a self-check's report (multipart field file or raw body named by name; at most 20 MiB; type checked by content)",
		Tag: tag, Body: "application/octet-stream", Response: policy.SelfCheck{}, Status: 201, Query: []string{"name"}}
	apiDocs["GET /api/v1/selfchecks/{id}/report"] = apiOp{Summary: "A self-check's report, as a download", Tag: tag, Produces: "application/octet-stream", Status: 200}
}
