package web

import (
	"net/http"
)

// apiDashboard answers GET /api/v1/dashboard: one section per module (dashboardResponse,
// in openapi.go), only the asset inventory so far.
func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Assets.Stats(r.Context(), principalFrom(r.Context()).actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, dashboardResponse{Assets: st})
}
