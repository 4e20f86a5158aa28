package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// E-mail over SMTP through github.com/wneessen/go-mail (MIT, maintained, no cgo): the
// URL says how to connect,
//   - smtp://host[:port]  plain SMTP (port 25 by default), upgraded with STARTTLS when the
//     server offers it; Config.StartTLS makes STARTTLS mandatory (the send fails when the
//     server does not offer it, instead of going on in clear text);
//   - smtps://host[:port] implicit TLS (port 465 by default).
//
// With Config.Username set the sender authenticates (password: Config.Secret), choosing
// the strongest mechanism the server offers (SCRAM, CRAM-MD5, PLAIN, LOGIN); PLAIN and
// LOGIN are used only over TLS, so a password never crosses the wire in clear.
//
// A reply code 5xx (bad credentials 535, recipient refused 550 …) is permanent; 4xx and
// connection failures are retried.

// smtpTimeout bounds one delivery when the context has no earlier deadline.
const smtpTimeout = 30 * time.Second

type smtpSender struct {
	host      string
	port      int
	implicit  bool
	startTLS  bool
	username  string
	password  string
	from      string
	to        []string
	tlsConfig *tls.Config
	opt       Options
}

func init() { register(KindSMTP, newSMTP) }

func newSMTP(cfg Config, opt Options) (Sender, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, Permanent(errors.New("channel: smtp: the URL must be smtp://host[:port] or smtps://host[:port]"))
	}
	if u.User != nil {
		return nil, Permanent(errors.New("channel: smtp: put the user name and password in their own fields, not in the URL"))
	}
	s := &smtpSender{
		host:     u.Hostname(),
		implicit: u.Scheme == "smtps",
		startTLS: cfg.StartTLS,
		username: cfg.Username,
		password: cfg.Secret,
		opt:      opt,
	}
	s.port = 25
	if s.implicit {
		s.port = 465
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, Permanent(errors.New("channel: smtp: the port is not a number from 1 to 65535"))
		}
		s.port = n
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, Permanent(errors.New("channel: smtp: the sender (From) is not an e-mail address"))
	}
	s.from = from.String()
	if len(cfg.To) == 0 {
		return nil, Permanent(errors.New("channel: smtp: no recipient (To)"))
	}
	for i, t := range cfg.To {
		a, err := netmail.ParseAddress(t)
		if err != nil {
			return nil, Permanent(fmt.Errorf("channel: smtp: recipient %d is not an e-mail address", i+1))
		}
		s.to = append(s.to, a.String())
	}
	s.tlsConfig = &tls.Config{
		ServerName:         s.host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // tests against a loopback server only
	}
	return s, nil
}

// message builds the e-mail: subject and bodies in the message's language, a plain-text
// body with an HTML alternative, and a Message-ID made from the delivery key, the same on
// every attempt so that a mail system can recognise a repeat.
func (s *smtpSender) message(m Message) (*mail.Msg, error) {
	c := render(m, formatText, 0)
	html, err := renderHTML(m)
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, errors.New("the sender address is not accepted")
	}
	to := s.to
	if len(m.To) > 0 {
		to = m.To
	}
	if err := msg.To(to...); err != nil {
		return nil, errors.New("a recipient address is not accepted")
	}
	msg.Subject(c.Title)
	msg.SetDateWithValue(s.opt.now())
	if id := messageIDPart(m.Key); id != "" {
		msg.SetMessageIDWithValue(id + "@medguard")
	} else {
		msg.SetMessageID()
	}
	msg.SetBulk()
	msg.SetBodyString(mail.TypeTextPlain, c.Body)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	return msg, nil
}

// messageIDPart keeps the characters of key a Message-ID may hold (RFC 5322 dot-atom).
func messageIDPart(key string) string {
	var b strings.Builder
	for _, r := range key {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+=", r)) {
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), ".")
}

// Send delivers m to every recipient in one SMTP transaction.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return Permanent(fmt.Errorf("channel: smtp: %w", err))
	}
	opts := []mail.Option{
		mail.WithTimeout(smtpTimeout),
		mail.WithTLSConfig(s.tlsConfig),
	}
	switch {
	case s.implicit:
		opts = append(opts, mail.WithSSL())
	case s.startTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if s.username != "" {
		opts = append(opts,
			mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.username),
			mail.WithPassword(s.password))
	}
	opts = append(opts, mail.WithPort(s.port))
	client, err := mail.NewClient(s.host, opts...)
	if err != nil {
		return Permanent(fmt.Errorf("channel: smtp: %w", err))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return smtpResult(err)
	}
	return nil
}

// smtpResult sorts a delivery error: a 5xx reply (RFC 5321 §4.2.1: permanent negative
// completion) cannot be cured by another attempt, anything else may.
func smtpResult(err error) error {
	err = fmt.Errorf("channel: smtp: %w", err)
	var se *mail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() {
			return err
		}
		return Permanent(err)
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code <= 599 {
		return Permanent(err)
	}
	return err
}

// mailHTML is the HTML alternative of an e-mail: the same listing as the plain text, with
// a link on every alert.
var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif">
<h2>{{.Title}}</h2>
{{if .Test}}<p>{{.TestBody}}</p>{{end}}
{{if .Alerts}}<ul>
{{range .Alerts}}<li><strong>[{{.Severity}}]</strong> #{{.ID}} {{.Title}}{{if .Org}} · {{.Org}}{{end}}{{if .Subject}} · {{.Subject}}{{end}}{{if .Count}} · {{.Count}}{{end}}{{if .URL}} — <a href="{{.URL}}">{{$.Open}}</a>{{end}}</li>
{{end}}</ul>{{end}}
<p style="color: #666">{{.Footer}}</p>
</body></html>
`))

// renderHTML writes m as the e-mail's HTML alternative (html/template escapes every
// value).
func renderHTML(m Message) (string, error) {
	lang := msgLang(m)
	cat := catalog()
	type row struct {
		ID                                 int64
		Severity, Title, Org, Subject, URL string
		Count                              string
	}
	data := struct {
		Lang, Title, TestBody, Open, Footer string
		Test                                bool
		Alerts                              []row
	}{
		Lang: lang, Title: subjectLine(m, lang, func(s string) string { return s }),
		TestBody: cat.T(lang, "notify.msg.test_body"), Open: cat.T(lang, "notify.msg.open"),
		Footer: cat.T(lang, "notify.msg.footer"), Test: m.Test,
	}
	for _, a := range m.Alerts {
		r := row{ID: a.ID, Severity: severityLabel(lang, a.Severity), Title: oneLine(a.Title),
			Org: oneLine(a.Org), Subject: oneLine(a.Subject), URL: safeURL(a.URL)}
		if a.Count > 1 {
			r.Count = cat.T(lang, "notify.msg.count", a.Count)
		}
		data.Alerts = append(data.Alerts, r)
	}
	var b strings.Builder
	if err := mailHTML.Execute(&b, data); err != nil {
		return "", fmt.Errorf("rendering the HTML body: %w", err)
	}
	return b.String(), nil
}
