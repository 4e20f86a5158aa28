// Package alertnotify joins the alert inbox to the notification outbox: every raised
// alert writes its notifications in the transaction that raises it, and the dispatcher
// asks the inbox whether a critical alert was acknowledged before it escalates. It is the
// one place that knows both packages, so that neither imports the other.
package alertnotify

import (
	"context"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/store"
)

// Wire makes alerts raised through as write their notifications to n's outbox, and n ask
// as about acknowledgements.
func Wire(as *alert.Service, n *notify.Service) {
	as.OnRaise(func(ctx context.Context, tx *store.Tx, al alert.Alert, created bool) error {
		return n.Enqueue(ctx, tx, Event(al, created))
	})
	n.SetAcknowledger(as)
}

// Event is what the outbox needs of a raised alert: its masked subject, never the
// patient identifier or a raw value.
func Event(al alert.Alert, created bool) notify.Event {
	title := i18n.M("alert.title.text", al.Title)
	if al.TitleMsg != nil {
		title = *al.TitleMsg
	}
	return notify.Event{
		AlertID: al.ID, OrgID: al.OrgID, Source: al.Source, Kind: al.Kind, Severity: al.Severity,
		Title: title, Subject: al.Subject, Silenced: al.Silenced(),
		Created: created, PrevSeverity: al.PrevSeverity,
		FirstSeen: al.FirstSeen, LastSeen: al.LastSeen, Count: int(al.Count),
	}
}
