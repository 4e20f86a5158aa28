package web

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// maxDataflowDocument bounds an uploaded agreement document (the register's own limit).
const maxDataflowDocument = 20 << 20

func (s *Server) dataflows() (*dataflow.Service, error) {
	if s.Dataflows == nil {
		return nil, problem.NotFound("data-flow register")
	}
	return s.Dataflows, nil
}

// visibleFlow reads flow {id} as the caller sees it (another hospital's is not found).
func (s *Server) visibleFlow(r *http.Request) (*dataflow.Service, dataflow.Flow, error) {
	svc, err := s.dataflows()
	if err != nil {
		return nil, dataflow.Flow{}, err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return nil, dataflow.Flow{}, err
	}
	f, err := svc.Flow(r.Context(), reqActor(r), id)
	return svc, f, err
}

// dataflowQuery reads the filters of the register's list.
func dataflowQuery(r *http.Request) (dataflow.Query, error) {
	v := r.URL.Query()
	q := dataflow.Query{RecipientKind: v.Get("recipient_kind"), Status: v.Get("status")}
	var err error
	if q.OrgID, err = queryID(r, "org_id"); err != nil {
		return q, err
	}
	if l := v.Get("level"); l != "" {
		if q.Level, err = strconv.Atoi(l); err != nil || q.Level < 1 || q.Level > 5 {
			return q, problem.Invalid("level", "a level is from 1 to 5").WithMsg("dataflow.error.level")
		}
	}
	if v.Has("deficient") {
		d, err := queryBool(r, "deficient")
		if err != nil {
			return q, err
		}
		q.Deficient = &d
	}
	return q, nil
}

func (s *Server) apiDataflowList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	q, err := dataflowQuery(r)
	if err != nil {
		return err
	}
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q.Limit, q.Offset = p.Limit, p.Offset
	list, total, err := svc.Flows(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, list, total))
}

func (s *Server) apiDataflowCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	var in dataflow.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	in.Lang = s.callerLang(r)
	f, err := svc.Create(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/dataflows/", f.ID), f)
}

func (s *Server) apiDataflowGet(w http.ResponseWriter, r *http.Request) error {
	_, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

func (s *Server) apiDataflowUpdate(w http.ResponseWriter, r *http.Request) error {
	svc, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	var in dataflow.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.OrgID, in.Lang = f.OrgID, s.callerLang(r)
	f, err = svc.Update(r.Context(), reqActor(r), f.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

func (s *Server) apiDataflowEnd(w http.ResponseWriter, r *http.Request) error {
	svc, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	var in dataflow.EndInput
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	in.Lang = s.callerLang(r)
	f, err = svc.End(r.Context(), reqActor(r), f.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

// apiDataflowAttach answers POST /api/v1/dataflows/{id}/attachments: an agreement or
// destruction document (the multipart field "file", or the raw body named by the
// query's name), checked by its content.
func (s *Server) apiDataflowAttach(w http.ResponseWriter, r *http.Request) error {
	svc, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	data, name, err := uploadedDocument(w, r, "file", "attachment_too_large", "attachment_required", maxDataflowDocument)
	if err != nil {
		return err
	}
	if name == "" {
		name = r.URL.Query().Get("name")
	}
	att, err := svc.AddAttachment(r.Context(), reqActor(r), f.ID, name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/dataflows/"+strconv.FormatInt(f.ID, 10)+"/attachments/", att.ID), att)
}

// apiDataflowAttachment answers GET /api/v1/dataflows/{id}/attachments/{attachment}: the
// document as a download, never rendered by the browser.
func (s *Server) apiDataflowAttachment(w http.ResponseWriter, r *http.Request) error {
	svc, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	aid, err := pathInt(r, "attachment")
	if err != nil {
		return err
	}
	att, err := svc.Attachment(r.Context(), reqActor(r), f.ID, aid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(att.Content)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(att.Content)
	return err
}

// apiDataflowImport answers POST /api/v1/dataflows/import: a register in CSV into the
// organisation org_id (default the caller's); all lines or none.
func (s *Server) apiDataflowImport(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	org, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	if org == 0 {
		org = principalFrom(r.Context()).User.OrgID
	}
	data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", dataflow.MaxImportBytes)
	if err != nil {
		return err
	}
	if name == "" {
		name = r.URL.Query().Get("name")
	}
	rep, err := svc.Import(r.Context(), reqActor(r), org, name, data, s.callerLang(r))
	if err != nil {
		return err
	}
	if rep.Errors == nil {
		rep.Errors = []dataflow.RowError{}
	}
	status := http.StatusOK
	if rep.Created > 0 {
		status = http.StatusCreated
	}
	return writeJSON(w, status, rep)
}

func init() {
	apiDocs["GET /api/v1/dataflows"] = apiOp{Summary: "The data-flow register (数据共享登记) the caller sees: flows of patient data leaving the " +
		"hospital, deficient ones first, each with its deficiencies judged now", Tag: "dataflows", Response: listResponse[dataflow.Flow]{},
		Status: 200, Query: []string{"deficient", "recipient_kind", "level", "status", "org_id"}}
	opQueryDocs["GET /api/v1/dataflows"] = map[string]qdoc{
		"deficient":      str("true: only deficient flows (no or expired agreement, no transfer encryption, no de-identification where the level needs it, ended without a destruction record); false: only sound ones"),
		"recipient_kind": oneOf("Kind of recipient", dataflow.RecipientKinds),
		"level":          str("GB/T 39725 level of the flow (its highest category level), 1–5"),
		"status":         oneOf("State of the flow", dataflow.Statuses),
	}
	apiDocs["POST /api/v1/dataflows"] = apiOp{Summary: "Register a flow: source systems (the hospital's assets), recipient, data categories and " +
		"levels, purpose, legal basis, agreement, de-identification, transfer protection, frequency, volume, retention (org_id defaults " +
		"to the caller's organisation); a deficient flow raises a risk, written in the caller's language", Tag: "dataflows",
		Request: dataflow.Input{}, Response: dataflow.Flow{}, Status: 201}
	apiDocs["POST /api/v1/dataflows/import"] = apiOp{Summary: "Import a register from CSV (UTF-8 or GBK, header row in English or Chinese; " +
		"multipart field file or the raw body, at most 5 MiB) into org_id (default the caller's organisation): every line is created " +
		"(201), or none and the wrong lines are listed (200)", Tag: "dataflows", Body: "text/csv", Response: dataflow.ImportReport{},
		Status: 201, Query: []string{"org_id", "name"}}
	apiDocs["GET /api/v1/dataflows/{id}"] = apiOp{Summary: "A flow with its deficiencies, destruction record and documents",
		Tag: "dataflows", Response: dataflow.Flow{}, Status: 200}
	apiDocs["PUT /api/v1/dataflows/{id}"] = apiOp{Summary: "Replace what is written of a flow (not once ended; org_id is ignored); a deficient " +
		"flow raises or updates its risk", Tag: "dataflows", Request: dataflow.Input{}, Response: dataflow.Flow{}, Status: 200}
	apiDocs["POST /api/v1/dataflows/{id}/end"] = apiOp{Summary: "End a flow, with the record of the data's destruction at the recipient " +
		"(destroyed_by, destroyed_at, verification — all or none); ended without one it stays deficient until ended again with it",
		Tag: "dataflows", Request: dataflow.EndInput{}, Response: dataflow.Flow{}, Status: 200}
	apiDocs["POST /api/v1/dataflows/{id}/attachments"] = apiOp{Summary: "Attach the agreement or a destruction certificate (multipart field " +
		"file, or the raw body named by the query's name; at most 20 MiB): its type is checked by content — HTML, scripts, SVG, " +
		"executables, macros and files whose name disagrees with their content are refused — and its SHA-256 kept", Tag: "dataflows",
		Body: "application/octet-stream", Response: dataflow.Attachment{}, Status: 201, Query: []string{"name"}}
	apiDocs["GET /api/v1/dataflows/{id}/attachments/{attachment}"] = apiOp{Summary: "Download a document of a flow (always as an attachment, " +
		"with its checked content type and nosniff)", Tag: "dataflows", Status: 200, Produces: "application/octet-stream"}
}
