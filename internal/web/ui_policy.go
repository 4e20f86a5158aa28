package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
)

// The pages of the policies, the role book and the self-checks (package policy) under
// the compliance section.

// policyPage starts a page of the compliance section's policies entry.
func (s *Server) policyPage(r *http.Request, w http.ResponseWriter, title string) *page {
	p := s.newPage(r, w, title, "compliance")
	p.Sub = "policies"
	return p
}

// formDate reads an optional date (YYYY-MM-DD, local) of form field name.
func formDate(r *http.Request, name string) (*time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
	if err != nil {
		return nil, problem.NotDate(name)
	}
	return &t, nil
}

// formInt reads an optional whole number of form field name (0 when empty).
func formInt(r *http.Request, name string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, problem.Invalid(name, "is not a whole number").WithMsg("policy.error.number")
	}
	return n, nil
}

// policyListData is the list of policies with the form of a new one.
type policyListData struct {
	Status, Category string
	Overdue          bool
	Statuses         []string
	Categories       []string
	Policies         []policy.Policy
	Total            int
	Orgs             []orgOption
	In               policy.Input // the form of a new policy, kept when refused
	Now              time.Time
}

func (s *Server) uiPolicyList(w http.ResponseWriter, r *http.Request) error {
	return s.showPolicyList(w, r, policy.Input{ReviewMonths: 12}, nil)
}

// showPolicyList renders the list with in in the form and failed (the problem of
// creating it) at the top.
func (s *Server) showPolicyList(w http.ResponseWriter, r *http.Request, in policy.Input, failed error) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	p := s.policyPage(r, w, "policy.list.title")
	q := r.URL.Query()
	d := policyListData{Status: q.Get("status"), Category: q.Get("category"), Overdue: q.Get("overdue") == "true",
		Statuses: policy.Statuses, Categories: policy.Categories, In: in, Now: time.Now()}
	if d.Orgs, err = s.hospitalOptions(r); err != nil {
		return err
	}
	listErr := func() error {
		var err error
		d.Policies, d.Total, err = svc.Policies(r.Context(), reqActor(r), policy.Query{Status: d.Status, Category: d.Category,
			Overdue: d.Overdue, Now: d.Now, Text: q.Get("q"), Limit: 500})
		return err
	}()
	if failed == nil {
		failed = listErr
	} else if listErr != nil {
		return listErr
	}
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "policies.html", p)
}

// policyForm reads the form of a policy (new or revised).
func policyForm(r *http.Request) (policy.Input, error) {
	in := policy.Input{Title: r.PostFormValue("title"), Category: r.PostFormValue("category"), Owner: r.PostFormValue("owner"),
		Body: r.PostFormValue("body"), Note: r.PostFormValue("note")}
	var err error
	if in.OrgID, err = formID(r, "org_id"); err != nil {
		return in, err
	}
	in.ReviewMonths, err = formInt(r, "review_months")
	return in, err
}

func (s *Server) uiPolicyCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	in, err := policyForm(r)
	if err == nil {
		var p policy.Policy
		if p, err = svc.Create(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, idPath("/policies/", p.ID)+"?flash=flash.policy.created")
		}
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	return s.showPolicyList(w, r, in, err)
}

// policyShowData is one policy's page.
type policyShowData struct {
	Policy     policy.Policy
	Latest     policy.Version  // the version being written or decided
	InForce    *policy.Version // the approved version, if any
	CanDecide  bool            // the reader did not write nor submit the version in review
	Categories []string
	Revise     policy.Input // the revision form
	Now        time.Time
}

// visiblePolicy reads policy {id} as the reader sees it (another hospital's is not found).
func (s *Server) visiblePolicy(r *http.Request) (*policy.Service, policy.Policy, error) {
	svc, err := s.policies()
	if err != nil {
		return nil, policy.Policy{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, policy.Policy{}, problem.NotFound("policy")
	}
	pol, err := svc.Policy(r.Context(), reqActor(r), id)
	return svc, pol, err
}

func (s *Server) uiPolicyShow(w http.ResponseWriter, r *http.Request) error {
	return s.showPolicyDoc(w, r, nil)
}

// showPolicyDoc renders policy {id} with failed (the problem of an action on it) at the top.
func (s *Server) showPolicyDoc(w http.ResponseWriter, r *http.Request, failed error) error {
	_, pol, err := s.visiblePolicy(r)
	if err != nil {
		return err
	}
	p := s.policyPage(r, w, "policy.show.title")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := policyShowData{Policy: pol, Categories: policy.Categories, Now: time.Now()}
	if len(pol.Versions) > 0 {
		d.Latest = pol.Versions[0]
	}
	for i := range pol.Versions {
		if pol.Versions[i].Status == policy.StatusApproved {
			d.InForce = &pol.Versions[i]
		}
	}
	me := reqActor(r).Username
	d.CanDecide = pol.Status == policy.StatusInReview && me != d.Latest.Author && me != d.Latest.SubmittedBy
	d.Revise = policy.Input{Title: pol.Title, Category: pol.Category, Owner: pol.Owner, ReviewMonths: pol.ReviewMonths, Body: d.Latest.Body}
	p.Data = d
	return s.render(w, code, "policy.html", p)
}

// uiPolicyAction runs do on policy {id}, which the reader must see, and returns to the
// policy with flash, or shows it with the problem.
func (s *Server) uiPolicyAction(w http.ResponseWriter, r *http.Request, flash string, do func(svc *policy.Service, id int64) error) error {
	svc, pol, err := s.visiblePolicy(r)
	if err != nil {
		return err
	}
	if err := do(svc, pol.ID); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showPolicyDoc(w, r, err)
	}
	return redirect(w, r, idPath("/policies/", pol.ID)+"?flash="+flash)
}

func (s *Server) uiPolicyRevise(w http.ResponseWriter, r *http.Request) error {
	return s.uiPolicyAction(w, r, "flash.policy.revised", func(svc *policy.Service, id int64) error {
		in, err := policyForm(r)
		if err != nil {
			return err
		}
		_, err = svc.Revise(r.Context(), reqActor(r), id, in)
		return err
	})
}

func (s *Server) uiPolicySubmit(w http.ResponseWriter, r *http.Request) error {
	return s.uiPolicyAction(w, r, "flash.policy.submitted", func(svc *policy.Service, id int64) error {
		_, err := svc.Submit(r.Context(), reqActor(r), id)
		return err
	})
}

func (s *Server) uiPolicyApprove(w http.ResponseWriter, r *http.Request) error {
	flash := "flash.policy.approved"
	if r.PostFormValue("decision") == "return" {
		flash = "flash.policy.returned"
	}
	return s.uiPolicyAction(w, r, flash, func(svc *policy.Service, id int64) error {
		d := policy.Decision{Note: r.PostFormValue("note")}
		switch r.PostFormValue("decision") {
		case "approve":
			d.Approve = true
		case "return":
		default:
			return problem.OneOf("decision", "approve", "return")
		}
		eff, err := formDate(r, "effective_at")
		if err != nil {
			return err
		}
		if eff != nil {
			d.EffectiveAt = *eff
		}
		_, err = svc.Approve(r.Context(), reqActor(r), id, d)
		return err
	})
}

func (s *Server) uiPolicyRetire(w http.ResponseWriter, r *http.Request) error {
	return s.uiPolicyAction(w, r, "flash.policy.retired", func(svc *policy.Service, id int64) error {
		_, err := svc.Retire(r.Context(), reqActor(r), id, r.PostFormValue("reason"))
		return err
	})
}

func (s *Server) uiPolicyReview(w http.ResponseWriter, r *http.Request) error {
	return s.uiPolicyAction(w, r, "flash.policy.reviewed", func(svc *policy.Service, id int64) error {
		_, err := svc.CompleteReview(r.Context(), reqActor(r), id, policy.ReviewInput{Outcome: r.PostFormValue("outcome"),
			Note: r.PostFormValue("note"), Body: r.PostFormValue("body")})
		return err
	})
}

func (s *Server) uiPolicyAttach(w http.ResponseWriter, r *http.Request) error {
	return s.uiPolicyAction(w, r, "flash.policy.attached", func(svc *policy.Service, id int64) error {
		data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", maxPolicyUpload)
		if err != nil {
			return err
		}
		_, err = svc.AttachFile(r.Context(), reqActor(r), id, name, bytes.NewReader(data))
		return err
	})
}

// uiPolicyDocument serves the document of a version of policy {id} as a download.
func (s *Server) uiPolicyDocument(w http.ResponseWriter, r *http.Request) error {
	svc, pol, err := s.visiblePolicy(r)
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil {
		return problem.NotFound("document")
	}
	f, err := svc.File(r.Context(), reqActor(r), pol.ID, v)
	if err != nil {
		return err
	}
	return download(w, f)
}

// PolicyVersion is the version v of a policy in the page's language ("v2").
func (p *page) PolicyVersion(v int) string { return p.T("policy.ui.version_n", v) }
