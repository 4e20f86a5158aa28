package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/supply"
)

// maxComponentRows bounds the components listed on a version's page; the rest are in
// the SBOM download and the API.
const maxComponentRows = 1000

// versionShowData is what supply_version.html shows. Report and Delivery are the
// outcome of an upload just made.
type versionShowData struct {
	Version       supply.Version
	Assets        []asset.Asset
	Picker        assetPicker
	Components    []supply.Component
	MoreComps     int // components not listed
	Findings      []supply.Finding
	FindingsTotal int
	Gates         []supply.Gate
	Results       []supply.GateResult
	Deliveries    []supply.Delivery
	Report        *supply.ImportReport
	Delivery      *supply.Delivery
	Open          string
	Coverage      supply.Coverage // of the stored SBOM, with the database's current content
}

// MissingPURL counts the import report's components without a purl.
func (d versionShowData) MissingPURL() int {
	n := 0
	if d.Report != nil {
		for _, w := range d.Report.Warnings {
			if w.Code == "missing_purl" {
				n++
			}
		}
	}
	return n
}

// showVersion renders version id's page with d (an upload's outcome, the form to
// unfold) and actionErr's message when an action on it failed.
func (s *Server) showVersion(w http.ResponseWriter, r *http.Request, id int64, d versionShowData, actionErr error) error {
	ctx, a := r.Context(), reqActor(r)
	v, err := s.Supply.Version(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.supplyPage(r, w, "supply.version.title", "products")
	code, err := actionError(p, actionErr)
	if err != nil {
		return err
	}
	d.Version = v
	for _, aid := range v.AssetIDs {
		x, err := s.Assets.Get(ctx, a, aid)
		if problem.KindOf(err) == problem.KindNotFound {
			continue // linked by someone who sees more of the tree
		}
		if err != nil {
			return err
		}
		d.Assets = append(d.Assets, x)
	}
	if p.Can("supply.write") {
		if d.Open == "assets" {
			d.Picker.Refs = r.PostFormValue("asset_refs")
		}
		if d.Picker.Options, err = s.assetOptions(ctx, a, v.OrgID, v.AssetIDs); err != nil {
			return err
		}
	}
	comps, err := s.Supply.Components(ctx, a, id)
	if err != nil {
		return err
	}
	if len(comps) > maxComponentRows {
		d.MoreComps = len(comps) - maxComponentRows
		comps = comps[:maxComponentRows]
	}
	d.Components = comps
	pg, err := s.Supply.Findings(ctx, a, supply.FindingQuery{VersionID: id, State: "all", Limit: 500})
	if err != nil {
		return err
	}
	d.Findings, d.FindingsTotal = pg.Items, pg.Total
	if d.Gates, err = s.Supply.Gates(ctx, a, v.OrgID); err != nil {
		return err
	}
	if d.Results, err = s.Supply.GateResults(ctx, a, id); err != nil {
		return err
	}
	if d.Deliveries, err = s.Supply.Deliveries(ctx, a, supply.DeliveryQuery{VersionID: id}); err != nil {
		return err
	}
	if d.Coverage, err = s.Supply.VersionCoverage(ctx, a, id); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "supply_version.html", p)
}

func (s *Server) uiVersionShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var d versionShowData
	if rep, ok := outcomeOf[supply.ImportReport](s, r); ok && rep.VersionID == id {
		d.Report = &rep
	}
	if del, ok := outcomeOf[supply.Delivery](s, r); ok && del.VersionID == id {
		d.Delivery, d.Open = &del, "delivery"
	}
	return s.showVersion(w, r, id, d, nil)
}

func (s *Server) uiVersionAssets(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	ids, err := s.resolveAssets(ctx, a, v.OrgID, r)
	if err == nil {
		if _, err = s.Supply.SetVersionAssets(ctx, a, v.ID, ids); err == nil {
			return redirect(w, r, idPath("/supply/versions/", v.ID)+"?flash=flash.assets_saved")
		}
	}
	return s.showVersion(w, r, v.ID, versionShowData{Open: "assets"}, err)
}

func (s *Server) uiSBOMImport(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	data, name, err := uploadedDocument(w, r, "sbom", "sbom_too_large", "sbom_required", maxSBOMUpload)
	if err == nil {
		var rep supply.ImportReport
		if rep, err = s.Supply.ImportSBOM(r.Context(), reqActor(r), v.ID, name, data); err == nil {
			return redirect(w, r, idPath("/supply/versions/", v.ID)+"?"+s.keepOutcome(r, rep)+"#import-report")
		}
	}
	return s.showVersion(w, r, v.ID, versionShowData{}, err)
}

func (s *Server) uiSBOMDownload(w http.ResponseWriter, r *http.Request) error {
	return s.sbomDownload(w, r)
}

func (s *Server) uiGateEvaluate(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	if _, err = s.Supply.EvaluateGate(r.Context(), reqActor(r), v.ID, r.PostFormValue("gate")); err == nil {
		return redirect(w, r, idPath("/supply/versions/", v.ID)+"?flash=flash.gate_evaluated#gates")
	}
	return s.showVersion(w, r, v.ID, versionShowData{}, err)
}

func (s *Server) uiDeliveryVerify(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	in, err := deliveryUpload(w, r, v.ID)
	if err == nil {
		var del supply.Delivery
		if del, err = s.Supply.VerifyDelivery(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, idPath("/supply/versions/", v.ID)+"?"+s.keepOutcome(r, del)+"#delivery-result")
		}
	}
	return s.showVersion(w, r, v.ID, versionShowData{Open: "delivery"}, err)
}

// findingsPerPage is the page size of the findings list.
const findingsPerPage = 50

// findingListData is what supply_findings.html shows.
type findingListData struct {
	Items      []supply.Finding
	Total      int
	Page       int
	Pages      int
	Query      supply.FindingQuery
	Products   []supply.Product
	Vendors    []supply.Vendor
	Severities []string
	States     []string
	// Unknown counts the findings the same filters match with severity unknown, when the
	// list is filtered by another severity: a filter by "critical" does not silently
	// hide findings nobody has rated.
	Unknown int
}

func (s *Server) uiFindingList(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.supplyPage(r, w, "supply.findings.title", "findings")
	d := findingListData{Page: 1, Pages: 1, Severities: supply.Severities,
		States: []string{supply.StateOpen, supply.StateAccepted, supply.StateFalsePositive, supply.StateFixed, "all"}}
	code := http.StatusOK
	err := func() error {
		q, err := findingQuery(r)
		if err != nil {
			return err
		}
		if d.Page, err = queryInt(r, "page", 1); err != nil {
			return err
		}
		d.Page = max(d.Page, 1)
		q.Limit, q.Offset = findingsPerPage, (d.Page-1)*findingsPerPage
		d.Query = q
		pg, err := s.Supply.Findings(ctx, a, q)
		if err != nil {
			return err
		}
		d.Items, d.Total = pg.Items, pg.Total
		d.Pages = max(1, (pg.Total+findingsPerPage-1)/findingsPerPage)
		if q.Severity != "" && q.Severity != "unknown" {
			uq := q
			uq.Severity, uq.Limit, uq.Offset = "unknown", 1, 0
			up, err := s.Supply.Findings(ctx, a, uq)
			if err != nil {
				return err
			}
			d.Unknown = up.Total
		}
		return nil
	}()
	// A bad filter shows the page with the message rather than an error page.
	if code, err = actionError(p, err); err != nil {
		return err
	}
	if d.Products, err = s.Supply.Products(ctx, a, supply.ProductQuery{}); err != nil {
		return err
	}
	if d.Vendors, err = s.Supply.Vendors(ctx, a); err != nil {
		return err
	}
	p.Data = d
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		return s.renderFragment(w, code, "supply_findings.html", "findings_table", p)
	}
	return s.render(w, code, "supply_findings.html", p)
}

// findingShowData is what supply_finding.html shows.
type findingShowData struct {
	Finding supply.Finding
	Form    decisionRequest // the decision form
}

// showFinding renders finding id with its decision form (form, when set, is what a
// refused submission held).
func (s *Server) showFinding(w http.ResponseWriter, r *http.Request, id int64, form *decisionRequest, actionErr error) error {
	f, err := s.Supply.Finding(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	p := s.supplyPage(r, w, "supply.finding.title", "findings")
	code, err := actionError(p, actionErr)
	if err != nil {
		return err
	}
	d := findingShowData{Finding: f}
	if form != nil {
		d.Form = *form
	} else {
		d.Form = decisionRequest{State: supply.StateAccepted, Reason: f.Reason,
			ExpiresAt: time.Now().AddDate(0, 0, 90).Format("2006-01-02")}
		if f.ExpiresAt != nil {
			d.Form.ExpiresAt = f.ExpiresAt.Local().Format("2006-01-02")
		}
	}
	p.Data = d
	return s.render(w, code, "supply_finding.html", p)
}

func (s *Server) uiFindingShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.showFinding(w, r, id, nil, nil)
}

func (s *Server) uiFindingDecide(w http.ResponseWriter, r *http.Request) error {
	f, err := s.visibleFinding(r)
	if err != nil {
		return err
	}
	in := decisionRequest{State: r.PostFormValue("state"), Reason: r.PostFormValue("reason"), ExpiresAt: r.PostFormValue("expires_at")}
	if in.State != supply.StateAccepted {
		in.ExpiresAt = "" // the date field stays filled in whatever the choice
	}
	d, err := in.decision()
	if err == nil {
		if _, err = s.Supply.Decide(r.Context(), reqActor(r), f.ID, d); err == nil {
			return redirect(w, r, idPath("/supply/findings/", f.ID)+"?flash=flash.decision_saved")
		}
	}
	return s.showFinding(w, r, f.ID, &in, err)
}

func (s *Server) uiVulnShow(w http.ResponseWriter, r *http.Request) error {
	d, err := s.vulnDetail(r.Context(), reqActor(r), r.PathValue("vuln"))
	if err != nil {
		return err
	}
	p := s.supplyPage(r, w, "supply.vuln.title", "findings")
	p.Data = d
	return s.render(w, http.StatusOK, "supply_vuln.html", p)
}

// alertView is an alert with its detail decoded for the page: what an advisory hits, or
// why a delivery failed.
type alertView struct {
	supply.Alert
	Products    []supply.AlertProduct
	Assets      []supply.AlertAsset
	Vendors     []string
	Packages    []string
	Problems    []string
	ProblemMsgs []i18n.Message
	DeliveryID  int64
}

// viewAlert decodes an alert's detail for the page.
func viewAlert(al supply.Alert) alertView {
	v := alertView{Alert: al}
	var det struct {
		Products    []supply.AlertProduct `json:"products"`
		Assets      []supply.AlertAsset   `json:"assets"`
		Vendors     []string              `json:"vendors"`
		Packages    []string              `json:"packages"`
		Problems    []string              `json:"problems"`
		ProblemMsgs []i18n.Message        `json:"problem_msgs"`
		DeliveryID  int64                 `json:"delivery_id"`
	}
	// The detail is written by the supply package; anything unreadable shows as no detail.
	if json.Unmarshal(al.Detail, &det) == nil {
		v.Products, v.Assets, v.Vendors, v.Packages = det.Products, det.Assets, det.Vendors, det.Packages
		v.Problems, v.ProblemMsgs, v.DeliveryID = det.Problems, det.ProblemMsgs, det.DeliveryID
	}
	return v
}

// alertListData is what supply_alerts.html shows.
type alertListData struct {
	Alerts []alertView
	Open   bool
}

func (s *Server) uiAlertList(w http.ResponseWriter, r *http.Request) error {
	p := s.supplyPage(r, w, "supply.alerts.title", "alerts")
	open, err := queryBool(r, "open")
	if err != nil {
		return err
	}
	as, err := s.Supply.Alerts(r.Context(), reqActor(r), open, 200)
	if err != nil {
		return err
	}
	d := alertListData{Open: open}
	for _, al := range as {
		d.Alerts = append(d.Alerts, viewAlert(al))
	}
	p.Data = d
	return s.render(w, http.StatusOK, "supply_alerts.html", p)
}

func (s *Server) uiAlertAck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Supply.Acknowledge(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/supply/alerts?flash=flash.alert_acknowledged#alert-"+strconv.FormatInt(id, 10))
}
