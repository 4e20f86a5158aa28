package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/trail"
)

// The case pages: the list with its overdue filter, and one case with its workflow,
// assignee, comments, grouped alerts and timeline (package alert).

const casesPerPage = 50

// caseListData is what cases.html shows.
type caseListData struct {
	pager
	Cases    []alert.Case
	Status   string
	Overdue  bool
	Mine     bool
	Statuses []string
	Now      time.Time
}

func (s *Server) uiCaseList(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.alertPage(r, w, "alert.cases.title", "cases")
	d := caseListData{pager: newPager(1, casesPerPage, 0), Statuses: append([]string{alert.StatusOpen}, alert.Statuses...),
		Now: time.Now(), Status: r.URL.Query().Get("status")}
	err := func() error {
		var err error
		if d.Overdue, err = queryBool(r, "overdue"); err != nil {
			return err
		}
		if d.Mine, err = queryBool(r, "mine"); err != nil {
			return err
		}
		page, err := queryInt(r, "page", 1)
		if err != nil {
			return err
		}
		page = max(page, 1)
		q := alert.CaseQuery{Status: d.Status, Overdue: d.Overdue, Limit: casesPerPage, Offset: (page - 1) * casesPerPage}
		if d.Mine {
			q.Assignee = principalFrom(ctx).User.Username
		}
		cs, total, err := s.Alerts.Cases(ctx, a, q)
		if err != nil {
			return err
		}
		d.Cases, d.pager = cs, newPager(page, casesPerPage, total)
		return nil
	}()
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "cases.html", p)
}

// timelineItem is one step of a case's history: a trail entry of the case, or a comment.
type timelineItem struct {
	At     time.Time
	Actor  string
	Action string // case_create, case_add, case_status, case_assign, comment
	Text   string // the trail entry's summary in the page's language
	Body   string // a comment's text
}

// caseShowData is what case.html shows.
type caseShowData struct {
	Case       alert.CaseDetail
	Next       []string
	Resolution []string
	Timeline   []timelineItem
	Now        time.Time
}

func (s *Server) uiCaseShow(w http.ResponseWriter, r *http.Request) error {
	return s.showCase(w, r, nil)
}

// showCase renders the case of the address, with failed (the error of an action on it)
// at the top when it is a problem for the reader.
func (s *Server) showCase(w http.ResponseWriter, r *http.Request, failed error) error {
	ctx, a := r.Context(), reqActor(r)
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Alerts.Case(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.alertPage(r, w, "alert.case.title", "cases")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := caseShowData{Case: c, Next: alert.Next(c.Status), Resolution: alert.Resolutions, Now: time.Now()}
	entries, err := trail.List(ctx, s.DB, a, trail.Filter{ObjectType: "alert_case", ObjectID: strconv.FormatInt(id, 10), Limit: 500})
	if err != nil {
		return err
	}
	for _, e := range entries {
		act := strings.TrimPrefix(e.Action, "alert.")
		if act == "case_comment" {
			continue // the comment itself is in the timeline, with its text
		}
		d.Timeline = append(d.Timeline, timelineItem{At: e.At, Actor: e.Actor, Action: act, Text: p.Msg(e.Msg, e.Summary)})
	}
	for _, cm := range c.Comments {
		d.Timeline = append(d.Timeline, timelineItem{At: cm.CreatedAt, Actor: cm.Author, Action: "comment", Body: cm.Body})
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	p.Data = d
	return s.render(w, code, "case.html", p)
}

// caseAction runs do on the case of the address, visible to the reader (another
// hospital's case is 404 before the form is read), and returns to the case page with
// flash, or shows the page with the problem.
func (s *Server) caseAction(w http.ResponseWriter, r *http.Request, flash string, do func(id int64) error) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Alerts.Case(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	if err := do(id); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showCase(w, r, err)
	}
	return redirect(w, r, idPath("/cases/", id)+"?flash="+flash)
}

func (s *Server) uiCaseStatus(w http.ResponseWriter, r *http.Request) error {
	return s.caseAction(w, r, "flash.alert.case_saved", func(id int64) error {
		ch, err := formChange(r)
		if err != nil {
			return err
		}
		_, err = s.Alerts.SetCaseStatus(r.Context(), reqActor(r), id, ch)
		return err
	})
}

func (s *Server) uiCaseAssign(w http.ResponseWriter, r *http.Request) error {
	return s.caseAction(w, r, "flash.alert.case_saved", func(id int64) error {
		_, err := s.Alerts.AssignCase(r.Context(), reqActor(r), id, r.PostFormValue("assignee"))
		return err
	})
}

func (s *Server) uiCaseComment(w http.ResponseWriter, r *http.Request) error {
	return s.caseAction(w, r, "flash.alert.comment_added", func(id int64) error {
		_, err := s.Alerts.CommentCase(r.Context(), reqActor(r), id, r.PostFormValue("body"))
		return err
	})
}

// StatusLabel is a workflow status in the page's language.
func (p *page) StatusLabel(status string) string {
	return p.Msg(&i18n.Message{Key: "alert.status." + status}, status)
}
