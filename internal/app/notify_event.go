package app

import (
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
)

// notifyEvent is what the outbox needs of a raised alert: its masked subject, never the
// patient identifier or a raw value.
func notifyEvent(al alert.Alert, created bool) notify.Event {
	title := i18n.M("alert.title.text", al.Title)
	if al.TitleMsg != nil {
		title = *al.TitleMsg
	}
	return notify.Event{
		AlertID: al.ID, OrgID: al.OrgID, Source: al.Source, Kind: al.Kind, Severity: al.Severity,
		Title: title, Subject: al.Subject, Silenced: al.SilenceID != 0,
		Created: created, PrevSeverity: al.PrevSeverity,
		FirstSeen: al.FirstSeen, LastSeen: al.LastSeen, Count: int(al.Count),
	}
}
