package web

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/apk"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/portal"
	"github.com/medguard/medguard/internal/problem"
)

// appDetail is an app with its applications and codes.
type appDetail struct {
	appreg.App
	Applications []appreg.Application `json:"applications"`
	Codes        []appreg.Code        `json:"codes"`
}

// evictRequest is the body of POST /api/v1/apps/{id}/evict.
type evictRequest struct {
	Reason string `json:"reason"`
}

// verifyRequest is the body of POST /api/v1/authcodes/verify.
type verifyRequest struct {
	Code string `json:"code"`
}

func (s *Server) apps() (*appreg.Service, error) {
	if s.Apps == nil {
		return nil, problem.NotFound("app registry")
	}
	return s.Apps, nil
}

func (s *Server) apiAppList(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	q := appreg.Query{Status: r.URL.Query().Get("status"), Grade: r.URL.Query().Get("grade")}
	all, err := reg.Apps(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, all)
}

func (s *Server) apiAppApply(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	var in appreg.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	ap, err := reg.Apply(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/apps/", ap.ID), ap)
}

func (s *Server) appDetail(r *http.Request, id int64) (appDetail, error) {
	reg, err := s.apps()
	if err != nil {
		return appDetail{}, err
	}
	ap, err := reg.App(r.Context(), reqActor(r), id)
	if err != nil {
		return appDetail{}, err
	}
	d := appDetail{App: ap}
	if d.Applications, err = reg.Applications(r.Context(), reqActor(r), id); err != nil {
		return appDetail{}, err
	}
	if d.Codes, err = reg.Codes(r.Context(), reqActor(r), id); err != nil {
		return appDetail{}, err
	}
	return d, nil
}

func (s *Server) apiAppGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.appDetail(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// visibleApp returns the registry and app {id} if the caller sees it: another
// hospital's app is not found before its body is even read.
func (s *Server) visibleApp(r *http.Request) (*appreg.Service, int64, error) {
	reg, err := s.apps()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, 0, err
	}
	if _, err := reg.App(r.Context(), reqActor(r), id); err != nil {
		return nil, 0, err
	}
	return reg, id, nil
}

// appAction reads the body into body (nil: none) and runs one action on app {id},
// then answers the app's detail.
func (s *Server) appAction(w http.ResponseWriter, r *http.Request, body any, do func(reg *appreg.Service, id int64) error) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	if body != nil {
		if err := decodeJSON(r, body); err != nil {
			return err
		}
	}
	if err := do(reg, id); err != nil {
		return err
	}
	d, err := s.appDetail(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiAppReview(w http.ResponseWriter, r *http.Request) error {
	var d appreg.Decision
	return s.appAction(w, r, &d, func(reg *appreg.Service, id int64) error {
		_, err := reg.Review(r.Context(), reqActor(r), id, d)
		return err
	})
}

func (s *Server) apiAppReadmit(w http.ResponseWriter, r *http.Request) error {
	var in appreg.Input
	return s.appAction(w, r, &in, func(reg *appreg.Service, id int64) error {
		_, err := reg.Readmit(r.Context(), reqActor(r), id, in)
		return err
	})
}

func (s *Server) apiAppEvict(w http.ResponseWriter, r *http.Request) error {
	var in evictRequest
	return s.appAction(w, r, &in, func(reg *appreg.Service, id int64) error {
		_, err := reg.Evict(r.Context(), reqActor(r), id, in.Reason)
		return err
	})
}

func (s *Server) apiAppRotateCode(w http.ResponseWriter, r *http.Request) error {
	return s.appAction(w, r, nil, func(reg *appreg.Service, id int64) error {
		_, err := reg.RotateCode(r.Context(), reqActor(r), id)
		return err
	})
}

func (s *Server) apiAppObserve(w http.ResponseWriter, r *http.Request) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	var o appreg.Observation
	if err := decodeJSON(r, &o); err != nil {
		return err
	}
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	fs, err := reg.Observe(r.Context(), reqActor(r), id, o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, paging.Slice(r.URL, p, fs))
}

func (s *Server) apiAppFindings(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	all, err := queryBool(r, "all")
	if err != nil {
		return err
	}
	fs, err := reg.Findings(r.Context(), reqActor(r), id, !all)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, fs)
}

func (s *Server) apiAppScores(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sc, err := reg.Scores(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, sc)
}

// apiAuthcodeVerify answers POST /api/v1/authcodes/verify: the online check of a code,
// public like a certificate status responder — it says whether the code is valid and
// why not, and names only the app and hospital the code itself names.
func (s *Server) apiAuthcodeVerify(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	var in verifyRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Code == "" {
		return problem.Required("code")
	}
	v, err := reg.Verify(r.Context(), in.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// maxAPKUpload bounds an uploaded APK.
const maxAPKUpload = 256 << 20

// inspectionResult answers an APK upload: the stored inspection and the app's open
// findings after it.
type inspectionResult struct {
	Inspection appreg.Inspection `json:"inspection"`
	Findings   []appreg.Finding  `json:"findings"`
}

// apiAppInspect answers POST /api/v1/apps/{id}/inspections: an APK (raw body or the
// multipart field "file") inspected as Android verifies it, its findings made the app's.
func (s *Server) apiAppInspect(w http.ResponseWriter, r *http.Request) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	ins, err := inspectUpload(w, r, reg, id)
	if err != nil {
		return err
	}
	fs, err := reg.Findings(r.Context(), reqActor(r), id, true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, inspectionResult{Inspection: ins, Findings: fs})
}

func (s *Server) apiAppInspections(w http.ResponseWriter, r *http.Request) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	ins, err := reg.Inspections(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, ins)
}

// portalCheckRequest is the body of POST /api/v1/apps/{id}/portal.
type portalCheckRequest struct {
	// URL is one of the app's filed addresses (default: the first: an H5 app's portal).
	URL string `json:"url"`
}

// portalCheckResult answers a web check: its report and the app's open findings after it.
type portalCheckResult struct {
	Report   *portal.Report   `json:"report"`
	Findings []appreg.Finding `json:"findings"`
}

// apiAppWebCheck answers POST /api/v1/apps/{id}/webcheck: the TLS and security headers
// of one of the app's filed addresses checked now; the findings become the app's.
func (s *Server) apiAppWebCheck(w http.ResponseWriter, r *http.Request) error {
	reg, id, err := s.visibleApp(r)
	if err != nil {
		return err
	}
	var in portalCheckRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rep, err := s.checkPortal(r, reg, id, in.URL)
	if err != nil {
		return err
	}
	fs, err := reg.Findings(r.Context(), reqActor(r), id, true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, portalCheckResult{Report: rep, Findings: fs})
}

// apiAuthcodeKeys answers GET /api/v1/authcodes/keys: the public keys that verify the
// codes offline (`medguard authcode verify CODE --pubkey FILE`), the signing key first.
func (s *Server) apiAuthcodeKeys(w http.ResponseWriter, r *http.Request) error {
	if len(s.AppKeys) == 0 {
		return problem.NotFound("authorization code keys")
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="authcode-keys.pem"`)
	_, err := w.Write(s.AppKeys)
	return err
}

func init() {
	apiDocs["POST /api/v1/apps/{id}/webcheck"] = apiOp{Summary: "Check the TLS and security headers of one of the app's filed addresses " +
		"(an H5 portal, a channel page; default the first): certificate, TLS version, HTTP→HTTPS, HSTS, CSP, framing, nosniff, " +
		"cookies, server version; the findings become the app's web.* findings for that address", Tag: "apps",
		Request: portalCheckRequest{}, Response: portalCheckResult{}, Status: 200}
	apiDocs["POST /api/v1/apps/{id}/inspections"] = apiOp{Summary: "Upload an APK of an Android app (raw body or multipart field file, " +
		"at most 256 MiB): its signatures are verified as Android does (v3.1, v3, v2, v1), its manifest checked; the findings " +
		"become the app's apk.* findings (with a package other than the one filed and a signer no official version names) and " +
		"the app is evaluated again", Tag: "apps", Body: "application/vnd.android.package-archive", Response: inspectionResult{}, Status: 201}
	apiDocs["GET /api/v1/apps/{id}/inspections"] = apiOp{Summary: "The APK inspections of an app, newest first, each with its report",
		Tag: "apps", Response: listResponse[appreg.Inspection]{}, Status: 200}
	apiDocs["GET /api/v1/authcodes/keys"] = apiOp{Summary: "The public keys (PEM) that verify authorization codes offline, the signing key first (public)",
		Tag: "apps", Status: 200, Produces: "application/x-pem-file"}
	apiDocs["GET /api/v1/apps"] = apiOp{Summary: "List the internet-hospital apps of the hospitals the caller sees (status and grade narrow it)",
		Tag: "apps", Response: listResponse[appreg.App]{}, Status: 200, Query: []string{"status", "grade"}}
	opQueryDocs["GET /api/v1/apps"] = map[string]qdoc{
		"status": str("pending, admitted, rejected or evicted"),
		"grade":  str("A, B or C"),
	}
	apiDocs["POST /api/v1/apps"] = apiOp{Summary: "Apply for the admission (事前备案) of an app: platform, package, operator, purpose, contacts, " +
		"channels and official versions with their digests and signers (org_id defaults to the caller's hospital)",
		Tag: "apps", Request: appreg.Input{}, Response: appreg.App{}, Status: 201}
	apiDocs["GET /api/v1/apps/{id}"] = apiOp{Summary: "An app with its contacts, channels, official versions, applications and codes",
		Tag: "apps", Response: appDetail{}, Status: 200}
	apiDocs["POST /api/v1/apps/{id}/review"] = apiOp{Summary: "Approve or reject the pending application (a rejection needs a comment); " +
		"approval issues the authorization code and evaluates the app", Tag: "apps", Request: appreg.Decision{}, Response: appDetail{}, Status: 200}
	apiDocs["POST /api/v1/apps/{id}/readmit"] = apiOp{Summary: "Apply for the re-admission of an evicted or rejected app, with the evidence of hardening",
		Tag: "apps", Request: appreg.Input{}, Response: appDetail{}, Status: 200}
	apiDocs["POST /api/v1/apps/{id}/evict"] = apiOp{Summary: "Evict (清出) an admitted app: its codes are revoked and an alert is raised",
		Tag: "apps", Request: evictRequest{}, Response: appDetail{}, Status: 200}
	apiDocs["POST /api/v1/apps/{id}/code"] = apiOp{Summary: "Rotate the authorization code of an admitted app: a new code, the old one revoked",
		Tag: "apps", Response: appDetail{}, Status: 200}
	apiDocs["POST /api/v1/apps/{id}/observations"] = apiOp{Summary: "Report what a channel serves (version, artifact SHA-256, signing-certificate " +
		"SHA-256); the app's findings are derived again and it is evaluated; answers its open findings",
		Tag: "apps", Request: appreg.Observation{}, Response: listResponse[appreg.Finding]{}, Status: 201}
	apiDocs["GET /api/v1/apps/{id}/findings"] = apiOp{Summary: "The open findings of an app (all=true: the fixed ones too)",
		Tag: "apps", Response: listResponse[appreg.Finding]{}, Status: 200, Query: []string{"all"}}
	opQueryDocs["GET /api/v1/apps/{id}/findings"] = map[string]qdoc{"all": str("true: fixed findings too")}
	apiDocs["GET /api/v1/apps/{id}/scores"] = apiOp{Summary: "Every evaluation of an app, oldest first, with the points lost",
		Tag: "apps", Response: listResponse[appreg.Score]{}, Status: 200}
	apiDocs["POST /api/v1/authcodes/verify"] = apiOp{Summary: "Verify an authorization code online (public): signature, dates, revocation " +
		"and the app's admission", Tag: "apps", Request: verifyRequest{}, Response: appreg.Verdict{}, Status: 200}
}

// inspectUpload inspects the APK uploaded for app id (field "file": the body itself, or
// a multipart form's file) and stores its report and findings.
func inspectUpload(w http.ResponseWriter, r *http.Request, reg *appreg.Service, id int64) (appreg.Inspection, error) {
	data, name, err := uploadedDocument(w, r, "file", "apk_too_large", "apk_required", maxAPKUpload)
	if err != nil {
		return appreg.Inspection{}, err
	}
	rep, err := apk.Inspect(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return appreg.Inspection{}, problem.Invalid("file", "the file is not an APK that can be inspected: %v", err).
			WithMsg("app.error.apk", err.Error())
	}
	rep.File.Name = name
	return reg.AddInspection(r.Context(), reqActor(r), id, name, rep)
}

// checkPortal checks the TLS and security headers of url, one of app id's filed
// addresses ("": the first), now, and makes the findings the app's.
func (s *Server) checkPortal(r *http.Request, reg *appreg.Service, id int64, url string) (*portal.Report, error) {
	ap, err := reg.App(r.Context(), reqActor(r), id)
	if err != nil {
		return nil, err
	}
	urls := appreg.PortalURLs(ap)
	if url == "" && len(urls) > 0 {
		url = urls[0]
	}
	if !slices.Contains(urls, url) {
		return nil, problem.Invalid("url", "only the app's filed portal and channel addresses are checked").WithMsg("app.error.url_not_filed")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	rep, err := portal.Check(ctx, url, s.WebCheck)
	if err != nil {
		return nil, problem.Invalid("url", "the address cannot be checked").WithMsg("app.error.url").WithErr(err)
	}
	if err := reg.AddWebCheck(r.Context(), reqActor(r), id, rep); err != nil {
		return nil, err
	}
	return rep, nil
}
