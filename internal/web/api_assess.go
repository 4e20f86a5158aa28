package web

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
)

// maxAssessUpload is the largest evidence file of an assessment item.
const maxAssessUpload = 20 << 20

// Request bodies of the assessment API that are not domain inputs.
type (
	// assessStatusRequest is the body of POST …/assessments/{id}/status.
	assessStatusRequest struct {
		Item   string `json:"item"`
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	// assessLinkRequest is the body of POST …/assessments/{id}/links.
	assessLinkRequest struct {
		Item string `json:"item"`
		assess.LinkInput
	}
	// assessRiskRequest is the body of POST …/assessments/{id}/risks.
	assessRiskRequest struct {
		Item  string `json:"item"`
		Owner string `json:"owner"`
	}
	// assessRiskResponse answers POST …/assessments/{id}/risks.
	assessRiskResponse struct {
		risk.Risk
		Created bool `json:"created"`
	}
	// assessListResponse answers GET /api/v1/compliance/assessments.
	assessListResponse struct {
		Items []assess.Assessment `json:"items"`
	}
)

func (s *Server) assessments() (*assess.Service, error) {
	if s.Assess == nil {
		return nil, problem.NotFound("assessments")
	}
	return s.Assess, nil
}

// visibleAssessment reads assessment {id} as the caller sees it.
func (s *Server) visibleAssessment(r *http.Request) (*assess.Service, assess.Assessment, error) {
	svc, err := s.assessments()
	if err != nil {
		return nil, assess.Assessment{}, err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return nil, assess.Assessment{}, err
	}
	x, err := svc.Assessment(r.Context(), reqActor(r), id)
	return svc, x, err
}

func (s *Server) apiAssessList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	list, err := svc.Assessments(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, assessListResponse{Items: list})
}

func (s *Server) apiAssessCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	var in assess.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	x, err := svc.Create(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/compliance/assessments/", x.ID), x)
}

func (s *Server) apiAssessGet(w http.ResponseWriter, r *http.Request) error {
	_, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, x)
}

func (s *Server) apiAssessStatus(w http.ResponseWriter, r *http.Request) error {
	svc, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	var in assessStatusRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	it, err := svc.SetStatus(r.Context(), reqActor(r), x.ID, in.Item, assess.StatusInput{Status: in.Status, Note: in.Note})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}

func (s *Server) apiAssessLink(w http.ResponseWriter, r *http.Request) error {
	svc, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	var in assessLinkRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := svc.AddLink(r.Context(), reqActor(r), x.ID, in.Item, in.LinkInput)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, e)
}

// expiryField reads an optional expiry date (YYYY-MM-DD, the end of that day in UTC).
func expiryField(v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, problem.NotDate("expires_on")
	}
	d = d.Add(24*time.Hour - time.Second)
	return &d, nil
}

// addAssessFile stores the uploaded file (multipart field "file") as evidence of the
// item named by the field "item", valid until "expires_on".
func (s *Server) addAssessFile(w http.ResponseWriter, r *http.Request, svc *assess.Service, id int64) (assess.Evidence, error) {
	if !isMultipart(r) {
		return assess.Evidence{}, problem.Invalid("file", "send the file as multipart/form-data").WithMsg("assess.error.multipart")
	}
	data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", maxAssessUpload)
	if err != nil {
		return assess.Evidence{}, err
	}
	exp, err := expiryField(r.PostFormValue("expires_on"))
	if err != nil {
		return assess.Evidence{}, err
	}
	return svc.AddFile(r.Context(), reqActor(r), id, r.PostFormValue("item"), name, exp, bytes.NewReader(data))
}

// apiAssessFile answers POST …/assessments/{id}/files: an evidence file checked by its
// content and hashed.
func (s *Server) apiAssessFile(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := svc.Assessment(r.Context(), reqActor(r), id); err != nil { // before reading a stranger's upload
		return err
	}
	e, err := s.addAssessFile(w, r, svc, id)
	if err != nil {
		return err
	}
	return created(w, "/api/v1/compliance/assessments/"+strconv.FormatInt(id, 10)+"/files/"+strconv.FormatInt(e.ID, 10), e)
}

// apiAssessDownload answers GET …/assessments/{id}/files/{evidence}: the evidence file
// as a download, never rendered by the browser.
func (s *Server) apiAssessDownload(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	eid, err := pathInt(r, "evidence")
	if err != nil {
		return err
	}
	e, err := svc.EvidenceFile(r.Context(), reqActor(r), id, eid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", e.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(e.Content)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(e.Content)
	return err
}

func (s *Server) apiAssessRecheck(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.assessments()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	x, err := svc.Recheck(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, x)
}

// gapToRisk raises a risk from a gap of assessment id in lang.
func (s *Server) gapToRisk(r *http.Request, id int64, item, owner, lang string) (risk.Risk, bool, error) {
	svc, err := s.assessments()
	if err != nil {
		return risk.Risk{}, false, err
	}
	if s.AssessRisks == nil {
		return risk.Risk{}, false, problem.NotFound("risk register")
	}
	return svc.GapToRisk(r.Context(), reqActor(r), s.AssessRisks, id, item, assess.GapInput{Owner: owner, Lang: lang})
}

// apiAssessRisk answers POST …/assessments/{id}/risks: a risk raised from a gap (201),
// or the open risk already linked to it (200); written in the caller's language.
func (s *Server) apiAssessRisk(w http.ResponseWriter, r *http.Request) error {
	_, x, err := s.visibleAssessment(r)
	if err != nil {
		return err
	}
	var in assessRiskRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := s.newPage(r, nil, "", "")
	rk, isNew, err := s.gapToRisk(r, x.ID, in.Item, in.Owner, p.Lang)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if isNew {
		code = http.StatusCreated
	}
	return writeJSON(w, code, assessRiskResponse{Risk: rk, Created: isNew})
}

func init() {
	const tag = "compliance"
	apiDocs["GET /api/v1/compliance/assessments"] = apiOp{Summary: "The compliance assessments the caller sees, newest first, " +
		"with their counts by status and the share of applicable items met", Tag: tag, Response: assessListResponse{}, Status: 200}
	apiDocs["POST /api/v1/compliance/assessments"] = apiOp{Summary: "Start an assessment of a hospital (org_id, default the caller's) " +
		"or of one of its business systems (asset_id) against a catalogue: every item starts unassessed", Tag: tag,
		Request: assess.Input{}, Response: assess.Assessment{}, Status: 201}
	apiDocs["GET /api/v1/compliance/assessments/{id}"] = apiOp{Summary: "An assessment with its items in catalogue order: status, note, " +
		"assessor, history and evidence (files, links, automatic check results; expired evidence is marked)", Tag: tag,
		Response: assess.Assessment{}, Status: 200}
	apiDocs["POST /api/v1/compliance/assessments/{id}/status"] = apiOp{Summary: "Set an item's status (met, partly, not_met, " +
		"not_applicable, unassessed) with a note; kept in its history and the progress", Tag: tag, Request: assessStatusRequest{},
		Response: assess.ItemStatus{}, Status: 200}
	apiDocs["POST /api/v1/compliance/assessments/{id}/links"] = apiOp{Summary: "Link a record of the hospital (risk, incident, " +
		"dlp_scan, delivery, finding, alert, app, plan, trail) as evidence of an item, until expires_at (default a year)", Tag: tag,
		Request: assessLinkRequest{}, Response: assess.Evidence{}, Status: 201}
	apiDocs["POST /api/v1/compliance/assessments/{id}/files"] = apiOp{Summary: "Upload an evidence file of an item (multipart: file, " +
		"item, expires_on YYYY-MM-DD; at most 20 MiB): its type is checked by content — HTML, scripts, SVG, executables, macros and " +
		"names that disagree with the content are refused — and its SHA-256 kept", Tag: tag, Parts: []string{"file", "item", "expires_on"},
		Response: assess.Evidence{}, Status: 201}
	apiDocs["GET /api/v1/compliance/assessments/{id}/files/{evidence}"] = apiOp{Summary: "Download an evidence file (always as an " +
		"attachment, with its checked content type and nosniff)", Tag: tag, Status: 200, Produces: "application/octet-stream"}
	apiDocs["POST /api/v1/compliance/assessments/{id}/recheck"] = apiOp{Summary: "Run the automatic checks of the assessment's items " +
		"now; each result is stored as evidence of the items that list the check, with an expiry", Tag: tag,
		Response: assess.Assessment{}, Status: 200}
	apiDocs["POST /api/v1/compliance/assessments/{id}/risks"] = apiOp{Summary: "Raise a risk from a gap (an item not met or partly " +
		"met) in the risk register, with its treatment tasks, in the caller's language; 200 when the open risk already linked to it " +
		"is updated", Tag: tag, Request: assessRiskRequest{}, Response: assessRiskResponse{}, Status: 201}
}
