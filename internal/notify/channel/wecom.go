package channel

import (
	"context"
	"fmt"
)

// WeCom (企业微信) group robot, as its vendor documents it ("群机器人配置说明",
// https://developer.work.weixin.qq.com/document/path/91770):
//   - POST JSON to the robot's webhook URL, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY;
//     the key in the URL is the only credential (there is no signature);
//   - body {"msgtype":"markdown","markdown":{"content":"…"}}; the markdown content is at
//     most 4096 bytes of UTF-8 (text content: 2048 bytes);
//   - at most 20 messages a minute per robot (LimitFor);
//   - reply {"errcode":0,"errmsg":"ok"}; 45009 is the API frequency limit (retry later),
//     -1 "system busy"; 93000 "invalid webhook url" means the key is wrong or the robot
//     was removed, and the 4xxxx parameter errors say the request itself is bad.

// wecomMarkdownMax is the most bytes of markdown content one WeCom message may hold.
const wecomMarkdownMax = 4096

var wecomCodes = vendorCodes{
	retry: map[int]bool{-1: true, 45009: true},
	permanent: map[int]bool{
		93000: true, // invalid webhook url: wrong key or robot removed
		40008: true, // invalid message type
		40058: true, // invalid parameter
		44004: true, // empty content
		45002: true, // content too long
	},
}

type wecom struct {
	url string
	opt Options
}

func init() { register(KindWeCom, newWeCom) }

func newWeCom(cfg Config, opt Options) (Sender, error) {
	u, err := robotURL(KindWeCom, cfg.URL)
	if err != nil {
		return nil, Permanent(err)
	}
	if u.Query().Get("key") == "" {
		return nil, Permanent(fmt.Errorf("channel: wecom: the robot URL has no key parameter"))
	}
	return &wecom{url: u.String(), opt: opt}, nil
}

// wecomBody is the robot's markdown message.
type wecomBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

func (s *wecom) body(m Message) ([]byte, error) {
	var b wecomBody
	b.MsgType = "markdown"
	b.Markdown.Content = render(m, formatMarkdown, wecomMarkdownMax).Body
	return encodeJSON(b)
}

// Send posts m to the robot.
func (s *wecom) Send(ctx context.Context, m Message) error {
	body, err := s.body(m)
	if err != nil {
		return Permanent(fmt.Errorf("channel: wecom: %w", err))
	}
	status, reply, err := postJSON(ctx, s.opt.client(), KindWeCom, s.url, body)
	if err != nil {
		return err
	}
	return wecomCodes.result(KindWeCom, status, reply)
}
