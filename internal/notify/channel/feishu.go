package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

// Feishu / Lark (飞书) custom bot, as its vendor documents it ("自定义机器人使用指南",
// https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, also
// https://open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN):
//   - POST JSON to https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN (Lark:
//     open.larksuite.com); the token is in the path;
//   - signature ("签名校验"): timestamp = now in seconds; sign = base64(HMAC-SHA256 keyed
//     with timestamp + "\n" + secret over an EMPTY message), sent in the JSON body as
//     "timestamp" (a string) and "sign"; the timestamp must be within one hour of the
//     bot's clock;
//   - body {"msg_type":"text","content":{"text":"…"}}, at most 20 KB per request;
//   - at most 100 requests a minute and 5 a second per bot (LimitFor);
//   - reply {"code":0,"msg":"success","data":{}}; 11232 is the rate limit ("frequency
//     limited"); 19021 "sign match fail or timestamp is not within one hour from current
//     time", 19022 IP not allowed, 19024 keyword missing, 9499 bad request.

// feishuTextMax bounds the text so that the whole request stays under the vendor's 20 KB
// (JSON escaping of newlines and quotes and the fields around the text fit in the rest).
const (
	feishuBodyMax = 20 << 10
	feishuTextMax = 18000
)

var feishuCodes = vendorCodes{
	retry: map[int]bool{11232: true},
	permanent: map[int]bool{
		19021: true, // signature mismatch or timestamp outside the one-hour window
		19022: true, // IP not allowed
		19024: true, // keyword missing
		9499:  true, // bad request
	},
}

type feishu struct {
	url    string
	secret string
	opt    Options
}

func init() { register(KindFeishu, newFeishu) }

func newFeishu(cfg Config, opt Options) (Sender, error) {
	u, err := robotURL(KindFeishu, cfg.URL)
	if err != nil {
		return nil, Permanent(err)
	}
	return &feishu{url: u.String(), secret: cfg.Secret, opt: opt}, nil
}

// feishuSign is the vendor's signature for timestamp (seconds): base64 of HMAC-SHA256
// keyed with timestamp + "\n" + secret over an empty message.
func feishuSign(timestamp int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// feishuBody is the bot's text message; Timestamp and Sign only when the bot signs.
type feishuBody struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Content   struct {
		Text string `json:"text"`
	} `json:"content"`
}

func (s *feishu) body(m Message, now time.Time) ([]byte, error) {
	var b feishuBody
	if s.secret != "" {
		ts := now.Unix()
		b.Timestamp = strconv.FormatInt(ts, 10)
		b.Sign = feishuSign(ts, s.secret)
	}
	b.MsgType = "text"
	b.Content.Text = render(m, formatText, feishuTextMax).Body
	return encodeJSON(b)
}

// Send posts m to the bot, signed with the current time.
func (s *feishu) Send(ctx context.Context, m Message) error {
	body, err := s.body(m, s.opt.now())
	if err != nil {
		return Permanent(fmt.Errorf("channel: feishu: %w", err))
	}
	status, reply, err := postJSON(ctx, s.opt.client(), KindFeishu, s.url, body)
	if err != nil {
		return err
	}
	return feishuCodes.result(KindFeishu, status, reply)
}
