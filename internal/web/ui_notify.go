package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/problem"
)

// notifyPage prepares a page of the notification settings, with sub the current entry of
// their own navigation.
func (s *Server) notifyPage(r *http.Request, w http.ResponseWriter, title, sub string) *page {
	p := s.newPage(r, w, title, "notify")
	p.Sub = sub
	return p
}

// MsgOf renders a stored message in the page's language (its key when the catalogue
// does not know it).
func (p *page) MsgOf(m i18n.Message) string { return p.Msg(&m, m.Key) }

// notifyTestWait is how long "send a test message" waits for the dispatcher's outcome
// before it shows the message as queued (the page shows the outcome as it stands on
// every reload).
const notifyTestWait = 5 * time.Second

// notifyTestOutcome names the outbox row of a test message (kept for the page the
// browser is sent to after the POST).
type notifyTestOutcome struct {
	ChannelID int64
	OutboxID  int64
}

// testResult is the outcome of a test message as the channel page shows it.
type testResult struct {
	ChannelID int64
	Channel   string
	State     string // sent, failed, queued
	Error     string // why it failed
	Next      *time.Time
	Key       string
}

// channelRow is one channel of the list with its latest delivery.
type channelRow struct {
	notify.Channel
	OrgName string
	Last    *notify.Delivery
}

// notifyChannelsData is what notify_channels.html shows.
type notifyChannelsData struct {
	Rows  []channelRow
	Orgs  []orgOption
	Kinds []string
	Forms []channelForm
	Langs []string
	Test  *testResult
}

// channelForm is the add form of one kind of channel; the form that failed is open and
// keeps what was typed (never the secret).
type channelForm struct {
	Kind   string
	In     notify.ChannelInput
	Failed bool
	Secret string // "required", "optional" or "" (the kind has none)
	Host   string // SMTP
	Port   string
}

// channelSecrets says whether each kind's form asks for a secret.
var channelSecrets = map[string]string{
	channel.KindWebhook:  "optional",
	channel.KindSMTP:     "optional",
	channel.KindDingTalk: "optional",
	channel.KindFeishu:   "optional",
	channel.KindWeCom:    "",
}

func (s *Server) uiNotifyChannels(w http.ResponseWriter, r *http.Request) error {
	return s.showNotifyChannels(w, r, notify.ChannelInput{}, nil)
}

func (s *Server) showNotifyChannels(w http.ResponseWriter, r *http.Request, in notify.ChannelInput, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.notifyPage(r, w, "notify.channels.title", "channels")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	cs, err := s.Notify.Channels(ctx, a)
	if err != nil {
		return err
	}
	last, err := s.Notify.LastDeliveries(ctx, a)
	if err != nil {
		return err
	}
	orgs, err := s.orgOptions(ctx, a)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, o := range orgs {
		names[o.ID] = strings.TrimLeft(o.Label, "\u3000")
	}
	d := notifyChannelsData{Orgs: orgs, Kinds: channel.Kinds(), Langs: i18n.Languages}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(ctx).User.OrgID
	}
	for _, k := range channel.Kinds() {
		f := channelForm{Kind: k, Secret: channelSecrets[k], In: notify.ChannelInput{OrgID: in.OrgID, Kind: k, Lang: p.Lang, StartTLS: true}, Port: "587"}
		if k == in.Kind && formErr != nil {
			f.In, f.Failed = in, true
			if u, err := url.Parse(in.URL); err == nil && k == channel.KindSMTP {
				f.Host, f.Port = u.Hostname(), u.Port()
			}
		}
		d.Forms = append(d.Forms, f)
	}
	for _, c := range cs {
		row := channelRow{Channel: c, OrgName: names[c.OrgID]}
		if l, ok := last[c.ID]; ok {
			row.Last = &l
		}
		d.Rows = append(d.Rows, row)
	}
	if o, ok := outcomeOf[notifyTestOutcome](s, r); ok {
		if c, err := s.Notify.Channel(ctx, a, o.ChannelID); err == nil {
			res, err := s.testResult(ctx, o)
			if err != nil {
				return err
			}
			res.Channel = c.Name
			d.Test = &res
		}
	}
	p.Data = d
	return s.render(w, code, "notify_channels.html", p)
}

// testResult reads how the test message o stands.
func (s *Server) testResult(ctx context.Context, o notifyTestOutcome) (testResult, error) {
	res := testResult{ChannelID: o.ChannelID, State: "queued"}
	d, ok, err := s.Notify.DeliveryOfOutbox(ctx, o.OutboxID)
	if err != nil || !ok {
		return res, err
	}
	res.Key = d.Key
	switch {
	case d.State == notify.StateSent:
		res.State = "sent"
	case d.State == notify.StateDead:
		res.State, res.Error = "failed", d.LastError
	case d.Attempts > 0:
		res.State, res.Error = "failed", d.LastError
		next := d.NextAttemptAt
		res.Next = &next
	}
	return res, nil
}

// splitAddresses reads e-mail addresses separated by commas, semicolons or line breaks.
func splitAddresses(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' })
}

func (s *Server) uiNotifyChannelCreate(w http.ResponseWriter, r *http.Request) error {
	v := r.PostFormValue
	in := notify.ChannelInput{Name: v("name"), Kind: v("kind"), Lang: v("lang"), Secret: v("secret")}
	orgID, err := formID(r, "org_id")
	in.OrgID = orgID
	if err == nil && in.Kind == channel.KindSMTP {
		// The e-mail form asks for host and port; the service keeps an smtp:// URL
		// (smtps:// for implicit TLS, which port 465 means).
		host, port := strings.TrimSpace(v("smtp_host")), strings.TrimSpace(v("smtp_port"))
		scheme := "smtp"
		if port == "465" {
			scheme = "smtps"
		}
		if host != "" {
			in.URL = scheme + "://" + host
			if port != "" {
				in.URL += ":" + port
			}
		}
		in.Username, in.From, in.To = strings.TrimSpace(v("smtp_username")), strings.TrimSpace(v("smtp_from")), splitAddresses(v("smtp_to"))
		in.StartTLS, err = parseBool("smtp_starttls", v("smtp_starttls"))
		in.Secret = v("smtp_password")
	} else {
		in.URL = strings.TrimSpace(v("url"))
	}
	if err == nil {
		if _, err = s.Notify.AddChannel(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, "/notify/channels?flash=flash.notify_channel_added")
		}
	}
	in.Secret = "" // never shown back
	if pe, ok := problem.As(err); ok && pe.Field == "url" && in.Kind == channel.KindSMTP {
		pe.Field = "smtp_host"
	}
	return s.showNotifyChannels(w, r, in, err)
}

func (s *Server) uiNotifyChannelTest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.Notify.Channel(ctx, reqActor(r), id)
	if err != nil {
		return err
	}
	outbox, err := s.Notify.EnqueueTest(ctx, c)
	if err != nil {
		return err
	}
	o := notifyTestOutcome{ChannelID: c.ID, OutboxID: outbox}
	// Wait a little for the dispatcher (this process's or another node's), so that the
	// page usually shows the outcome rather than "queued"; with no dispatcher running,
	// the message is shown queued at once.
	running, err := s.Notify.Dispatching(ctx)
	if err != nil {
		return err
	}
	if !running {
		return redirect(w, r, "/notify/channels?"+s.keepOutcome(r, o)+"#test-result")
	}
	wait, cancel := context.WithTimeout(ctx, notifyTestWait)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
wait:
	for {
		res, err := s.testResult(ctx, o)
		if err != nil {
			return err
		}
		if res.State != "queued" {
			break
		}
		select {
		case <-wait.Done():
			break wait
		case <-t.C:
		}
	}
	return redirect(w, r, "/notify/channels?"+s.keepOutcome(r, o)+"#test-result")
}

// routeRow is one route of the list, with its receivers named.
type routeRow struct {
	notify.Route
	OrgName, Channel, User, Escalate string
}

// notifyRoutesData is what notify_routes.html shows.
type notifyRoutesData struct {
	Rows       []routeRow
	Orgs       []orgOption
	Channels   []notify.Channel
	Users      []auth.User
	Roles      []string
	Sources    []string
	Severities []string
	In         notify.Route
	QuietFrom  string
	QuietTo    string
	Failed     bool
}

// alertSources are the modules that raise alerts, for the route form.
var alertSources = []string{"supply", "dlp"}

// clockText writes minutes after midnight as HH:MM ("" for none).
func clockText(m int) string {
	if m < 0 {
		return ""
	}
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// QuietText shows a route's quiet hours ("" for none).
func (r routeRow) QuietText() string {
	if r.QuietStart < 0 || r.QuietStart == r.QuietEnd {
		return ""
	}
	return clockText(r.QuietStart) + "–" + clockText(r.QuietEnd)
}

// parseClock reads HH:MM as minutes after midnight; "" is -1 (none).
func parseClock(name, v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1, nil
	}
	t, err := time.Parse("15:04", v)
	if err != nil {
		return -1, problem.Invalid(name, "write the time as HH:MM").WithMsg("notify.error.clock")
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (s *Server) uiNotifyRoutes(w http.ResponseWriter, r *http.Request) error {
	return s.showNotifyRoutes(w, r, notify.Route{Subtree: true, TimeZone: "Asia/Shanghai", QuietStart: -1, QuietEnd: -1}, nil)
}

func (s *Server) showNotifyRoutes(w http.ResponseWriter, r *http.Request, in notify.Route, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.notifyPage(r, w, "notify.routes.title", "routes")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	routes, err := s.Notify.Routes(ctx, a)
	if err != nil {
		return err
	}
	cs, err := s.Notify.Channels(ctx, a)
	if err != nil {
		return err
	}
	orgs, err := s.orgOptions(ctx, a)
	if err != nil {
		return err
	}
	// Users are named (and offered as receivers) to those who may read them.
	var users []auth.User
	if auth.Allowed(principalFrom(ctx).User.Role, auth.PermUserRead) {
		if users, _, err = s.Auth.Users(ctx, a, auth.UserQuery{Page: 1, PerPage: 500}); err != nil {
			return err
		}
	}
	orgNames, chanNames, userNames := map[int64]string{}, map[int64]string{}, map[int64]string{}
	for _, o := range orgs {
		orgNames[o.ID] = strings.TrimLeft(o.Label, "\u3000")
	}
	for _, c := range cs {
		chanNames[c.ID] = c.Name
	}
	for _, u := range users {
		userNames[u.ID] = u.Username
	}
	d := notifyRoutesData{Orgs: orgs, Channels: cs, Users: users, Roles: auth.Roles, Sources: alertSources,
		Severities: notify.Severities, In: in, QuietFrom: clockText(in.QuietStart), QuietTo: clockText(in.QuietEnd), Failed: formErr != nil}
	if d.In.OrgID == 0 {
		d.In.OrgID = principalFrom(ctx).User.OrgID
	}
	for _, rt := range routes {
		d.Rows = append(d.Rows, routeRow{Route: rt, OrgName: orgNames[rt.OrgID], Channel: chanNames[rt.ChannelID],
			User: userNames[rt.UserID], Escalate: chanNames[rt.EscalateChannelID]})
	}
	p.Data = d
	return s.render(w, code, "notify_routes.html", p)
}

func (s *Server) uiNotifyRouteCreate(w http.ResponseWriter, r *http.Request) error {
	v := r.PostFormValue
	in := notify.Route{Role: v("role"), Source: v("source"), Kind: strings.TrimSpace(v("kind")), MinSeverity: v("min_severity"),
		TimeZone: strings.TrimSpace(v("time_zone"))}
	var err error
	ids := []struct {
		name string
		dst  *int64
	}{{"org_id", &in.OrgID}, {"channel_id", &in.ChannelID}, {"user_id", &in.UserID}, {"escalate_channel_id", &in.EscalateChannelID}}
	for _, f := range ids {
		if err == nil {
			*f.dst, err = formID(r, f.name)
		}
	}
	if err == nil {
		in.Subtree, err = parseBool("subtree", v("subtree"))
	}
	if err == nil {
		in.QuietStart, err = parseClock("quiet_start", v("quiet_start"))
	}
	if err == nil {
		in.QuietEnd, err = parseClock("quiet_end", v("quiet_end"))
	}
	if err == nil && (in.QuietStart < 0) != (in.QuietEnd < 0) {
		err = problem.Invalid("quiet_end", "quiet hours need a start and an end").WithMsg("notify.error.quiet_both")
	}
	if err == nil && strings.TrimSpace(v("escalate_minutes")) != "" {
		in.EscalateMinutes, err = strconv.Atoi(strings.TrimSpace(v("escalate_minutes")))
		if err != nil || in.EscalateMinutes < 0 {
			err = problem.Invalid("escalate_minutes", "the minutes must be a whole number").WithMsg("notify.error.minutes")
		}
	}
	if err == nil {
		if _, err = s.Notify.AddRoute(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, "/notify/routes?flash=flash.notify_route_added")
		}
	}
	return s.showNotifyRoutes(w, r, in, err)
}

// notifyDeliveriesData is what notify_deliveries.html shows.
type notifyDeliveriesData struct {
	pager
	Items  []notify.Delivery
	State  string
	States []string
}

// deliveriesShown is how many of the latest deliveries the page pages through.
const deliveriesShown = 1000

func (s *Server) uiNotifyDeliveries(w http.ResponseWriter, r *http.Request) error {
	state := r.URL.Query().Get("state")
	states := []string{notify.StatePending, notify.StateSent, notify.StateDead}
	if state != "" && !slices.Contains(states, state) {
		return problem.OneOf("state", states...)
	}
	page, err := queryInt(r, "page", 1)
	if err != nil {
		return err
	}
	page = max(page, 1)
	all, err := s.Notify.Deliveries(r.Context(), reqActor(r), state, deliveriesShown)
	if err != nil {
		return err
	}
	const per = 50
	lo := min((page-1)*per, len(all))
	hi := min(lo+per, len(all))
	p := s.notifyPage(r, w, "notify.deliveries.title", "deliveries")
	p.Data = notifyDeliveriesData{pager: newPager(page, per, len(all)), Items: all[lo:hi], State: state, States: states}
	return s.render(w, http.StatusOK, "notify_deliveries.html", p)
}

func (s *Server) uiNotifyResend(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Notify.Resend(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/notify/deliveries?state=pending&flash=flash.notify_resent")
}

// inboxShown is how many of a user's latest notifications the inbox pages through.
const inboxShown = 1000

// notifyInboxData is what notify_inbox.html shows.
type notifyInboxData struct {
	pager
	Items      []notify.InboxItem
	Unread     int
	Subs       []notify.Subscription
	Sources    []string
	Severities []string
}

func (s *Server) uiNotifyInbox(w http.ResponseWriter, r *http.Request) error {
	page, err := queryInt(r, "page", 1)
	if err != nil {
		return err
	}
	page = max(page, 1)
	all, err := s.Notify.Inbox(r.Context(), principalFrom(r.Context()).User.ID, inboxShown)
	if err != nil {
		return err
	}
	const per = 50
	lo := min((page-1)*per, len(all))
	hi := min(lo+per, len(all))
	subs, err := s.Notify.Subscriptions(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "notify.inbox.title", "inbox")
	p.Data = notifyInboxData{pager: newPager(page, per, len(all)), Items: all[lo:hi], Unread: p.Unread,
		Subs: subs, Sources: alertSources, Severities: notify.Severities}
	return s.render(w, http.StatusOK, "notify_inbox.html", p)
}

func (s *Server) uiNotifyInboxRead(w http.ResponseWriter, r *http.Request) error {
	var ids []int64
	if v := strings.TrimSpace(r.PostFormValue("id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return problem.Invalid("id", "the notification is not valid").WithMsg("notify.error.item")
		}
		ids = append(ids, id)
	}
	if err := s.Notify.MarkRead(r.Context(), principalFrom(r.Context()).User.ID, ids...); err != nil {
		return err
	}
	return redirect(w, r, "/notify/inbox")
}

func (s *Server) uiNotifySubscribe(w http.ResponseWriter, r *http.Request) error {
	v := r.PostFormValue
	source := v("source")
	if source != "" && !slices.Contains(alertSources, source) {
		return problem.OneOf("source", alertSources...)
	}
	in := notify.SubscriptionInput{Source: source, Kind: v("kind"), MinSeverity: v("min_severity")}
	if _, err := s.Notify.Subscribe(r.Context(), reqActor(r), in); err != nil {
		return err
	}
	return redirect(w, r, "/notify/inbox?flash=flash.notify_subscribed")
}

func (s *Server) uiNotifyUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Notify.Unsubscribe(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/notify/inbox?flash=flash.notify_unsubscribed")
}

func (s *Server) uiNotifyRouteRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Notify.RemoveRoute(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/notify/routes?flash=flash.notify_route_removed")
}

func (s *Server) uiNotifyChannelDisable(w http.ResponseWriter, r *http.Request) error {
	return s.uiNotifyChannelSet(w, r, false)
}

func (s *Server) uiNotifyChannelEnable(w http.ResponseWriter, r *http.Request) error {
	return s.uiNotifyChannelSet(w, r, true)
}

func (s *Server) uiNotifyChannelSet(w http.ResponseWriter, r *http.Request, enabled bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Notify.SetChannelEnabled(r.Context(), reqActor(r), id, enabled); err != nil {
		return err
	}
	if enabled {
		return redirect(w, r, "/notify/channels?flash=flash.notify_channel_enabled")
	}
	return redirect(w, r, "/notify/channels?flash=flash.notify_channel_disabled")
}
