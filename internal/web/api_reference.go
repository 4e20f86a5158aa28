package web

import (
	"bytes"
	"net/http"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/reference"
)

// maxReferenceBody is the largest reference CSV the API accepts; a larger file is
// imported with `medguard reference import`.
const maxReferenceBody = 64 << 20

// apiReferenceImport imports the CSV body as reference data of the kind the path names.
func (s *Server) apiReferenceImport(w http.ResponseWriter, r *http.Request) error {
	kind := r.PathValue("kind")
	if _, ok := reference.Columns[kind]; !ok {
		return problem.NotFound("reference kind")
	}
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	data, err := readLimited(http.MaxBytesReader(w, r.Body, maxReferenceBody+1), "file", "file_too_large", maxReferenceBody)
	if err != nil {
		return err
	}
	rep, err := s.Reference.Import(r.Context(), reqActor(r), org, kind, bytes.NewReader(data))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// apiReferenceSummary counts an organisation's reference data.
func (s *Server) apiReferenceSummary(w http.ResponseWriter, r *http.Request) error {
	org, err := orgParam(r)
	if err != nil {
		return err
	}
	sum, err := s.Reference.Summary(r.Context(), reqActor(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sum)
}
