package web

import (
	"net/http"
	"slices"

	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// notifyChannelRequest is a new notification channel; the secret is write-only.
type notifyChannelRequest struct {
	OrgID    int64    `json:"org_id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	URL      string   `json:"url"`
	Secret   string   `json:"secret"`
	Lang     string   `json:"lang"`
	Username string   `json:"smtp_username"`
	From     string   `json:"smtp_from"`
	To       []string `json:"smtp_to"`
	StartTLS *bool    `json:"smtp_starttls"`
}

// notifyTestResponse names the outbox row of a test message.
type notifyTestResponse struct {
	OutboxID int64 `json:"outbox_id"`
}

// inboxReadRequest lists the inbox items to mark read; none marks all.
type inboxReadRequest struct {
	IDs []int64 `json:"ids"`
}

func (s *Server) apiNotifyChannelList(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.Notify.Channels(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, cs)
}

func (s *Server) apiNotifyChannelCreate(w http.ResponseWriter, r *http.Request) error {
	var in notifyChannelRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	startTLS := in.StartTLS == nil || *in.StartTLS
	c, err := s.Notify.AddChannel(r.Context(), reqActor(r), notify.ChannelInput{OrgID: in.OrgID, Name: in.Name, Kind: in.Kind, URL: in.URL,
		Secret: in.Secret, Lang: in.Lang, Username: in.Username, From: in.From, To: in.To, StartTLS: startTLS})
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/notify/channels/", c.ID), c)
}

func (s *Server) apiNotifyChannelTest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Notify.Channel(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	outbox, err := s.Notify.EnqueueTest(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, notifyTestResponse{OutboxID: outbox})
}

func (s *Server) apiNotifyRouteList(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.Notify.Routes(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, rs)
}

func (s *Server) apiNotifyRouteCreate(w http.ResponseWriter, r *http.Request) error {
	var in notify.Route
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	in.ID = 0
	out, err := s.Notify.AddRoute(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/notify/routes/", out.ID), out)
}

func (s *Server) apiNotifyDeliveryList(w http.ResponseWriter, r *http.Request) error {
	state := r.URL.Query().Get("state")
	if state != "" && !slices.Contains([]string{notify.StatePending, notify.StateSent, notify.StateDead}, state) {
		return problem.OneOf("state", notify.StatePending, notify.StateSent, notify.StateDead)
	}
	ds, err := s.Notify.Deliveries(r.Context(), reqActor(r), state, 1000)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, ds)
}

func (s *Server) apiNotifyResend(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Notify.Resend(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiNotifyInbox(w http.ResponseWriter, r *http.Request) error {
	items, err := s.Notify.Inbox(r.Context(), principalFrom(r.Context()).User.ID, 1000)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, items)
}

func (s *Server) apiNotifyInboxRead(w http.ResponseWriter, r *http.Request) error {
	var in inboxReadRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Notify.MarkRead(r.Context(), principalFrom(r.Context()).User.ID, in.IDs...); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiNotifyRouteRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Notify.RemoveRoute(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiNotifyChannelDisable(w http.ResponseWriter, r *http.Request) error {
	return s.apiNotifyChannelSet(w, r, false)
}

func (s *Server) apiNotifyChannelEnable(w http.ResponseWriter, r *http.Request) error {
	return s.apiNotifyChannelSet(w, r, true)
}

func (s *Server) apiNotifyChannelSet(w http.ResponseWriter, r *http.Request, enabled bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Notify.SetChannelEnabled(r.Context(), reqActor(r), id, enabled)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiNotifySubscriptionList(w http.ResponseWriter, r *http.Request) error {
	subs, err := s.Notify.Subscriptions(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, subs)
}

func (s *Server) apiNotifySubscribe(w http.ResponseWriter, r *http.Request) error {
	var in notify.SubscriptionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Source != "" && !slices.Contains(alertSources, in.Source) {
		return problem.OneOf("source", alertSources...)
	}
	sub, err := s.Notify.Subscribe(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/notify/subscriptions/", sub.ID), sub)
}

func (s *Server) apiNotifyUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Notify.Unsubscribe(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
