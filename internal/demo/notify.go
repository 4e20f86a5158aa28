package demo

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/notify/channel"
)

// The notifications of the demo: the first hospital's security office has a WeCom group
// robot and an e-mail channel, and routes send its critical and high supply-chain and
// patient-data alerts to the robot and to the security officer's in-app inbox (the bell).
// They are seeded before the alerts are raised, so that the alerts reach them. The
// channels' addresses are on reserved names (.invalid, RFC 6761), so nothing leaves the
// machine: their deliveries show as failed and retried once a server dispatches, which is
// what a channel that cannot be reached looks like.

const (
	demoWeComName = "信息科安全值班群"
	demoMailName  = "信息科安全邮箱"
)

// seedNotify adds the demo's channels and routes unless the demo has channels already.
func seedNotify(ctx context.Context, d Deps) error {
	if d.Notify == nil {
		return nil
	}
	h1, a, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	if cs, err := d.Notify.Channels(ctx, actor.System()); err != nil || len(cs) > 0 {
		return err
	}
	wecom, err := d.Notify.AddChannel(ctx, a, notify.ChannelInput{OrgID: h1.ID, Name: demoWeComName, Kind: channel.KindWeCom,
		URL: "https://qyapi.weixin.demo.invalid/cgi-bin/webhook/send?key=demo-robot-key", Lang: i18n.ZhCN})
	if err != nil {
		return fmt.Errorf("demo: WeCom channel: %w", err)
	}
	mail, err := d.Notify.AddChannel(ctx, a, notify.ChannelInput{OrgID: h1.ID, Name: demoMailName, Kind: channel.KindSMTP,
		URL: "smtp://mail.hospital.demo.invalid:587", StartTLS: true, Username: "medguard", Secret: "demo-mail-password",
		From: "medguard@hospital.demo.invalid", To: []string{"security@hospital.demo.invalid"}, Lang: i18n.ZhCN})
	if err != nil {
		return fmt.Errorf("demo: e-mail channel: %w", err)
	}
	routes := []notify.Route{
		{ChannelID: wecom.ID, Source: "supply", MinSeverity: "high"},
		{ChannelID: wecom.ID, Source: "dlp", MinSeverity: "high"},
		{UserID: a.UserID, Source: "supply", MinSeverity: "high"},
		{UserID: a.UserID, Source: "dlp", MinSeverity: "high"},
		// Critical alerts by e-mail as well, outside quiet hours for the rest; a critical
		// alert not acknowledged within 30 minutes escalates to the duty group.
		{ChannelID: mail.ID, MinSeverity: "critical", QuietStart: 22 * 60, QuietEnd: 7 * 60, EscalateMinutes: 30, EscalateChannelID: wecom.ID},
	}
	for _, r := range routes {
		if r.UserID == 0 && r.ChannelID == 0 {
			continue // no security officer in this demo
		}
		r.OrgID, r.Subtree, r.TimeZone = h1.ID, true, "Asia/Shanghai"
		if r.QuietStart == 0 && r.QuietEnd == 0 {
			r.QuietStart, r.QuietEnd = -1, -1
		}
		if _, err := d.Notify.AddRoute(ctx, a, r); err != nil {
			return fmt.Errorf("demo: route: %w", err)
		}
	}
	return nil
}
