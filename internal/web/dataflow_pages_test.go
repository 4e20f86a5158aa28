package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestDataflowPages: the register and a flow's page, in English and in Chinese, with the
// deficiencies highlighted, the counts and the linked risk; hospital B's flow is neither
// listed nor shown.
func TestDataflowPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{"a": strconv.FormatInt(e.DataflowA.ID, 10), "b": strconv.FormatInt(e.DataflowB.ID, 10)}
		e.runPages(t, vars, []pageScenario{
			{name: "the register", user: "auditor", method: "GET", path: "/dataflows", status: http.StatusOK,
				expect: []string{`id="compliance-nav-dataflows"`, `class="on"`, `id="dataflow-{a}" class="deficient"`, "Insurer feed A",
					"no data-sharing agreement on record", "1 flows, 1 deficient", "Commercial insurer"}, notExpect: leakMarks},
			{name: "filtered to another kind", user: "auditor", method: "GET", path: "/dataflows?recipient_kind=pharmacy", status: http.StatusOK,
				expect: []string{`id="dataflow-empty"`}, notExpect: []string{"Insurer feed A"}},
			{name: "a bad level", user: "auditor", method: "GET", path: "/dataflows?level=9", status: http.StatusBadRequest,
				expect: []string{`role="alert"`}},
			{name: "a flow", user: "auditor", method: "GET", path: "/dataflows/{a}", status: http.StatusOK,
				expect: []string{`id="deficiency-no_encryption"`, "the data is not encrypted in transit", `class="risk-backlink"`,
					"Data flow Insurer feed A to Sunshine Life is deficient", "No destruction record."}},
			{name: "another hospital's flow", user: "auditor", method: "GET", path: "/dataflows/{b}", status: http.StatusNotFound,
				notExpect: leakMarks},
			{name: "the app operator", user: "appops", method: "GET", path: "/dataflows", status: http.StatusForbidden},
			{name: "in Chinese", user: "auditor", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the register in Chinese", user: "auditor", method: "GET", path: "/dataflows", status: http.StatusOK,
				expect: []string{"数据共享登记", "未登记数据共享协议", "共 1 项，其中 1 项有缺陷", "商业保险", "第4级"}},
			{name: "a flow in Chinese", user: "auditor", method: "GET", path: "/dataflows/{a}", status: http.StatusOK,
				expect: []string{"传输过程未加密", "尚无数据销毁记录", "关联风险"}},
		})
	})
}
