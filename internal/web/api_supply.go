package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/vuln"
)

// reqActor is the actor of an authenticated request.
func reqActor(r *http.Request) actor.Actor { return principalFrom(r.Context()).actor(r) }

// orgParam reads an organisation id from the query string; the caller's own organisation
// when it is absent.
func orgParam(r *http.Request) (int64, error) {
	id, err := queryID(r, "org_id")
	if err != nil || id != 0 {
		return id, err
	}
	return principalFrom(r.Context()).User.OrgID, nil
}

// created answers 201 with the new object and its location.
func created(w http.ResponseWriter, location string, v any) error {
	w.Header().Set("Location", location)
	return writeJSON(w, http.StatusCreated, v)
}

// idPath is prefix followed by id.
func idPath(prefix string, id int64) string { return prefix + strconv.FormatInt(id, 10) }

// Request bodies of the supply-chain API that are not domain inputs.
type (
	contractRequest struct {
		Title    string `json:"title"`
		Number   string `json:"number"`
		StartsOn string `json:"starts_on"`
		EndsOn   string `json:"ends_on"`
		Notes    string `json:"notes"`
	}
	vendorKeyRequest struct {
		Fingerprint string `json:"fingerprint"`
		Label       string `json:"label"`
	}
	versionAssetsRequest struct {
		AssetIDs []int64 `json:"asset_ids"`
	}
	// decisionRequest is a decision on a finding; expires_at is a date (YYYY-MM-DD, the
	// acceptance holds to the end of that day, server time) or an RFC 3339 time.
	decisionRequest struct {
		State     string `json:"state"`
		Reason    string `json:"reason"`
		ExpiresAt string `json:"expires_at"`
	}
)

// decision converts the request, checking the expiry's syntax (the service checks the rest).
func (d decisionRequest) decision() (supply.Decision, error) {
	out := supply.Decision{State: strings.TrimSpace(d.State), Reason: d.Reason}
	exp, err := parseExpiry(d.ExpiresAt)
	out.ExpiresAt = exp
	return out, err
}

// parseExpiry reads an expiry: "" for none, a date meaning the end of that day in the
// server's time zone, or an RFC 3339 time.
func parseExpiry(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		end := t.AddDate(0, 0, 1).Add(-time.Second)
		return &end, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	return nil, problem.Invalid("expires_at", "must be a date (YYYY-MM-DD) or an RFC 3339 time").WithMsg("supply.error.msg.date_or_time")
}

// Responses of the supply-chain API that combine several service results.
type (
	versionResponse struct {
		Version    supply.Version      `json:"version"`
		Gates      []supply.GateResult `json:"gate_results"`
		Deliveries []supply.Delivery   `json:"deliveries"`
		// Coverage: how many of the SBOM's components the vulnerability database can check
		// now (zero components when the version has no SBOM).
		Coverage supply.Coverage `json:"coverage"`
	}
	vulnResponse struct {
		Record   *vulnRecordView `json:"record"` // null when the database no longer holds the advisory
		Exposure supply.Exposure `json:"exposure"`
	}
	vulnRecordView struct {
		ID         string           `json:"id"`
		Summary    string           `json:"summary"`
		Details    string           `json:"details"`
		Aliases    []string         `json:"aliases"`
		Severity   vuln.Severity    `json:"severity"`
		Published  *time.Time       `json:"published"`
		Modified   time.Time        `json:"modified"`
		Withdrawn  *time.Time       `json:"withdrawn"`
		Affected   []vuln.Affected  `json:"affected"`
		References []vuln.Reference `json:"references"`
	}
	vulnImportResponse struct {
		Import  vuln.ImportResult    `json:"import"`
		Rematch supply.RematchReport `json:"rematch"`
	}
)

// nonNil returns s, or an empty slice for nil, so that JSON shows [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// recordView is what the API shows of an OSV record.
func recordView(rec *vuln.Record) *vulnRecordView {
	v := &vulnRecordView{ID: rec.ID, Summary: rec.Summary, Details: rec.Details, Aliases: nonNil(rec.Aliases),
		Severity: rec.Severity,
		Modified: rec.Modified, Withdrawn: rec.Withdrawn, Affected: nonNil(rec.Affected), References: nonNil(rec.References)}
	if !rec.Published.IsZero() {
		p := rec.Published
		v.Published = &p
	}
	return v
}

// statusView is what the API shows of the vulnerability database's status: the last
// import names only the last element of its source, since the server's own paths are
// nobody's business.
func statusView(st vuln.Status) vuln.Status {
	st.Ecosystems = nonNil(st.Ecosystems)
	if st.LastImport != nil {
		run := *st.LastImport
		run.Source, run.Notes = importSource(run.Source), nonNil(run.Notes)
		st.LastImport = &run
	}
	return st
}

// importSource is what the pages and the API show of an import's source: the file's
// base name, or nothing for a path in the server's temporary directory (where uploads
// and the demo's advisories are unpacked), whose name means nothing to a user.
func importSource(src string) string {
	if src == "" {
		return ""
	}
	if tmp := filepath.Clean(os.TempDir()); filepath.IsAbs(src) && strings.HasPrefix(filepath.Clean(src), tmp+string(filepath.Separator)) {
		return ""
	}
	return filepath.Base(src)
}

// vulnDetail is a vulnerability with its exposure in a's scope. An advisory the database
// knows but that hits nothing in scope has an empty exposure; an id neither the database
// nor any finding in scope knows is not found.
func (s *Server) vulnDetail(ctx context.Context, a actor.Actor, id string) (vulnResponse, error) {
	var out vulnResponse
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 256 {
		return out, problem.NotFound("vulnerability")
	}
	rec, err := s.Vulns.Record(ctx, id)
	switch {
	case errors.Is(err, vuln.ErrNotFound):
	case err != nil:
		return out, err
	default:
		out.Record = recordView(rec)
	}
	out.Exposure, err = s.Supply.Exposure(ctx, a, id)
	if err != nil {
		if problem.KindOf(err) != problem.KindNotFound || out.Record == nil {
			return out, err
		}
		r := out.Record
		out.Exposure = supply.Exposure{VulnID: id, Aliases: r.Aliases, Summary: r.Summary, Severity: r.Severity.Level,
			Score: r.Severity.Score, Affected: []supply.ExposedTarget{}, Assets: []supply.AlertAsset{}}
	}
	return out, nil
}

// importVulns imports an uploaded OSV file and re-matches the stored SBOMs against the
// advisories it changed.
func (s *Server) importVulns(w http.ResponseWriter, r *http.Request) (vulnImportResponse, error) {
	var out vulnImportResponse
	dir, err := os.MkdirTemp("", "medguard-vulndb-")
	if err != nil {
		return out, fmt.Errorf("web: vulndb upload: %w", err)
	}
	defer os.RemoveAll(dir)
	path, name, err := saveVulnDBUpload(w, r, dir)
	if err != nil {
		return out, err
	}
	imp, rep, err := s.Supply.ImportUploadedAdvisories(r.Context(), reqActor(r), path, name)
	if err != nil {
		return out, err
	}
	res := imp.Result
	res.Skipped, res.Changed = nonNil(res.Skipped), nonNil(res.Changed)
	out.Import, out.Rematch = res, rep
	return out, nil
}

// findingQuery reads the findings filters; it returns the query and the page size used.
func findingQuery(r *http.Request) (supply.FindingQuery, error) {
	v := r.URL.Query()
	q := supply.FindingQuery{VulnID: strings.TrimSpace(v.Get("vuln")), Severity: v.Get("severity"), State: v.Get("state")}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"product_id", &q.ProductID}, {"version_id", &q.VersionID}, {"vendor_id", &q.VendorID}} {
		if *p.dst, err = queryID(r, p.name); err != nil {
			return q, err
		}
	}
	p, err := pageParams(r, findingPaging)
	if err != nil {
		return q, err
	}
	q.Limit, q.Offset = p.Limit, p.Offset
	return q, nil
}

func (s *Server) apiSupplyRisk(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.Supply.Risk(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rv)
}

func (s *Server) apiVendorList(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.Supply.Vendors(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, (vs))
}

func (s *Server) apiVendorCreate(w http.ResponseWriter, r *http.Request) error {
	var in supply.VendorInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	v, err := s.Supply.CreateVendor(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/vendors/", v.ID), v)
}

func (s *Server) apiVendorGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.Supply.Vendor(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// visibleVendor returns the {id} of the path if that vendor is in the caller's scope,
// before anything else about the request is looked at.
func (s *Server) visibleVendor(r *http.Request) (int64, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	_, err = s.Supply.Vendor(r.Context(), reqActor(r), id)
	return id, err
}

// visibleProduct returns the {id} product of the path if the caller sees it.
func (s *Server) visibleProduct(r *http.Request) (supply.Product, error) {
	id, err := pathID(r)
	if err != nil {
		return supply.Product{}, err
	}
	return s.Supply.Product(r.Context(), reqActor(r), id)
}

// visibleVersion returns the {id} product version of the path if the caller sees it.
func (s *Server) visibleVersion(r *http.Request) (supply.Version, error) {
	id, err := pathID(r)
	if err != nil {
		return supply.Version{}, err
	}
	return s.Supply.Version(r.Context(), reqActor(r), id)
}

// visibleFinding returns the {id} finding of the path if the caller sees it.
func (s *Server) visibleFinding(r *http.Request) (supply.Finding, error) {
	id, err := pathID(r)
	if err != nil {
		return supply.Finding{}, err
	}
	return s.Supply.Finding(r.Context(), reqActor(r), id)
}

func (s *Server) apiVendorUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.visibleVendor(r)
	if err != nil {
		return err
	}
	var in supply.VendorInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.Supply.UpdateVendor(r.Context(), reqActor(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiVendorContract(w http.ResponseWriter, r *http.Request) error {
	id, err := s.visibleVendor(r)
	if err != nil {
		return err
	}
	var in contractRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.Supply.AddContract(r.Context(), reqActor(r), id, supply.Contract{Title: in.Title, Number: in.Number,
		StartsOn: in.StartsOn, EndsOn: in.EndsOn, Notes: in.Notes})
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/vendors/", id), c)
}

func (s *Server) apiVendorKey(w http.ResponseWriter, r *http.Request) error {
	id, err := s.visibleVendor(r)
	if err != nil {
		return err
	}
	var in vendorKeyRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	k, err := s.Supply.AddVendorKey(r.Context(), reqActor(r), id, in.Fingerprint, in.Label)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/vendors/", id), k)
}

func (s *Server) apiProductList(w http.ResponseWriter, r *http.Request) error {
	vid, err := queryID(r, "vendor_id")
	if err != nil {
		return err
	}
	ps, err := s.Supply.Products(r.Context(), reqActor(r), supply.ProductQuery{VendorID: vid})
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, (ps))
}

func (s *Server) apiProductCreate(w http.ResponseWriter, r *http.Request) error {
	var in supply.ProductInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	p, err := s.Supply.CreateProduct(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/products/", p.ID), p)
}

func (s *Server) apiProductGet(w http.ResponseWriter, r *http.Request) error {
	p, err := s.visibleProduct(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiProductUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := s.visibleProduct(r)
	if err != nil {
		return err
	}
	var in supply.ProductInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.Supply.UpdateProduct(r.Context(), reqActor(r), p.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiVersionList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	vs, err := s.Supply.Versions(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, (vs))
}

func (s *Server) apiVersionCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := s.visibleProduct(r)
	if err != nil {
		return err
	}
	var in supply.VersionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.Supply.CreateVersion(r.Context(), reqActor(r), p.ID, in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/versions/", v.ID), v)
}

func (s *Server) apiVersionGet(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	out := versionResponse{Version: v}
	if out.Gates, err = s.Supply.GateResults(ctx, a, v.ID); err != nil {
		return err
	}
	if out.Deliveries, err = s.Supply.Deliveries(ctx, a, supply.DeliveryQuery{VersionID: v.ID}); err != nil {
		return err
	}
	if out.Coverage, err = s.Supply.VersionCoverage(ctx, a, v.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiVersionAssets(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	var in versionAssetsRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.Supply.SetVersionAssets(r.Context(), reqActor(r), v.ID, in.AssetIDs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSBOMImport(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	data, name, err := uploadedDocument(w, r, "sbom", "sbom_too_large", "sbom_required", maxSBOMUpload)
	if err != nil {
		return err
	}
	rep, err := s.Supply.ImportSBOM(r.Context(), reqActor(r), v.ID, name, data)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

func (s *Server) apiSBOMDownload(w http.ResponseWriter, r *http.Request) error {
	return s.sbomDownload(w, r)
}

// sbomDownload sends the stored SBOM of the {id} version as an attachment.
func (s *Server) sbomDownload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	data, name, err := s.Supply.SBOMDocument(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	ct := "text/plain; charset=utf-8" // SPDX tag-value
	switch t := bytes.TrimLeft(data, " \t\r\n\ufeff"); {
	case bytes.HasPrefix(t, []byte("{")):
		ct = "application/json"
	case bytes.HasPrefix(t, []byte("<")):
		ct = "application/xml"
	}
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "" || name == "." || name == "/" {
		name = "sbom-" + strconv.FormatInt(id, 10)
	}
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disp == "" { // a name mime cannot encode
		disp = mime.FormatMediaType("attachment", map[string]string{"filename": "sbom-" + strconv.FormatInt(id, 10)})
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disp)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(data)
	return err
}

func (s *Server) apiComponentList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cs, err := s.Supply.Components(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, (cs))
}

func (s *Server) apiGateEvaluate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.Supply.EvaluateGate(r.Context(), reqActor(r), id, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiDeliveryVerify(w http.ResponseWriter, r *http.Request) error {
	v, err := s.visibleVersion(r)
	if err != nil {
		return err
	}
	in, err := deliveryUpload(w, r, v.ID)
	if err != nil {
		return err
	}
	d, err := s.Supply.VerifyDelivery(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/versions/", v.ID), d)
}

func (s *Server) apiFindingList(w http.ResponseWriter, r *http.Request) error {
	q, err := findingQuery(r)
	if err != nil {
		return err
	}
	pg, err := s.Supply.Findings(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, paging.Params{Limit: q.Limit, Offset: q.Offset}, pg.Items, pg.Total))
}

func (s *Server) apiFindingGet(w http.ResponseWriter, r *http.Request) error {
	f, err := s.visibleFinding(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

func (s *Server) apiFindingDecide(w http.ResponseWriter, r *http.Request) error {
	f, err := s.visibleFinding(r)
	if err != nil {
		return err
	}
	var in decisionRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := in.decision()
	if err != nil {
		return err
	}
	out, err := s.Supply.Decide(r.Context(), reqActor(r), f.ID, d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiVulnGet(w http.ResponseWriter, r *http.Request) error {
	out, err := s.vulnDetail(r.Context(), reqActor(r), r.PathValue("vuln"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiVulnDBStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Vulns.Status(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, statusView(st))
}

func (s *Server) apiVulnDBImport(w http.ResponseWriter, r *http.Request) error {
	out, err := s.importVulns(w, r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// Page sizes of the supply lists that differ from paging.Standard.
var (
	findingPaging = paging.Spec{Default: 100, Max: 500}
	alertPaging   = paging.Spec{Default: 100, Max: 500}
)

func (s *Server) apiAlertList(w http.ResponseWriter, r *http.Request) error {
	open, err := queryBool(r, "open")
	if err != nil {
		return err
	}
	p, err := pageParams(r, alertPaging)
	if err != nil {
		return err
	}
	as, total, err := s.Supply.AlertPage(r.Context(), reqActor(r), open, p.Limit, p.Offset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, as, total))
}

func (s *Server) apiAlertAck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := s.Supply.Acknowledge(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, al)
}

func (s *Server) apiGateList(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	gs, err := s.Supply.Gates(r.Context(), reqActor(r), org)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, (gs))
}

func (s *Server) apiGateSave(w http.ResponseWriter, r *http.Request) error {
	var in supply.GateDefinition
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	g, err := s.Supply.SaveGate(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

// policyView is a licence policy in the shape ParsePolicy reads, so that what GET
// answers can be sent back with PUT.
type policyView struct {
	Allow    []string `json:"allow"`
	Review   []string `json:"review"`
	Deny     []string `json:"deny"`
	Unlisted string   `json:"unlisted"` // verdict of a valid licence on no list; "" = review
}

// viewPolicy is p in the shape of policyView.
func viewPolicy(p licence.Policy) policyView {
	return policyView{Allow: nonNil(p.Allow), Review: nonNil(p.Review), Deny: nonNil(p.Deny), Unlisted: string(p.Unlisted)}
}

func (s *Server) apiLicencePolicyGet(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	pol, err := s.Supply.LicencePolicy(r.Context(), reqActor(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewPolicy(pol))
}

func (s *Server) apiLicencePolicySet(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	doc, err := readLimited(http.MaxBytesReader(w, r.Body, maxJSONBody+1), "policy", "body_too_large", maxJSONBody)
	if err != nil {
		return err
	}
	pol, err := s.Supply.SetLicencePolicy(r.Context(), reqActor(r), org, doc)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewPolicy(pol))
}

func (s *Server) apiDeliveryList(w http.ResponseWriter, r *http.Request) error {
	var q supply.DeliveryQuery
	var err error
	if q.VendorID, err = queryID(r, "vendor_id"); err != nil {
		return err
	}
	if q.VersionID, err = queryID(r, "version_id"); err != nil {
		return err
	}
	ds, err := s.Supply.Deliveries(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, (ds))
}

// apiSBOMCheck checks an SBOM against the vulnerability database, the licence policy
// and optionally a gate of an organisation, storing nothing: a supplier's CI calls it.
func (s *Server) apiSBOMCheck(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "sarif" {
		return problem.Invalid("format", "format must be json or sarif").WithMsg("error.msg.one_of", "json, sarif")
	}
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	policy, err := s.Supply.LicencePolicy(ctx, a, org)
	if err != nil {
		return err
	}
	var gate *supply.Gate
	if name := strings.TrimSpace(q.Get("gate")); name != "" {
		g, err := s.Supply.GateNamed(ctx, a, org, name)
		if err != nil {
			return err
		}
		gate = &g
	}
	data, name, err := uploadedDocument(w, r, "sbom", "sbom_too_large", "sbom_required", maxSBOMUpload)
	if err != nil {
		return err
	}
	res, err := s.Supply.Check(ctx, data, policy, gate)
	if err != nil {
		return err
	}
	if format != "sarif" {
		return writeJSON(w, http.StatusOK, res)
	}
	source := q.Get("source")
	if source == "" {
		source = name
	}
	rep, err := supply.CheckSARIF(res, source)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/sarif+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(rep)
}
