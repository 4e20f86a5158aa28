package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// This file holds what the three office-messenger robots (WeCom, DingTalk, Feishu) share:
// checking a robot URL, posting a JSON body, and reading the vendor's reply.

// robotURL checks a robot's webhook URL: absolute https with a host (plain http only to a
// loopback address, for a local relay or a test), since the URL itself carries the
// robot's key. The error never repeats the URL.
func robotURL(kind, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("channel: %s: the robot URL must be an absolute https URL", kind)
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			return u, nil
		}
		return nil, fmt.Errorf("channel: %s: the robot URL must use https (it carries the robot's key)", kind)
	}
	return nil, fmt.Errorf("channel: %s: the robot URL must be an absolute https URL", kind)
}

// encodeJSON marshals v without HTML escaping (<, > and & stay as written, so the
// message counts the bytes the vendor counts).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// maxReply bounds how much of a vendor's reply is read.
const maxReply = 64 << 10

// postJSON posts body to u and returns the HTTP status and the reply. A transport error
// is returned without the URL (net/http's *url.Error names it, and a robot URL carries
// the robot's key); it is retryable.
func postJSON(ctx context.Context, client *http.Client, kind, u string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, Permanent(fmt.Errorf("channel: %s: building the request failed", kind))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("channel: %s: %w", kind, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("channel: %s: reading the reply: %w", kind, err)
	}
	return resp.StatusCode, reply, nil
}

// reply is a robot's answer: WeCom and DingTalk send {"errcode": n, "errmsg": "…"},
// Feishu {"code": n, "msg": "…"} (older Feishu bots: {"StatusCode": n,
// "StatusMessage": "…"}). Code 0 is success.
type reply struct {
	Code int
	Msg  string
}

// parseReply reads a robot's JSON reply. It rejects a body that is not a JSON object or
// that holds no code, and never panics; the message is cut to 200 runes of valid UTF-8.
func parseReply(b []byte) (reply, error) {
	var raw struct {
		ErrCode       *json.Number `json:"errcode"`
		ErrMsg        string       `json:"errmsg"`
		Code          *json.Number `json:"code"`
		Msg           string       `json:"msg"`
		StatusCode    *json.Number `json:"StatusCode"`
		StatusMessage string       `json:"StatusMessage"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return reply{}, errors.New("the reply is not a JSON object")
	}
	var num *json.Number
	var msg string
	switch {
	case raw.ErrCode != nil:
		num, msg = raw.ErrCode, raw.ErrMsg
	case raw.Code != nil:
		num, msg = raw.Code, raw.Msg
	case raw.StatusCode != nil:
		num, msg = raw.StatusCode, raw.StatusMessage
	default:
		return reply{}, errors.New("the reply holds no error code")
	}
	code, err := num.Int64()
	if err != nil || code < -1<<31 || code > 1<<31-1 {
		return reply{}, errors.New("the reply's error code is not an integer")
	}
	return reply{Code: int(code), Msg: truncate(strings.ToValidUTF8(oneLine(msg), "\uFFFD"), 200)}, nil
}

// vendorCodes sorts a vendor's error codes: retry lists the codes another attempt can
// cure (rate limits, "system busy"), permanent those it cannot (bad key, bad signature,
// robot removed). A code in neither list is retried: the dispatcher's attempt limit and
// dead letters bound the cost, and an unknown code is not proof the robot is gone.
type vendorCodes struct {
	retry, permanent map[int]bool
}

// result turns a robot's HTTP status and reply into nil, a retryable error or a
// PermanentError.
func (vc vendorCodes) result(kind string, status int, body []byte) error {
	r, perr := parseReply(body)
	if perr == nil && r.Code != 0 {
		err := fmt.Errorf("channel: %s: the robot answered error code %d: %s", kind, r.Code, r.Msg)
		if vc.permanent[r.Code] && !vc.retry[r.Code] {
			return Permanent(err)
		}
		return err
	}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return fmt.Errorf("channel: %s: the robot answered HTTP %d", kind, status)
	case status < 200 || status > 299:
		return Permanent(fmt.Errorf("channel: %s: the robot answered HTTP %d", kind, status))
	case perr != nil:
		// HTTP 200 without the vendor's reply: a proxy or portal in the way, not the robot.
		return fmt.Errorf("channel: %s: %v", kind, perr)
	}
	return nil
}
