package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
)

// complianceData is the compliance hub: the assessments with their progress, and what
// the form to start one needs.
type complianceData struct {
	Assessments []assess.Assessment
	Catalogues  []string
	Systems     []asset.Asset // business systems the reader sees
	Statuses    []string
	Form        assess.Input
}

func (s *Server) uiCompliance(w http.ResponseWriter, r *http.Request) error {
	return s.showCompliance(w, r, nil, assess.Input{})
}

// showCompliance renders the hub with failed (the problem of the create form) at the
// top and the form as it was sent.
func (s *Server) showCompliance(w http.ResponseWriter, r *http.Request, failed error, form assess.Input) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "assess.hub.title", "compliance")
	p.Sub = "assess"
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := complianceData{Catalogues: svc.Catalogues().Names(), Statuses: assess.Statuses, Form: form}
	if d.Assessments, err = svc.Assessments(r.Context(), reqActor(r)); err != nil {
		return err
	}
	if s.Assets != nil {
		pg, err := s.Assets.List(r.Context(), reqActor(r), asset.Query{Kind: asset.KindBusinessSystem, PerPage: 500})
		if err != nil {
			return err
		}
		d.Systems = pg.Items
	}
	p.Data = d
	return s.render(w, code, "compliance.html", p)
}

func (s *Server) uiAssessCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	in := assess.Input{Catalogue: r.PostFormValue("catalogue"), Title: r.PostFormValue("title"),
		Assessor: r.PostFormValue("assessor"), OrgID: principalFrom(r.Context()).User.OrgID}
	var newID int64
	err = func() error {
		if v := strings.TrimSpace(r.PostFormValue("asset_id")); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 0 {
				return problem.Invalid("asset_id", "is not an asset").WithMsg("assess.error.asset")
			}
			in.AssetID = id
		}
		if v := strings.TrimSpace(r.PostFormValue("due_on")); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return problem.NotDate("due_on")
			}
			in.DueOn = &d
		}
		x, err := svc.Create(r.Context(), reqActor(r), in)
		if err != nil {
			return err
		}
		newID = x.ID
		return nil
	}()
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showCompliance(w, r, err, in)
	}
	return redirect(w, r, idPath("/compliance/assessments/", newID)+"?flash=flash.assess.created")
}

// assessGroup is a control point of the catalogue with its items, under its category.
type assessGroup struct {
	Category assess.Heading
	Point    assess.Heading
	Items    []assess.ItemStatus
}

// assessShowData is one assessment's page.
type assessShowData struct {
	Assessment assess.Assessment
	Groups     []assessGroup
	Statuses   []string
	Modules    []string
	CanRisk    bool
	Trend      []assess.Point // one point a week
}

func (s *Server) uiAssessShow(w http.ResponseWriter, r *http.Request) error {
	return s.showAssessment(w, r, nil)
}

// uiAssessItem answers GET /compliance/items/{id}, the page of an assessment item as the
// risk register names it (a risk raised from a gap links back here): its assessment's
// page, at the item.
func (s *Server) uiAssessItem(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	g, err := svc.Gap(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/compliance/assessments/"+strconv.FormatInt(g.AssessmentID, 10)+"#item-"+itemAnchor(g.Item), http.StatusSeeOther)
	return nil
}

// showAssessment renders assessment {id}, items grouped by the catalogue's tree, with
// failed (the problem of an action on it) at the top.
func (s *Server) showAssessment(w http.ResponseWriter, r *http.Request, failed error) error {
	svc, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	trend, err := svc.Trend(r.Context(), reqActor(r), x.ID)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "assess.show.title", "compliance")
	p.Sub = "assess"
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	p.Data = assessShowData{Assessment: x, Groups: groupItems(x.Items), Statuses: assess.Statuses, Modules: assess.LinkModules,
		CanRisk: s.AssessRisks != nil, Trend: trend}
	return s.render(w, code, "assessment.html", p)
}

// groupItems groups items, in their order, by their nearest parent (a control point)
// under their top parent (a category).
func groupItems(items []assess.ItemStatus) []assessGroup {
	var out []assessGroup
	for _, it := range items {
		var cat, point assess.Heading
		if n := len(it.Parents); n > 0 {
			cat, point = it.Parents[0], it.Parents[n-1]
		}
		if len(out) == 0 || out[len(out)-1].Point.ID != point.ID || out[len(out)-1].Category.ID != cat.ID {
			out = append(out, assessGroup{Category: cat, Point: point})
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, it)
	}
	return out
}

// uiAssessAction runs do on assessment {id}, which the reader must see, and returns to
// it with flash (at the item's anchor), or shows it with the problem.
func (s *Server) uiAssessAction(w http.ResponseWriter, r *http.Request, flash string, do func(svc *assess.Service, id int64) error) error {
	svc, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	if err := do(svc, x.ID); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showAssessment(w, r, err)
	}
	target := idPath("/compliance/assessments/", x.ID) + "?flash=" + flash
	if item := r.PostFormValue("item"); item != "" {
		target += "#item-" + itemAnchor(item)
	}
	return redirect(w, r, target)
}

// itemAnchor is an item id as an HTML id (dots are fine, anything else is dropped).
func itemAnchor(id string) string {
	return strings.Map(func(c rune) rune {
		if c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			return c
		}
		return -1
	}, id)
}

func (s *Server) uiAssessStatus(w http.ResponseWriter, r *http.Request) error {
	return s.uiAssessAction(w, r, "flash.assess.status", func(svc *assess.Service, id int64) error {
		_, err := svc.SetStatus(r.Context(), reqActor(r), id, r.PostFormValue("item"),
			assess.StatusInput{Status: r.PostFormValue("status"), Note: r.PostFormValue("note")})
		return err
	})
}

func (s *Server) uiAssessLink(w http.ResponseWriter, r *http.Request) error {
	return s.uiAssessAction(w, r, "flash.assess.evidence", func(svc *assess.Service, id int64) error {
		rid, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("record_id")), 10, 64)
		if err != nil || rid <= 0 {
			return problem.Invalid("record_id", "is not a record id").WithMsg("assess.error.record")
		}
		exp, err := expiryField(r.PostFormValue("expires_on"))
		if err != nil {
			return err
		}
		_, err = svc.AddLink(r.Context(), reqActor(r), id, r.PostFormValue("item"),
			assess.LinkInput{Module: r.PostFormValue("module"), ID: rid, ExpiresAt: exp})
		return err
	})
}

func (s *Server) uiAssessFile(w http.ResponseWriter, r *http.Request) error {
	return s.uiAssessAction(w, r, "flash.assess.evidence", func(svc *assess.Service, id int64) error {
		_, err := s.addAssessFile(w, r, svc, id)
		return err
	})
}

func (s *Server) uiAssessRecheck(w http.ResponseWriter, r *http.Request) error {
	return s.uiAssessAction(w, r, "flash.assess.rechecked", func(svc *assess.Service, id int64) error {
		_, err := svc.Recheck(r.Context(), reqActor(r), id)
		return err
	})
}

// uiAssessRisk raises a risk from a gap and opens it.
func (s *Server) uiAssessRisk(w http.ResponseWriter, r *http.Request) error {
	_, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, nil, "", "")
	rk, isNew, err := s.gapToRisk(r, x.ID, r.PostFormValue("item"), "", p.Lang)
	if err != nil {
		if _, ok := problem.As(err); !ok || problem.KindOf(err) == problem.KindNotFound {
			return err
		}
		return s.showAssessment(w, r, err)
	}
	flash := "flash.risk.updated_from_source"
	if isNew {
		flash = "flash.risk.from_source"
	}
	return redirect(w, r, idPath("/risks/", rk.ID)+"?flash="+flash)
}

// Localized is a catalogue text (by language) in the page's language.
func (p *page) Localized(m map[string]string) string { return assess.In(m, p.Lang) }

// ItemAnchor is an item id as an HTML id.
func (p *page) ItemAnchor(id string) string { return itemAnchor(id) }

// EvidenceLink is the page of a record linked as evidence ("" when it has none).
func (p *page) EvidenceLink(module string, id int64) string {
	n := strconv.FormatInt(id, 10)
	switch module {
	case "risk":
		return "/risks/" + n
	case "incident":
		return "/incidents/" + n
	case "dlp_scan":
		return "/dlp/scans/" + n
	case "finding":
		return "/supply/findings/" + n
	case "alert":
		return "/alerts/" + n
	case "app":
		return "/apps/" + n
	case "plan":
		return "/plans/" + n
	}
	return ""
}

// AssessCount is the count of items of status in c.
func (p *page) AssessCount(c assess.Counts, status string) int {
	switch status {
	case assess.StatusMet:
		return c.Met
	case assess.StatusPartly:
		return c.Partly
	case assess.StatusNotMet:
		return c.NotMet
	case assess.StatusNotApplicable:
		return c.NotApplicable
	}
	return c.Unassessed
}

// AssessClass is the badge class of an item's status or a check's outcome.
func (p *page) AssessClass(v string) string {
	switch v {
	case assess.StatusMet, "pass":
		return "ok"
	case assess.StatusPartly, "unavailable":
		return "warn"
	case assess.StatusNotMet, "fail":
		return "bad"
	}
	return ""
}
