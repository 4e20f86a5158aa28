package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The loopback servers below check each request the way the vendor documents it (the
// comments at the top of wecom.go, dingtalk.go and feishu.go cite the documents), and
// answer with the vendor's own error codes. They compute signatures themselves, from the
// documented algorithm, not with the sender's functions.

// sampleAlerts returns n alerts with long titles, as the worst case for the size limits.
func sampleAlerts(n int) []Alert {
	sevs := []string{"critical", "high", "medium", "low", "info"}
	out := make([]Alert, n)
	for i := range out {
		id := int64(1000000 + i)
		out[i] = Alert{
			ID: id, Source: "supply", Kind: "new_vulnerability", Severity: sevs[i%len(sevs)],
			Status:  "new",
			Title:   fmt.Sprintf("组件 log4j-core 2.14.%d 存在严重漏洞 CVE-2021-44228（远程代码执行，JNDI 注入），影响 HIS 与 PACS 的多个接口服务", i),
			Org:     "华东区域 / 第一人民医院 / 信息科",
			Subject: "HIS-DB-01 · 患者 ID ****5678",
			URL:     fmt.Sprintf("https://medguard.example.org/alerts/%d", id),
			Count:   i%3 + 1,
		}
	}
	return out
}

var alertIDRe = regexp.MustCompile(`#(\d+)`)

// missingIDs returns the ids of alerts that text does not name as "#id".
func missingIDs(text string, alerts []Alert) []int64 {
	seen := map[string]bool{}
	for _, m := range alertIDRe.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	var out []int64
	for _, a := range alerts {
		if !seen[strconv.FormatInt(a.ID, 10)] {
			out = append(out, a.ID)
		}
	}
	return out
}

// robotServer is a loopback robot: check validates one request and returns the vendor's
// reply; every request body the check accepted is kept.
type robotServer struct {
	*httptest.Server
	mu       sync.Mutex
	accepted [][]byte
	replies  []string
}

func newRobotServer(t *testing.T, check func(r *http.Request, body []byte) (status int, reply string)) *robotServer {
	t.Helper()
	rs := &robotServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status, reply := check(r, body)
		rs.mu.Lock()
		rs.replies = append(rs.replies, reply)
		if status == http.StatusOK && strings.Contains(reply, `":0,`) {
			rs.accepted = append(rs.accepted, body)
		}
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *robotServer) acceptedBodies() [][]byte {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([][]byte(nil), rs.accepted...)
}

// strictJSON decodes b into v, refusing fields the vendor's message type does not have.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func testMessage(n int) Message {
	return Message{Key: "d-42", Lang: "zh-CN", Alerts: sampleAlerts(n)}
}

// ---- WeCom ----

func wecomCheck(key string) func(r *http.Request, body []byte) (int, string) {
	return func(r *http.Request, body []byte) (int, string) {
		if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" {
			return http.StatusNotFound, `{"errcode":404,"errmsg":"not found"}`
		}
		if r.URL.Query().Get("key") != key {
			return http.StatusOK, `{"errcode":93000,"errmsg":"invalid webhook url"}`
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return http.StatusOK, `{"errcode":40058,"errmsg":"invalid Request Parameter"}`
		}
		var m struct {
			MsgType  string `json:"msgtype"`
			Markdown *struct {
				Content string `json:"content"`
			} `json:"markdown"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "markdown" || m.Markdown == nil {
			return http.StatusOK, `{"errcode":40008,"errmsg":"invalid message type"}`
		}
		if m.Markdown.Content == "" {
			return http.StatusOK, `{"errcode":44004,"errmsg":"empty content"}`
		}
		if len(m.Markdown.Content) > 4096 {
			return http.StatusOK, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`
		}
		return http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
	}
}

func TestWeComSendsTheDocumentedMarkdownBody(t *testing.T) {
	t.Parallel()
	const key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	srv := newRobotServer(t, wecomCheck(key))
	s, err := New(Config{Kind: KindWeCom, URL: srv.URL + "/cgi-bin/webhook/send?key=" + key}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(100)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("send: %v (replies %v)", err, srv.replies)
	}
	got := srv.acceptedBodies()
	if len(got) != 1 {
		t.Fatalf("the robot accepted %d messages, want 1", len(got))
	}
	var body wecomBody
	if err := json.Unmarshal(got[0], &body); err != nil {
		t.Fatal(err)
	}
	if miss := missingIDs(body.Markdown.Content, m.Alerts); len(miss) > 0 {
		t.Errorf("alerts missing from the message: %v", miss)
	}
}

func TestWeComErrorCodes(t *testing.T) {
	t.Parallel()
	const key = "k1"
	srv := newRobotServer(t, wecomCheck(key))
	ctx := context.Background()

	bad, err := New(Config{Kind: KindWeCom, URL: srv.URL + "/cgi-bin/webhook/send?key=wrong"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Send(ctx, testMessage(1))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "93000") {
		t.Errorf("invalid key: got %v, want a permanent error naming 93000", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error repeats the robot key: %v", err)
	}

	limited := newRobotServer(t, func(*http.Request, []byte) (int, string) {
		return http.StatusOK, `{"errcode":45009,"errmsg":"api freq out of limit"}`
	})
	s, _ := New(Config{Kind: KindWeCom, URL: limited.URL + "/cgi-bin/webhook/send?key=" + key}, Options{})
	if err := s.Send(ctx, testMessage(1)); err == nil || IsPermanent(err) {
		t.Errorf("rate limit 45009: got %v, want a retryable error", err)
	}

	if _, err := New(Config{Kind: KindWeCom, URL: srv.URL + "/cgi-bin/webhook/send"}, Options{}); err == nil {
		t.Error("a robot URL without key was accepted")
	}
}

// ---- DingTalk ----

// dingtalkCheck verifies access_token, the signature (HMAC-SHA256 keyed with the secret
// over timestamp+"\n"+secret, base64, URL-encoded in the query) and the one-hour window
// against the server's own clock, then the markdown body.
func dingtalkCheck(token, secret string) func(r *http.Request, body []byte) (int, string) {
	return func(r *http.Request, body []byte) (int, string) {
		if r.Method != http.MethodPost || r.URL.Path != "/robot/send" {
			return http.StatusNotFound, `{"errcode":404,"errmsg":"请求的URI地址不存在"}`
		}
		q := r.URL.Query()
		if q.Get("access_token") != token {
			return http.StatusOK, `{"errcode":300001,"errmsg":"token is not exist"}`
		}
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil {
			return http.StatusOK, `{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}`
		}
		if d := time.Since(time.UnixMilli(ts)); d > time.Hour || d < -time.Hour {
			return http.StatusOK, `{"errcode":310000,"errmsg":"invalid timestamp"}`
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if q.Get("sign") != want {
			return http.StatusOK, `{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}`
		}
		var m struct {
			MsgType  string `json:"msgtype"`
			Markdown *struct {
				Title string `json:"title"`
				Text  string `json:"text"`
			} `json:"markdown"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "markdown" || m.Markdown == nil ||
			m.Markdown.Title == "" || m.Markdown.Text == "" {
			return http.StatusOK, `{"errcode":40035,"errmsg":"缺少参数 json"}`
		}
		if len(body) > 20000 {
			return http.StatusOK, `{"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}`
		}
		return http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
	}
}

func TestDingTalkSignatureAndTimestampWindow(t *testing.T) {
	t.Parallel()
	const token, secret = "b2f6c0ffee", "SEC0123456789abcdef+/=&?"
	srv := newRobotServer(t, dingtalkCheck(token, secret))
	robot := srv.URL + "/robot/send?access_token=" + token
	ctx := context.Background()

	s, err := New(Config{Kind: KindDingTalk, URL: robot, Secret: secret}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(100)
	if err := s.Send(ctx, m); err != nil {
		t.Fatalf("signed now: %v", err)
	}
	got := srv.acceptedBodies()
	if len(got) != 1 {
		t.Fatalf("accepted %d messages, want 1", len(got))
	}
	var body dingtalkBody
	if err := json.Unmarshal(got[0], &body); err != nil {
		t.Fatal(err)
	}
	if miss := missingIDs(body.Markdown.Text, m.Alerts); len(miss) > 0 {
		t.Errorf("alerts missing: %v", miss)
	}

	// Signed two hours ago: outside the vendor's one-hour window; 310000 is permanent.
	old, _ := New(Config{Kind: KindDingTalk, URL: robot, Secret: secret},
		Options{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	err = old.Send(ctx, testMessage(1))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "310000") {
		t.Errorf("signed 2 h ago: got %v, want a permanent 310000", err)
	}
	// 50 minutes off is inside the window.
	skew, _ := New(Config{Kind: KindDingTalk, URL: robot, Secret: secret},
		Options{Now: func() time.Time { return time.Now().Add(-50 * time.Minute) }})
	if err := skew.Send(ctx, testMessage(1)); err != nil {
		t.Errorf("signed 50 min ago: %v", err)
	}
	// A wrong secret.
	wrong, _ := New(Config{Kind: KindDingTalk, URL: robot, Secret: "other"}, Options{})
	if err := wrong.Send(ctx, testMessage(1)); err == nil || !IsPermanent(err) {
		t.Errorf("wrong secret: got %v, want permanent", err)
	}
	if n := len(srv.acceptedBodies()); n != 2 {
		t.Errorf("the robot accepted %d messages, want 2", n)
	}
}

func TestDingTalkRateLimitAndHTTPErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name      string
		status    int
		reply     string
		permanent bool
	}{
		{"send too fast", 200, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, false},
		{"throttled", 200, `{"errcode":410100,"errmsg":"发送速度太快而限流"}`, false},
		{"system busy", 200, `{"errcode":-1,"errmsg":"系统繁忙"}`, false},
		{"robot disabled", 200, `{"errcode":400102,"errmsg":"机器人已停用"}`, true},
		{"unknown code", 200, `{"errcode":777777,"errmsg":"?"}`, false},
		{"server error", 502, `<html>bad gateway</html>`, false},
		{"gone", 404, `not found`, true},
		{"portal", 200, `<html>login</html>`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRobotServer(t, func(*http.Request, []byte) (int, string) { return tc.status, tc.reply })
			s, _ := New(Config{Kind: KindDingTalk, URL: srv.URL + "/robot/send?access_token=t"}, Options{})
			err := s.Send(ctx, testMessage(1))
			if err == nil || IsPermanent(err) != tc.permanent {
				t.Errorf("got %v, want error with permanent=%v", err, tc.permanent)
			}
		})
	}
}

func TestRobotTransportErrorHidesTheKey(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	s, err := New(Config{Kind: KindDingTalk, URL: url + "/robot/send?access_token=SECRET-TOKEN"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testMessage(1))
	if err == nil || IsPermanent(err) {
		t.Fatalf("got %v, want a retryable transport error", err)
	}
	if strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Errorf("the error repeats the robot's token: %v", err)
	}
}

// ---- Feishu ----

// feishuCheck verifies the signature in the body (HMAC-SHA256 keyed with
// timestamp+"\n"+secret over an empty message, base64), the one-hour window, the text
// body and the 20 KB request limit.
func feishuCheck(secret string) func(r *http.Request, body []byte) (int, string) {
	const signFail = `{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`
	return func(r *http.Request, body []byte) (int, string) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/open-apis/bot/v2/hook/") {
			return http.StatusNotFound, `404 page not found`
		}
		if len(body) > 20<<10 {
			return http.StatusBadRequest, `{"code":9499,"data":{},"msg":"Bad Request"}`
		}
		var m struct {
			Timestamp string `json:"timestamp"`
			Sign      string `json:"sign"`
			MsgType   string `json:"msg_type"`
			Content   *struct {
				Text string `json:"text"`
			} `json:"content"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "text" || m.Content == nil || m.Content.Text == "" {
			return http.StatusBadRequest, `{"code":9499,"data":{},"msg":"Bad Request"}`
		}
		ts, err := strconv.ParseInt(m.Timestamp, 10, 64)
		if err != nil {
			return http.StatusOK, signFail
		}
		if d := time.Since(time.Unix(ts, 0)); d > time.Hour || d < -time.Hour {
			return http.StatusOK, signFail
		}
		mac := hmac.New(sha256.New, []byte(m.Timestamp+"\n"+secret))
		if m.Sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			return http.StatusOK, signFail
		}
		return http.StatusOK, `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`
	}
}

func TestFeishuSignatureInBodyAndTimestampWindow(t *testing.T) {
	t.Parallel()
	const secret = "dG9wc2VjcmV0"
	srv := newRobotServer(t, feishuCheck(secret))
	hook := srv.URL + "/open-apis/bot/v2/hook/0c6b7f1e-aaaa-bbbb-cccc-1234567890ab"
	ctx := context.Background()

	s, err := New(Config{Kind: KindFeishu, URL: hook, Secret: secret}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(100)
	if err := s.Send(ctx, m); err != nil {
		t.Fatalf("signed now: %v", err)
	}
	got := srv.acceptedBodies()
	if len(got) != 1 {
		t.Fatalf("accepted %d messages, want 1", len(got))
	}
	var body feishuBody
	if err := json.Unmarshal(got[0], &body); err != nil {
		t.Fatal(err)
	}
	if miss := missingIDs(body.Content.Text, m.Alerts); len(miss) > 0 {
		t.Errorf("alerts missing: %v", miss)
	}

	old, _ := New(Config{Kind: KindFeishu, URL: hook, Secret: secret},
		Options{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	err = old.Send(ctx, testMessage(1))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "19021") {
		t.Errorf("signed 2 h ago: got %v, want a permanent 19021", err)
	}
	wrong, _ := New(Config{Kind: KindFeishu, URL: hook, Secret: "nope"}, Options{})
	if err := wrong.Send(ctx, testMessage(1)); err == nil || !IsPermanent(err) {
		t.Errorf("wrong secret: got %v, want permanent", err)
	}

	limited := newRobotServer(t, func(*http.Request, []byte) (int, string) {
		return http.StatusOK, `{"code":11232,"data":{},"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}`
	})
	ls, _ := New(Config{Kind: KindFeishu, URL: limited.URL + "/open-apis/bot/v2/hook/x", Secret: secret}, Options{})
	if err := ls.Send(ctx, testMessage(1)); err == nil || IsPermanent(err) {
		t.Errorf("rate limit 11232: got %v, want retryable", err)
	}
}

// TestRobotURLChecks: the robot URL carries the robot's key, so it must be https (plain
// http only to loopback), and a refused URL is not repeated in the error.
func TestRobotURLChecks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind, url string
		ok        bool
	}{
		{KindWeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", true},
		{KindWeCom, "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", false},
		{KindWeCom, "http://127.0.0.1:8080/cgi-bin/webhook/send?key=K", true},
		{KindDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=K", true},
		{KindDingTalk, "https://oapi.dingtalk.com/robot/send", false},
		{KindDingTalk, "ftp://oapi.dingtalk.com/robot/send?access_token=K", false},
		{KindFeishu, "https://open.feishu.cn/open-apis/bot/v2/hook/K", true},
		{KindFeishu, "http://open.feishu.cn/open-apis/bot/v2/hook/K", false},
		{KindFeishu, "https://user:K@open.feishu.cn/open-apis/bot/v2/hook/x", false},
		{KindFeishu, "/open-apis/bot/v2/hook/K", false},
		{KindFeishu, "http://localhost:9/open-apis/bot/v2/hook/K", true},
	}
	for _, tc := range cases {
		_, err := New(Config{Kind: tc.kind, URL: tc.url}, Options{})
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: err %v, want ok=%v", tc.kind, tc.url, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), tc.url) {
			t.Errorf("the error repeats the URL: %v", err)
		}
		if err != nil && !IsPermanent(err) {
			t.Errorf("%s: a bad URL is not permanent: %v", tc.url, err)
		}
	}
}

// TestDingTalkWithoutSecretSendsUnsigned: a robot secured by keyword or IP instead of
// signing gets no timestamp or sign parameters.
func TestDingTalkWithoutSecretSendsUnsigned(t *testing.T) {
	t.Parallel()
	srv := newRobotServer(t, func(r *http.Request, _ []byte) (int, string) {
		q := r.URL.Query()
		if q.Get("access_token") != "t" || q.Has("sign") || q.Has("timestamp") {
			return http.StatusOK, `{"errcode":310000,"errmsg":"sign not match"}`
		}
		return http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
	})
	s, _ := New(Config{Kind: KindDingTalk, URL: srv.URL + "/robot/send?access_token=t"}, Options{})
	if err := s.Send(context.Background(), testMessage(2)); err != nil {
		t.Fatal(err)
	}
}
