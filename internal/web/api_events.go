package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// maxEventsBody bounds the body of POST /api/v1/events: room for well over 10,000
// events with their raw originals.
const maxEventsBody = 64 << 20

// defaultIngests is how many POST /api/v1/events requests are decoded and stored at
// once when Deps.EventIngests is 0; one more is answered 429.
const defaultIngests = 4

// ingestRetryAfter is the Retry-After (seconds) of an ingest refused under load.
const ingestRetryAfter = 1

// apiEventsIngest stores a batch of audit events of a hospital system: a JSON array or
// NDJSON (one event a line), for the caller's organisation or ?org_id= in its subtree.
// It answers after the batch is committed, with how many events were accepted, dropped
// as duplicates and rejected (by index, field and reason). A body that is not JSON stores
// nothing and is answered 400 with the line and index at fault. When as many batches as
// the server takes at once are being stored, it answers 429 with Retry-After, never
// dropping events silently.
func (s *Server) apiEventsIngest(w http.ResponseWriter, r *http.Request) error {
	if s.Events == nil {
		return errors.New("web: no event store")
	}
	select {
	case s.ingests <- struct{}{}:
		defer func() { <-s.ingests }()
	default:
		w.Header().Set("Retry-After", strconv.Itoa(ingestRetryAfter))
		return problem.TooMany("the server is storing as many event batches as it takes at once; retry shortly").
			WithCode("ingest_busy").WithMsg("error.msg.ingest_busy")
	}
	orgID, err := orgParam(r)
	if err != nil {
		return err
	}
	if _, err := org.Visible(r.Context(), s.DB, reqActor(r), orgID); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, maxEventsBody)
	evs, err := events.DecodeJSON(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.Invalid("", "request body is larger than %d bytes", maxEventsBody).WithCode("body_too_large").
				WithMsg("error.msg.body_too_large", maxEventsBody)
		}
		var de *events.DecodeError
		if errors.As(err, &de) {
			return problem.Invalid("", "%s", de.Error()).WithCode("bad_json").WithMsg("error.msg.bad_json", de.Error()).WithErr(err)
		}
		return err
	}
	res, err := s.Events.Append(r.Context(), orgID, evs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}
