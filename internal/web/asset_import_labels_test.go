package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// uploadImport posts data to the import page as browser ops, in the language of hdr,
// with the extra form fields given.
func (e *assetEnv) uploadImport(hdr map[string]string, data []byte, fields map[string]string) (int, string) {
	e.t.Helper()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("csrf", e.ops.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "assets.csv")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/assets/import", &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	code, b, _ := do(e.t, e.ops.client, req)
	return code, string(b)
}

// TestAssetImportUILabels: the import page lists the columns by the labels the form
// shows, in the user's language, offers a template with that header row, accepts it
// back, and names an unknown column by its position with the accepted names in the
// user's language; an export in either language imports back to the same assets.
func TestAssetImportUILabels(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		en := map[string]string{"Accept-Language": "en"}
		org := strconv.FormatInt(e.DeptA.ID, 10)

		t.Run("page lists the columns in the user's language", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets/import", nil, zh)
			mustContain(t, code, body, http.StatusOK, `id="import-columns"`, "可导入的列", "<td>IP 地址</td>", "<td>MAC 地址</td>",
				"<td>投入使用日期</td>", `href="/assets/import/template.csv"`, "下载导入模板")
			mustNotContain(t, body, "IP address", "In service since")
			code, body, _ = e.page(e.ops, "GET", "/assets/import", nil, en)
			mustContain(t, code, body, http.StatusOK, `id="import-columns"`, "<td>IP address</td>", "<td>In service since</td>", "Download a template")
			mustNotContain(t, body, "投入使用日期")
		})

		for _, tt := range []struct {
			lang   string
			hdr    map[string]string
			header string
		}{
			{"zh-CN", zh, "\ufeff资产编号,名称,资产类型,子类型,所属机构,负责人,位置,网络区域,等保级别,IP 地址,MAC 地址,厂商,型号,序列号,生命周期,采购日期,投入使用日期,退役日期,标签,备注\n"},
			{"en", en, "\ufeffCode,Name,Kind,Subtype,Organisation,Owner,Location,Network zone,MLPS level,IP address,MAC address,Vendor,Model,Serial number,Lifecycle,Procured on,In service since,Retired on,Tags,Notes\n"},
		} {
			t.Run("template "+tt.lang, func(t *testing.T) {
				code, body, h := e.page(e.ops, "GET", "/assets/import/template.csv", nil, tt.hdr)
				if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") ||
					!strings.Contains(h.Get("Content-Disposition"), "attachment") || body != tt.header {
					t.Fatalf("template: %d %v\n%q", code, h, body)
				}
				// The template, filled in, imports.
				row := "TPL-" + tt.lang + ",模板导入,server,,,,,internal,3,10.1.2.3,00:11:22:33:44:55,,,,,,2024-03-01,,,\n"
				code, body = e.uploadImport(tt.hdr, []byte(body+row), map[string]string{"org_id": org})
				mustContain(t, code, body, http.StatusOK, `id="import-report"`, `id="import-created"><b>1</b>`)
				mustNotContain(t, body, `id="import-errors"`)
				_, lb, _ := e.call("GET", "/api/v1/assets?q=TPL-"+tt.lang, "", nil, "")
				l := decodeList(t, lb)
				if l.Total != 1 || l.Items[0].IP != "10.1.2.3" || l.Items[0].InServiceOn != "2024-03-01" || l.Items[0].MLPSLevel != 3 {
					t.Fatalf("template import: %s", lb)
				}
			})
		}

		t.Run("unknown column", func(t *testing.T) {
			file := []byte("资产编号,名称,患者张三,资产类型,网络区域\nU-1,x,y,server,internal\n")
			code, body := e.uploadImport(zh, file, map[string]string{"org_id": org, "dry_run": "1"})
			mustContain(t, code, body, http.StatusOK, `id="import-errors"`, "第 3 列的表头不是可识别的列名",
				"可用的列名：资产编号、名称、资产类型、子类型、所属机构、负责人、位置、网络区域、等保级别、IP 地址、MAC 地址、")
			mustNotContain(t, body, "患者张三", "accepted columns", "unknown column")
			code, body = e.uploadImport(en, file, map[string]string{"org_id": org, "dry_run": "1"})
			mustContain(t, code, body, http.StatusOK, "The header of column 3 is not a known column", "Accepted names: Code, Name, Kind, ", "IP address")
			mustNotContain(t, body, "患者张三", "资产编号、")

			code, body = e.uploadImport(zh, []byte("资产编号,名称\nU-1,x\n"), map[string]string{"org_id": org, "dry_run": "1"})
			mustContain(t, code, body, http.StatusOK, "缺少必填列：资产类型、网络区域。")
		})

		// Export in each language and import the file back (updating): every asset comes
		// back unchanged.
		for _, in := range []asset.Input{
			{OrgID: e.DeptA.ID, Code: "RT-1", Name: "PACS 影像归档", Kind: "server", Zone: "dmz", MLPSLevel: 3, IP: "10.0.0.8",
				MAC: "00:1a:2b:3c:4d:5e", InServiceOn: "2021-05-06", Lifecycle: "maintenance", Tags: []string{"影像", "核心"}},
			{OrgID: e.DeptA.ID, Code: "RT-2", Name: "输液泵", Kind: "medical_device", Zone: "medical", Vendor: "迈瑞", Lifecycle: "planned"},
		} {
			if c, b := e.apiJSON("POST", "/api/v1/assets", in); c != http.StatusCreated {
				t.Fatalf("create: %d %s", c, b)
			}
		}
		snapshot := func() map[string]asset.Input {
			_, lb, _ := e.call("GET", "/api/v1/assets?per_page=100", "", nil, "")
			m := map[string]asset.Input{}
			for _, x := range decodeList(t, lb).Items {
				in := asset.InputOf(x)
				in.Version = 0
				m[x.Code] = in
			}
			return m
		}
		before := snapshot()
		for _, tt := range []struct {
			lang   string
			hdr    map[string]string
			header string
			values []string
		}{
			{"zh-CN", zh, "\ufeff资产编号,名称,资产类型,", []string{"服务器", "DMZ", "第三级", "维修中", "医疗设备", "医疗设备网"}},
			{"en", en, "\ufeffCode,Name,Kind,", []string{"Server", "Level 3", "Under maintenance", "Medical device network"}},
		} {
			t.Run("export and import back "+tt.lang, func(t *testing.T) {
				code, out, _ := e.page(e.ops, "GET", "/assets/export.csv", nil, tt.hdr)
				if code != http.StatusOK || !strings.HasPrefix(out, tt.header) {
					t.Fatalf("export: %d %q", code, out[:min(len(out), 80)])
				}
				for _, v := range tt.values {
					if !strings.Contains(out, ","+v+",") {
						t.Errorf("export has no %q:\n%s", v, out)
					}
				}
				code, body := e.uploadImport(tt.hdr, []byte(out), map[string]string{"update": "1"})
				mustContain(t, code, body, http.StatusOK, `id="import-report"`, `id="import-rejected"><b>0</b>`)
				mustNotContain(t, body, `id="import-errors"`)
				if after := snapshot(); !reflect.DeepEqual(before, after) {
					t.Fatalf("assets changed by the round trip:\n%v\n%v", before, after)
				}
			})
		}
	})
}
