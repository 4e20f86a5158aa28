package channel

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// The headers of a webhook delivery.
const (
	HeaderDelivery  = "X-Medguard-Delivery"  // the delivery's idempotency key
	HeaderTimestamp = "X-Medguard-Timestamp" // Unix seconds of this attempt
	HeaderSignature = "X-Medguard-Signature" // sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
)

func init() { register(KindWebhook, newWebhook) }

// webhook POSTs a message as JSON to a URL, signed with the channel's secret.
type webhook struct {
	url    string
	secret []byte
	opt    Options
}

// WebhookBody is the JSON body of a webhook delivery.
type WebhookBody struct {
	Alerts []Alert `json:"alerts"`
	Test   bool    `json:"test"`
}

// CheckURL checks that raw is an absolute http or https URL with a host, as webhook and
// robot senders need; the error does not quote the URL (it may carry a robot's token).
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("channel: a URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("channel: the URL does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("channel: the URL must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("channel: the URL has no host")
	}
	if u.User != nil {
		return errors.New("channel: the URL must not carry a user or password")
	}
	return nil
}

func newWebhook(cfg Config, opt Options) (Sender, error) {
	if err := CheckURL(cfg.URL); err != nil {
		return nil, err
	}
	return &webhook{url: cfg.URL, secret: []byte(cfg.Secret), opt: opt}, nil
}

// Sign returns the value of X-Medguard-Signature for a body sent at Unix time ts.
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send POSTs the message. A 2xx answer is success; a 4xx other than 408 and 429 is a
// PermanentError (the receiver refuses this message, another attempt cannot help);
// everything else (network errors, 408, 429, 5xx) may succeed when tried again.
func (w *webhook) Send(ctx context.Context, m Message) error {
	alerts := m.Alerts
	if alerts == nil {
		alerts = []Alert{}
	}
	body, err := json.Marshal(WebhookBody{Alerts: alerts, Test: m.Test})
	if err != nil {
		return Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	ts := strconv.FormatInt(w.opt.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("webhook: the URL is not usable"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "medguard-notify")
	req.Header.Set(HeaderDelivery, m.Key)
	req.Header.Set(HeaderTimestamp, ts)
	if len(w.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	}
	resp, err := w.opt.client().Do(req)
	if err != nil {
		// Do's error quotes the URL, which may hold a token: keep only what happened.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
		return Permanent(fmt.Errorf("webhook: the receiver answered %s", resp.Status))
	default:
		return fmt.Errorf("webhook: the receiver answered %s", resp.Status)
	}
}
