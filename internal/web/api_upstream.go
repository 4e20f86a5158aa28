package web

import (
	"io"
	"net/http"

	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/upstream"
)

// linkRequest is the body of POST /api/v1/upstream/links.
type linkRequest struct {
	OrgID int64 `json:"org_id"`
}

func (s *Server) region() (*upstream.Region, error) {
	if s.Upstream == nil {
		return nil, problem.NotFound("upstream reporting")
	}
	return s.Upstream, nil
}

// apiUpstreamReport answers POST /api/v1/upstream/apps: a hospital's medguard pushes
// its report with its link's token; the answer is the acknowledgement, signed with the
// link's key in the X-Medguard-Upstream-Signature header.
func (s *Server) apiUpstreamReport(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.region()
	if err != nil {
		return err
	}
	p := principalFrom(r.Context())
	if p == nil || p.Token == nil {
		return problem.Forbidden("reports are pushed with the token of an upstream link").WithCode("not_linked").
			WithMsg("upstream.error.not_linked")
	}
	ack, sig, err := reg.Receive(r.Context(), p.User, clientIP(r), p.Token.ID, io.LimitReader(r.Body, upstream.MaxReportSize+1))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(upstream.SignatureHeader, sig)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(ack)
	return err
}

func (s *Server) apiUpstreamAppList(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.region()
	if err != nil {
		return err
	}
	q := upstream.Query{Status: r.URL.Query().Get("status"), Grade: r.URL.Query().Get("grade")}
	if q.OrgID, err = queryID(r, "org_id"); err != nil {
		return err
	}
	all, err := reg.Apps(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, all)
}

// regionApp reads the reported app the request's path names, as the reader may see it.
func (s *Server) regionApp(r *http.Request) (upstream.RemoteAppDetail, error) {
	reg, err := s.region()
	if err != nil {
		return upstream.RemoteAppDetail{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return upstream.RemoteAppDetail{}, err
	}
	return reg.App(r.Context(), reqActor(r), id)
}

func (s *Server) apiUpstreamAppGet(w http.ResponseWriter, r *http.Request) error {
	ap, err := s.regionApp(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ap)
}

// apiUpstreamLink answers POST /api/v1/upstream/links: an administrator links a hospital
// node; the answer holds the token and the acknowledgement key, shown this once.
func (s *Server) apiUpstreamLink(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.region()
	if err != nil {
		return err
	}
	var in linkRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		return problem.Required("org_id")
	}
	l, err := reg.LinkHospital(r.Context(), reqActor(r), in.OrgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, l)
}

func init() {
	apiDocs["POST /api/v1/upstream/apps"] = apiOp{Summary: "Push a hospital's app report (apps, scores, findings, codes, incidents) to this regional " +
		"medguard, with the token of the hospital's upstream link (scope app.report); the acknowledgement is signed with the link's key " +
		"(header X-Medguard-Upstream-Signature: v1=HMAC-SHA256). The same or an older report changes nothing",
		Tag: "upstream", Request: upstream.Report{}, Response: upstream.Ack{}, Status: 200}
	apiDocs["GET /api/v1/upstream/apps"] = apiOp{Summary: "The apps the hospitals the caller sees reported, with hospital, grade, score, status and the time of the last report",
		Tag: "upstream", Response: listResponse[upstream.RemoteApp]{}, Status: 200, Query: []string{"org_id", "status", "grade"}}
	opQueryDocs["GET /api/v1/upstream/apps"] = map[string]qdoc{
		"org_id": str("one hospital node"),
		"status": str("pending, admitted, rejected or evicted"),
		"grade":  str("A, B or C"),
	}
	apiDocs["GET /api/v1/upstream/apps/{id}"] = apiOp{Summary: "A reported app with its open findings, codes and incidents",
		Tag: "upstream", Response: upstream.RemoteAppDetail{}, Status: 200}
	apiDocs["POST /api/v1/upstream/links"] = apiOp{Summary: "Link a hospital node for upward reporting: a token of scope app.report and an " +
		"acknowledgement key, shown once (linking again replaces both)", Tag: "upstream", Request: linkRequest{}, Response: upstream.Link{}, Status: 201}
}
