package web

import (
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// The silences page: active, expired and unused silences, a form to add one and a
// button to expire one (package alert).

const silencesPerPage = 50

// silenceForm is the new-silence form as the reader filled it in.
type silenceForm struct {
	OrgID                           int64
	Source, Kind, Severity, Subject string
	Reason, ExpiresAt               string
}

// silenceListData is what silences.html shows.
type silenceListData struct {
	pager
	Silences   []alert.Silence
	Show       string // active, expired, unused or all
	Form       silenceForm
	Orgs       []org.Node
	Severities []string
	Sources    []string
	Now        time.Time
}

func (s *Server) uiSilenceList(w http.ResponseWriter, r *http.Request) error {
	return s.showSilences(w, r, silenceForm{}, nil)
}

func (s *Server) showSilences(w http.ResponseWriter, r *http.Request, form silenceForm, failed error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.alertPage(r, w, "alert.silences.title", "silences")
	if form.OrgID == 0 {
		form.OrgID = principalFrom(ctx).User.OrgID
	}
	if form.ExpiresAt == "" {
		form.ExpiresAt = time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	}
	d := silenceListData{pager: newPager(1, silencesPerPage, 0), Show: r.URL.Query().Get("show"), Form: form,
		Severities: alert.Severities, Sources: []string{"supply", "dlp"}, Now: time.Now()}
	err := func() error {
		q := alert.SilenceQuery{}
		switch d.Show {
		case "", "active":
			d.Show, q.Active = "active", true
		case "expired":
			q.Expired = true
		case "unused":
			q.Unused = true
		case "all":
		default:
			return problem.OneOf("show", "active", "expired", "unused", "all")
		}
		page, err := queryInt(r, "page", 1)
		if err != nil {
			return err
		}
		page = max(page, 1)
		q.Limit, q.Offset = silencesPerPage, (page-1)*silencesPerPage
		ss, total, err := s.Alerts.Silences(ctx, a, q)
		if err != nil {
			return err
		}
		d.Silences, d.pager = ss, newPager(page, silencesPerPage, total)
		return nil
	}()
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	if failed != nil {
		if code, err = actionError(p, failed); err != nil {
			return err
		}
	}
	if d.Orgs, err = s.Orgs.List(ctx, a); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "silences.html", p)
}

func (s *Server) uiSilenceCreate(w http.ResponseWriter, r *http.Request) error {
	f := silenceForm{Source: r.PostFormValue("source"), Kind: r.PostFormValue("kind"), Severity: r.PostFormValue("severity"),
		Subject: r.PostFormValue("subject"), Reason: r.PostFormValue("reason"), ExpiresAt: r.PostFormValue("expires_at")}
	err := func() error {
		var err error
		if f.OrgID, err = formID(r, "org_id"); err != nil {
			return err
		}
		if f.OrgID == 0 {
			f.OrgID = principalFrom(r.Context()).User.OrgID
		}
		exp, err := parseExpiry(f.ExpiresAt)
		if err != nil {
			return err
		}
		in := alert.SilenceInput{OrgID: f.OrgID, Source: f.Source, Kind: f.Kind, Severity: f.Severity, Subject: f.Subject,
			Reason: f.Reason}
		if exp != nil {
			in.ExpiresAt = *exp
		}
		_, err = s.Alerts.CreateSilence(r.Context(), reqActor(r), in)
		return err
	}()
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showSilences(w, r, f, err)
	}
	return redirect(w, r, "/silences?flash=flash.alert.silence_created")
}

func (s *Server) uiSilenceExpire(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Alerts.ExpireSilence(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/silences?show=expired&flash=flash.alert.silence_expired")
}
