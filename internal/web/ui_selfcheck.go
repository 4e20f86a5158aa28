package web

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
)

// selfCheckListData is the list of self-checks with the form of a new one.
type selfCheckListData struct {
	Kind    string
	Overdue bool
	Kinds   []string
	Checks  []policy.SelfCheck
	Total   int
	Orgs    []orgOption
	In      policy.CheckInput // the form of a new check, kept when refused
	Now     time.Time
}

func (s *Server) uiSelfCheckList(w http.ResponseWriter, r *http.Request) error {
	return s.showSelfCheckList(w, r, policy.CheckInput{}, nil)
}

func (s *Server) showSelfCheckList(w http.ResponseWriter, r *http.Request, in policy.CheckInput, failed error) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	p := s.policyPage(r, w, "selfcheck.list.title")
	q := r.URL.Query()
	d := selfCheckListData{Kind: q.Get("kind"), Overdue: q.Get("overdue") == "true", Kinds: policy.CheckKinds, In: in, Now: time.Now()}
	if d.Orgs, err = s.hospitalOptions(r); err != nil {
		return err
	}
	listErr := func() error {
		var err error
		d.Checks, d.Total, err = svc.SelfCheckList(r.Context(), reqActor(r), policy.CheckQuery{Kind: d.Kind, Overdue: d.Overdue, Now: d.Now, Limit: 500})
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
	return s.render(w, code, "selfchecks.html", p)
}

// checkPlanForm reads the plan of a self-check.
func checkPlanForm(r *http.Request, in *policy.CheckInput) error {
	in.Kind, in.Title, in.ThirdParty = r.PostFormValue("kind"), r.PostFormValue("title"), r.PostFormValue("third_party")
	var err error
	if in.OrgID, err = formID(r, "org_id"); err != nil {
		return err
	}
	planned, err := formDate(r, "planned_at")
	if err != nil {
		return err
	}
	if planned != nil {
		in.PlannedAt = *planned
	}
	in.RecurMonths, err = formInt(r, "recur_months")
	return err
}

func (s *Server) uiSelfCheckCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	var in policy.CheckInput
	err = checkPlanForm(r, &in)
	if err == nil {
		var c policy.SelfCheck
		if c, err = svc.SaveCheck(r.Context(), reqActor(r), 0, in); err == nil {
			return redirect(w, r, idPath("/selfchecks/", c.ID)+"?flash=flash.selfcheck.planned")
		}
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	return s.showSelfCheckList(w, r, in, err)
}

// selfCheckShowData is one self-check's page.
type selfCheckShowData struct {
	Check   policy.SelfCheck
	Results []string
	Issues  bool // performed and found issues or failed: a risk can be raised from it
	Now     time.Time
}

// visibleCheck reads self-check {id} as the reader sees it.
func (s *Server) visibleCheck(r *http.Request) (*policy.Service, policy.SelfCheck, error) {
	svc, err := s.policies()
	if err != nil {
		return nil, policy.SelfCheck{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, policy.SelfCheck{}, problem.NotFound("self-check")
	}
	c, err := svc.SelfCheck(r.Context(), reqActor(r), id)
	return svc, c, err
}

func (s *Server) uiSelfCheckShow(w http.ResponseWriter, r *http.Request) error {
	return s.showSelfCheck(w, r, nil)
}

func (s *Server) showSelfCheck(w http.ResponseWriter, r *http.Request, failed error) error {
	_, c, err := s.visibleCheck(r)
	if err != nil {
		return err
	}
	p := s.policyPage(r, w, "selfcheck.show.title")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	p.Data = selfCheckShowData{Check: c, Results: policy.Results, Now: time.Now(),
		Issues: c.PerformedAt != nil && (c.Result == policy.ResultIssues || c.Result == policy.ResultFailed)}
	return s.render(w, code, "selfcheck.html", p)
}

// uiSelfCheckAction runs do on self-check {id} and returns to it with flash, or shows
// it with the problem.
func (s *Server) uiSelfCheckAction(w http.ResponseWriter, r *http.Request, flash string, do func(svc *policy.Service, c policy.SelfCheck) error) error {
	svc, c, err := s.visibleCheck(r)
	if err != nil {
		return err
	}
	if err := do(svc, c); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showSelfCheck(w, r, err)
	}
	return redirect(w, r, idPath("/selfchecks/", c.ID)+"?flash="+flash)
}

// uiSelfCheckRecord records the performance of self-check {id}: when, by whom, the
// result, the number of findings and a summary; its plan stays as it is.
func (s *Server) uiSelfCheckRecord(w http.ResponseWriter, r *http.Request) error {
	return s.uiSelfCheckAction(w, r, "flash.selfcheck.recorded", func(svc *policy.Service, c policy.SelfCheck) error {
		in := policy.CheckInput{Kind: c.Kind, Title: c.Title, PlannedAt: c.PlannedAt, AssetIDs: c.AssetIDs, RecurMonths: c.RecurMonths,
			Performer: r.PostFormValue("performer"), ThirdParty: r.PostFormValue("third_party"), Result: r.PostFormValue("result"),
			Summary: r.PostFormValue("summary")}
		var err error
		if in.PerformedAt, err = formDate(r, "performed_at"); err != nil {
			return err
		}
		if in.Findings, err = formInt(r, "findings"); err != nil {
			return err
		}
		_, err = svc.SaveCheck(r.Context(), reqActor(r), c.ID, in)
		return err
	})
}

func (s *Server) uiSelfCheckAttach(w http.ResponseWriter, r *http.Request) error {
	return s.uiSelfCheckAction(w, r, "flash.selfcheck.report", func(svc *policy.Service, c policy.SelfCheck) error {
		data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", maxPolicyUpload)
		if err != nil {
			return err
		}
		_, err = svc.AttachReport(r.Context(), reqActor(r), c.ID, name, bytes.NewReader(data))
		return err
	})
}

// uiSelfCheckReport serves the report of self-check {id} as a download.
func (s *Server) uiSelfCheckReport(w http.ResponseWriter, r *http.Request) error {
	svc, c, err := s.visibleCheck(r)
	if err != nil {
		return err
	}
	f, err := svc.Report(r.Context(), reqActor(r), c.ID)
	if err != nil {
		return err
	}
	return download(w, f)
}
