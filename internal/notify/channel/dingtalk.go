package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// DingTalk (钉钉) custom robot, as its vendor documents it ("自定义机器人接入" and
// "自定义机器人安全设置", https://open.dingtalk.com/document/robots/custom-robot-access,
// https://open.dingtalk.com/document/robots/customize-robot-security-settings):
//   - POST JSON to https://oapi.dingtalk.com/robot/send?access_token=TOKEN, UTF-8;
//   - signing ("加签"): timestamp = now in milliseconds; string to sign = timestamp + "\n" +
//     secret; sign = URL-encode(base64(HMAC-SHA256(key = secret, string to sign)));
//     appended as &timestamp=…&sign=…; the robot rejects a timestamp more than one hour
//     from its own clock;
//   - body {"msgtype":"markdown","markdown":{"title":"…","text":"…"}}; the title is what
//     the notification preview shows;
//   - at most 20 messages a minute per robot, and a robot that sends more is throttled
//     for 10 minutes (LimitFor keeps below it; the vendor asks alerts to be merged into
//     one markdown summary, which is what the dispatcher's grouping does);
//   - reply {"errcode":0,"errmsg":"ok"}; 130101 "send too fast" and 410100 (throttled)
//     are the rate limit, -1 "system busy"; 310000 is a failed security check (keyword,
//     IP, signature or timestamp), 300001 / 400101 an unknown token, 400102 a disabled
//     robot, 430101–430104 content refused by the vendor's content security.
//
// The vendor publishes no byte limit for a markdown message; messages over about 20,000
// bytes are reported rejected, so medguard keeps the text under dingtalkMarkdownMax, far
// inside it.

const dingtalkMarkdownMax = 6000

var dingtalkCodes = vendorCodes{
	retry: map[int]bool{-1: true, 130101: true, 410100: true},
	permanent: map[int]bool{
		310000: true,                                           // security check failed: signature, timestamp, keyword or IP
		300001: true,                                           // token does not exist
		400101: true,                                           // access_token does not exist
		400102: true,                                           // robot disabled
		430101: true, 430102: true, 430103: true, 430104: true, // content refused
	},
}

type dingtalk struct {
	url    *url.URL
	secret string
	opt    Options
}

func init() { register(KindDingTalk, newDingTalk) }

func newDingTalk(cfg Config, opt Options) (Sender, error) {
	u, err := robotURL(KindDingTalk, cfg.URL)
	if err != nil {
		return nil, Permanent(err)
	}
	if u.Query().Get("access_token") == "" {
		return nil, Permanent(fmt.Errorf("channel: dingtalk: the robot URL has no access_token parameter"))
	}
	return &dingtalk{url: u, secret: cfg.Secret, opt: opt}, nil
}

// dingtalkSign is the vendor's signature of timestamp (milliseconds): base64 of
// HMAC-SHA256 keyed with the secret over timestamp + "\n" + secret (not yet URL-encoded).
func dingtalkSign(timestampMS int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedURL returns the robot URL with timestamp and sign appended when the robot has a
// signing secret; url.Values encodes the base64 signature ('+', '/', '=').
func (s *dingtalk) signedURL(now time.Time) string {
	u := *s.url
	if s.secret == "" {
		return u.String()
	}
	ts := now.UnixMilli()
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", dingtalkSign(ts, s.secret))
	u.RawQuery = q.Encode()
	return u.String()
}

// dingtalkBody is the robot's markdown message.
type dingtalkBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
}

func (s *dingtalk) body(m Message) ([]byte, error) {
	c := render(m, formatMarkdown, dingtalkMarkdownMax)
	var b dingtalkBody
	b.MsgType = "markdown"
	b.Markdown.Title = c.Title
	b.Markdown.Text = c.Body
	return encodeJSON(b)
}

// Send posts m to the robot, signed with the current time.
func (s *dingtalk) Send(ctx context.Context, m Message) error {
	body, err := s.body(m)
	if err != nil {
		return Permanent(fmt.Errorf("channel: dingtalk: %w", err))
	}
	status, reply, err := postJSON(ctx, s.opt.client(), KindDingTalk, s.signedURL(s.opt.now()), body)
	if err != nil {
		return err
	}
	return dingtalkCodes.result(KindDingTalk, status, reply)
}
