package web

import (
	"net/http"
	"strings"
	"time"

	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// maxDLPUpload bounds a file sent to be scanned or checked.
const maxDLPUpload = 64 << 20

// Request bodies of the patient-data detection API.
type (
	// dlpTextRequest is a text to scan; org_id defaults to the caller's organisation.
	dlpTextRequest struct {
		OrgID int64  `json:"org_id"`
		Name  string `json:"name"`
		Text  string `json:"text"`
	}
	// dlpJobRequest starts a scan job over a server path under a scan root.
	dlpJobRequest struct {
		OrgID int64  `json:"org_id"`
		Path  string `json:"path"`
	}
)

// Responses of the patient-data detection API.
type (
	dlpScanResponse struct {
		Scan          dlpsvc.Scan      `json:"scan"`
		Files         []dlpsvc.File    `json:"files"`
		FilesTotal    int              `json:"files_total"`
		Findings      []dlpsvc.Finding `json:"findings"`
		FindingsTotal int              `json:"findings_total"`
	}
	dlpFindingsResponse = listResponse[dlpsvc.Finding]
)

// orgOr returns id, or the caller's organisation when it is 0.
func orgOr(r *http.Request, id int64) int64 {
	if id != 0 {
		return id
	}
	return principalFrom(r.Context()).User.OrgID
}

// dlpUpload reads what a file scan or check names: the organisation (?org_id=, default
// the caller's) and the file, the multipart field "file" or the raw body named by the
// "name" query parameter.
func dlpUpload(w http.ResponseWriter, r *http.Request) (org int64, data []byte, name string, err error) {
	if org, err = orgParam(r); err != nil {
		return 0, nil, "", err
	}
	data, name, err = uploadedDocument(w, r, "file", "dlp_too_large", "dlp_file_required", maxDLPUpload)
	if err != nil {
		return 0, nil, "", err
	}
	if name == "" {
		name = strings.TrimSpace(r.URL.Query().Get("name"))
	}
	return org, data, name, nil
}

func (s *Server) apiDLPScanText(w http.ResponseWriter, r *http.Request) error {
	var in dlpTextRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.DLP.ScanText(r.Context(), reqActor(r), orgOr(r, in.OrgID), in.Name, in.Text)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/dlp/scans/", res.Scan.ID), res)
}

func (s *Server) apiDLPScanFile(w http.ResponseWriter, r *http.Request) error {
	org, data, name, err := dlpUpload(w, r)
	if err != nil {
		return err
	}
	res, err := s.DLP.ScanUpload(r.Context(), reqActor(r), org, name, data)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/dlp/scans/", res.Scan.ID), res)
}

// apiDLPCheck is the pre-send check a mail or file-transfer gateway calls: it answers
// allow, alert or block for an outgoing file, with the verdict and masked findings.
func (s *Server) apiDLPCheck(w http.ResponseWriter, r *http.Request) error {
	org, data, name, err := dlpUpload(w, r)
	if err != nil {
		return err
	}
	res, err := s.DLP.Check(r.Context(), reqActor(r), org, name, data)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// dlpFindingPaging is the page size of a scan's findings.
var dlpFindingPaging = paging.Spec{Default: 100, Max: 1000}

// scanQuery reads the filters of the scan history.
func scanQuery(r *http.Request) (dlpsvc.ScanQuery, error) {
	v := r.URL.Query()
	q := dlpsvc.ScanQuery{Kind: v.Get("kind"), Status: v.Get("status"), Decision: v.Get("decision")}
	p, err := pageParams(r, paging.Standard)
	q.Limit, q.Offset = p.Limit, p.Offset
	return q, err
}

func (s *Server) apiDLPScanList(w http.ResponseWriter, r *http.Request) error {
	return s.writeScanList(w, r, "")
}

// apiDLPJobList is the scan list of directory jobs.
func (s *Server) apiDLPJobList(w http.ResponseWriter, r *http.Request) error {
	return s.writeScanList(w, r, dlpsvc.KindJob)
}

// writeScanList answers with the scans the filters of r select, of kind when not empty.
func (s *Server) writeScanList(w http.ResponseWriter, r *http.Request, kind string) error {
	d, err := s.scanList(r, kind)
	if err != nil {
		return err
	}
	q := d.Query
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, paging.Params{Limit: q.Limit, Offset: q.Offset}, d.Scans, d.Total))
}

func (s *Server) apiDLPJobStart(w http.ResponseWriter, r *http.Request) error {
	var in dlpJobRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sc, err := s.DLP.StartJob(r.Context(), reqActor(r), orgOr(r, in.OrgID), in.Path)
	if err != nil {
		return err
	}
	w.Header().Set("Location", idPath("/api/v1/dlp/jobs/", sc.ID))
	return writeJSON(w, http.StatusAccepted, sc)
}

// scanDetail loads scan id with a page of its files and findings (query file_id, type,
// limit, offset select the findings).
func (s *Server) scanDetail(r *http.Request, id int64) (dlpScanResponse, error) {
	ctx, a := r.Context(), reqActor(r)
	var out dlpScanResponse
	var err error
	if out.Scan, err = s.DLP.Scan(ctx, a, id); err != nil {
		return out, err
	}
	if out.Files, out.FilesTotal, err = s.DLP.Files(ctx, a, id, 1000, 0); err != nil {
		return out, err
	}
	fq := dlpsvc.FindingQuery{ScanID: id, Type: r.URL.Query().Get("type")}
	if fq.FileID, err = queryID(r, "file_id"); err != nil {
		return out, err
	}
	p, err := pageParams(r, dlpFindingPaging)
	if err != nil {
		return out, err
	}
	fq.Limit, fq.Offset = p.Limit, p.Offset
	out.Findings, out.FindingsTotal, err = s.DLP.Findings(ctx, a, fq)
	return out, err
}

func (s *Server) apiDLPScanGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := s.scanDetail(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiDLPJobGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := s.scanDetail(r, id)
	if err != nil {
		return err
	}
	if out.Scan.Kind != dlpsvc.KindJob {
		return problem.NotFound("job")
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiDLPFindingList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := s.scanDetail(r, id)
	if err != nil {
		return err
	}
	p, err := pageParams(r, dlpFindingPaging)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, out.Findings, out.FindingsTotal))
}

// revealRequest is the body of a reveal: why the raw value is needed (required, at most
// dlpsvc.MaxRevealReason characters; kept in the trail).
type revealRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) apiDLPReveal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in revealRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	v, err := s.DLP.Reveal(r.Context(), reqActor(r), id, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiDLPPolicyGet(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	p, err := s.DLP.Policy(r.Context(), reqActor(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiDLPPolicySet(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	var in dlpsvc.Policy
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.DLP.SetPolicy(r.Context(), reqActor(r), org, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiDLPSummary(w http.ResponseWriter, r *http.Request) error {
	days, err := queryInt(r, "days", 30)
	if err != nil {
		return err
	}
	if days <= 0 || days > 3660 {
		return problem.Invalid("days", "days must be between 1 and 3660").WithMsg("dlp.error.msg.days_range", 1, 3660)
	}
	sum, err := s.DLP.Summary(r.Context(), reqActor(r), time.Now().AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sum)
}
