package alert

import (
	"github.com/medguard/medguard/internal/i18n"
)

// titleArg is an alert's title as an argument of a trail summary: its catalogue message
// when it has one (so the summary reads in the reader's language), else its English text.
func titleArg(al Alert) any {
	if al.TitleMsg != nil {
		return *al.TitleMsg
	}
	return al.Title
}

// nobodyArg is an assignee as an argument of a trail summary.
func nobodyArg(u string) any {
	if u == "" {
		return i18n.M("trail.summary.alert.nobody")
	}
	return u
}

// msg says the change as a catalogue message: the status, its resolution, the expiry of an
// accepted risk and the reason, each when given.
func (c Change) msg() i18n.Message {
	m := i18n.M("alert.status." + c.Status)
	if c.Resolution != "" {
		m = i18n.M("trail.summary.alert.change_resolution", m, i18n.M("alert.resolution."+c.Resolution))
	}
	if c.AcceptedUntil != nil {
		m = i18n.M("trail.summary.alert.change_until", m, c.AcceptedUntil.Format("2006-01-02"))
	}
	if c.Reason != "" {
		m = i18n.M("trail.summary.alert.change_reason", m, c.Reason)
	}
	return m
}
