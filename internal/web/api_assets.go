package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// maxImportBody bounds an uploaded asset CSV file.
const maxImportBody = 64 << 20

// parseAssetQuery reads the list and export filters from the query string.
func parseAssetQuery(r *http.Request) (asset.Query, error) {
	v := r.URL.Query()
	q := asset.Query{
		Q:         v.Get("q"),
		Kind:      v.Get("kind"),
		Zone:      v.Get("zone"),
		Lifecycle: v.Get("lifecycle"),
		Tag:       v.Get("tag"),
		Sort:      v.Get("sort"),
	}
	var err error
	if q.MLPSLevel, err = queryInt(r, "mlps_level", 0); err != nil {
		return asset.Query{}, err
	}
	if q.MinMLPS, err = queryInt(r, "mlps_min", 0); err != nil {
		return asset.Query{}, err
	}
	if q.OrgID, err = queryID(r, "org_id"); err != nil {
		return asset.Query{}, err
	}
	return q, nil
}

// queryID reads an optional positive identifier from the query string (0 when absent).
func queryID(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, problem.Invalid(name, "%s must be a positive integer", name).WithMsg("error.msg.positive_integer")
	}
	return id, nil
}

// queryBool reads an optional boolean query parameter (1/true/yes/on or 0/false/no/off).
func queryBool(r *http.Request, name string) (bool, error) {
	return parseBool(name, r.URL.Query().Get(name))
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, problem.Invalid(name, "%s must be true or false", name).WithMsg("error.msg.bool")
}

func (s *Server) apiAssetList(w http.ResponseWriter, r *http.Request) error {
	q, err := parseAssetQuery(r)
	if err != nil {
		return err
	}
	p, err := pageParams(r, paging.Spec{Default: asset.DefaultPerPage, Max: asset.MaxPerPage})
	if err != nil {
		return err
	}
	q.Page, q.PerPage, q.Offset = 1, p.Limit, p.Offset
	pg, err := s.Assets.List(r.Context(), principalFrom(r.Context()).actor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, pg.Items, pg.Total))
}

func (s *Server) apiAssetCreate(w http.ResponseWriter, r *http.Request) error {
	// The body is every editable field of an asset and, for PUT, the version the client
	// last read (0 skips the check).
	var in asset.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	x, err := s.Assets.Create(r.Context(), principalFrom(r.Context()).actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/assets/"+strconv.FormatInt(x.ID, 10))
	return writeJSON(w, http.StatusCreated, x)
}

func (s *Server) apiAssetGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	x, err := s.Assets.Get(r.Context(), principalFrom(r.Context()).actor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, x)
}

func (s *Server) apiAssetUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// The body is every editable field of an asset and, for PUT, the version the client
	// last read (0 skips the check).
	var in asset.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	x, err := s.Assets.Update(r.Context(), principalFrom(r.Context()).actor(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, x)
}

func (s *Server) apiAssetDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Assets.Delete(r.Context(), principalFrom(r.Context()).actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAssetRetire(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// The body is optional: an empty body retires the asset today.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return problem.Invalid("", "could not read the request body").WithCode("bad_json").WithMsg("error.msg.body_unreadable")
	}
	var req retireRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeJSONFrom(bytes.NewReader(body), &req); err != nil {
			return err
		}
	}
	x, err := s.Assets.Retire(r.Context(), principalFrom(r.Context()).actor(r), id, req.On)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, x)
}

func (s *Server) apiAssetImport(w http.ResponseWriter, r *http.Request) error {
	dry, err := queryBool(r, "dry_run")
	if err != nil {
		return err
	}
	upd, err := queryBool(r, "update")
	if err != nil {
		return err
	}
	org, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	file, closeFile, err := importFile(w, r)
	if err != nil {
		return err
	}
	defer closeFile()
	rep, err := s.runImport(r, file, asset.ImportOptions{DefaultOrgID: org, DryRun: dry, Update: upd})
	if err != nil {
		return err
	}
	if rep.Errors == nil {
		rep.Errors = []asset.RowError{}
	}
	return writeJSON(w, http.StatusOK, rep)
}

// importFile returns the uploaded CSV: the request body itself, or the multipart field
// "file". The returned func releases it.
func importFile(w http.ResponseWriter, r *http.Request) (io.Reader, func(), error) {
	nothing := func() {}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return http.MaxBytesReader(w, r.Body, maxImportBody), nothing, nil
	}
	if r.MultipartForm == nil {
		// Room for the other form fields on top of the file.
		r.Body = http.MaxBytesReader(w, r.Body, maxImportBody+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, nothing, errFileTooLarge()
			}
			return nil, nothing, problem.Invalid("file", "the upload is not a valid multipart form").WithCode("bad_upload")
		}
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return nil, nothing, problem.Invalid("file", "choose a CSV file to import").WithCode("file_required")
	}
	if hdr.Size > maxImportBody {
		f.Close()
		return nil, nothing, errFileTooLarge()
	}
	return f, func() { f.Close() }, nil
}

func errFileTooLarge() error {
	return problem.Invalid("file", "the file is larger than %d MiB", maxImportBody>>20).WithCode("file_too_large")
}

// runImport calls the asset import, reporting an oversized body as a problem whatever
// the importer made of the read error.
func (s *Server) runImport(r *http.Request, file io.Reader, opt asset.ImportOptions) (asset.ImportReport, error) {
	tr := &tooLargeReader{r: file}
	rep, err := s.Assets.Import(r.Context(), principalFrom(r.Context()).actor(r), tr, opt)
	if tr.tooLarge {
		return asset.ImportReport{}, errFileTooLarge()
	}
	return rep, err
}

// tooLargeReader remembers whether the reader under it hit its size limit.
type tooLargeReader struct {
	r        io.Reader
	tooLarge bool
}

func (t *tooLargeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) {
		t.tooLarge = true
	}
	return n, err
}

// apiAssetExport writes column names and stored codes: what scripts read.
func (s *Server) apiAssetExport(w http.ResponseWriter, r *http.Request) error {
	return s.exportAssets(w, r, "")
}

// exportAssets streams the assets matching the query string as a CSV attachment, with
// headers and values in lang ("" for column names and codes; see asset.Export). The
// download headers are only sent with the first byte, so that a refused query still
// gets an ordinary error response.
func (s *Server) exportAssets(w http.ResponseWriter, r *http.Request, lang string) error {
	q, err := parseAssetQuery(r)
	if err != nil {
		return err
	}
	cw := &csvDownload{w: w, name: "assets-" + time.Now().Format("20060102") + ".csv"}
	if err := s.Assets.Export(r.Context(), principalFrom(r.Context()).actor(r), cw, q, lang); err != nil {
		if !cw.started {
			return err
		}
		// Too late for an error response: log it and cut the download short.
		s.Logger.Error("asset export failed mid-stream", "err", err)
		return nil
	}
	if !cw.started {
		cw.start()
	}
	return nil
}

// csvDownload sets the download headers when the first byte is written.
type csvDownload struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (c *csvDownload) start() {
	h := c.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.name))
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	c.started = true
}

func (c *csvDownload) Write(p []byte) (int, error) {
	if !c.started {
		c.start()
	}
	return c.w.Write(p)
}
