package demo

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dlp"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/org"
)

// DLPRootName is the directory, under the data directory, that `medguard demo` makes a
// scan root and fills with the demo's synthetic patient files.
const DLPRootName = "demo-dlp"

// The demo's synthetic patient data: hand-written, about nobody. The resident IDs carry
// valid GB 11643 check digits and the bank card a valid Luhn digit, so that the detectors
// confirm them as they would real ones.
const (
	demoReferral = `转诊单
转出科室：呼吸内科  转入：示范市第二人民医院
病情摘要：社区获得性肺炎，抗感染治疗后好转，建议复查胸部CT。
`
	demoAdmissionNote = `示范市第一人民医院 入院记录
患者姓名：李建国  性别：男  年龄：40岁
身份证号：440306198506123319  联系电话：13912345678
住址：广东省深圳市宝安区新安街道建安一路88号3栋1202室
病案号 BA20260118
主诉：反复胸闷、气短2年，加重3天。
诊断：高血压病3级（极高危）；2型糖尿病 E11.9
处方：阿司匹林肠溶片 100mg 口服 qd；二甲双胍片 0.5g 口服 tid
检验：白细胞 6.5×10^9/L，HbA1c 8.2%
`
	demoOutpatientCSV = `门诊号,姓名,身份证号,手机,诊断,医保卡号
MZ2026000101,王秀英,110105197211034521,13800138000,慢性胃炎,
MZ2026000102,张伟,320102199302280022,13611112222,急性上呼吸道感染,
MZ2026000103,刘芳,510108196009157017,15012345678,2型糖尿病 E11.9,
`
	demoDischargeSummary = `出院小结  住院号 ZY2026004521
患者陈晓明，身份证号330106200104071230，因肺炎入院，经抗感染治疗好转出院。
出院带药：阿莫西林胶囊 0.5g 口服 tid。缴费银行卡 6222021001123456789。`
	demoMinutes = `信息科周例会纪要
1. 机房空调巡检已完成。
2. 下周三进行核心交换机固件升级，请各科室提前保存工作。
`
	demoTextScan  = `请帮忙核对：患者王秀英，手机13800138000，门诊诊断慢性胃炎，下周复诊。`
	demoAlertFile = `药剂科采购清单：阿莫西林胶囊 0.5g 口服 tid；布洛芬缓释胶囊 0.3g 口服 bid。`
)

// docxOf returns a minimal Word document whose body holds text, one paragraph a line.
func docxOf(text string) ([]byte, error) {
	var body bytes.Buffer
	for _, line := range bytes.Split([]byte(text), []byte("\n")) {
		body.WriteString(`<w:p><w:r><w:t>`)
		body.Write(line)
		body.WriteString(`</w:t></w:r></w:p>`)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
			body.String() + `</w:body></w:document>`},
	} {
		w, err := zw.Create(part.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(part.body)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipOf returns a ZIP archive holding the files in order.
func zipOf(files ...struct {
	name string
	data []byte
}) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// seedDLP gives the first hospital its patient-data history, once: the demo files in
// root, a finished path job over them, a text scan, three pre-send checks (allow,
// alert, block) and the mail gateway's token for the check (IT operations). It does nothing without the DLP service or a root, or when the
// hospital already has scans.
func seedDLP(ctx context.Context, d Deps, root string) error {
	if d.DLP == nil || root == "" {
		return nil
	}
	nodes, err := d.Orgs.List(ctx, actor.System())
	if err != nil {
		return err
	}
	var h1 org.Node
	for _, n := range nodes {
		if n.Code == "DEMO-H1" {
			h1 = n
		}
	}
	if h1.ID == 0 {
		return nil
	}
	// The privacy officer of the first hospital runs the demo's scans.
	a := actor.Actor{Username: "privacy", Role: "privacy_officer", OrgID: h1.ID, OrgPath: h1.Path}
	if u, err := d.Auth.UserByName(ctx, actor.System(), "privacy"); err == nil {
		a.UserID = u.ID
	}
	existing, err := d.DLP.Scans(ctx, a, dlpsvc.ScanQuery{Limit: 1})
	if err != nil {
		return err
	}
	if existing.Total > 0 {
		return nil
	}
	docx, err := docxOf(demoDischargeSummary)
	if err != nil {
		return fmt.Errorf("demo: build DOCX: %w", err)
	}
	archive, err := zipOf(struct {
		name string
		data []byte
	}{"出院小结/ZY2026004521.docx", docx}, struct {
		name string
		data []byte
	}{"门诊患者.csv", []byte(demoOutpatientCSV)})
	if err != nil {
		return fmt.Errorf("demo: build ZIP: %w", err)
	}
	files := map[string][]byte{
		"病历/入院记录-BA20260118.txt": []byte(demoAdmissionNote),
		"导出/门诊患者-2026-01.csv":    []byte(demoOutpatientCSV),
		"导出/出院资料.zip":            archive,
		"出院小结-ZY2026004521.docx": docx,
		"信息科/周例会纪要.txt":          []byte(demoMinutes),
		// Named after the patient, as referral files often are: the name and ID in
		// the path are findings of the file and are shown masked.
		"转诊/陈晓明_330106200104071230_转诊单.txt": []byte(demoReferral),
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return fmt.Errorf("demo: DLP files: %w", err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			return fmt.Errorf("demo: DLP files: %w", err)
		}
	}
	pol := dlpsvc.DefaultPolicy()
	pol.Custom = append(pol.Custom,
		customID("medical_record_no", `BA\d{8}`, "病案号"),
		customID("outpatient_no", `MZ\d{10}`, "门诊号"),
		customID("inpatient_no", `ZY\d{10}`, "住院号"))
	// Patient records belong under 病历/; the job finds them elsewhere too (an alert).
	pol.AllowedPaths = []string{filepath.Join(root, "病历")}
	if _, err := d.DLP.SetPolicy(ctx, a, h1.ID, pol); err != nil {
		return fmt.Errorf("demo: DLP policy: %w", err)
	}
	if _, err := d.DLP.StartJob(ctx, a, h1.ID, root); err != nil {
		return fmt.Errorf("demo: DLP job: %w", err)
	}
	d.DLP.Wait()
	if _, err := d.DLP.ScanText(ctx, a, h1.ID, "门诊随访备注", demoTextScan); err != nil {
		return fmt.Errorf("demo: DLP text scan: %w", err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"周例会纪要.txt", []byte(demoMinutes)}, {"药剂科采购清单.txt", []byte(demoAlertFile)}, {"出院小结-ZY2026004521.docx", docx}} {
		if _, err := d.DLP.Check(ctx, a, h1.ID, c.name, c.data); err != nil {
			return fmt.Errorf("demo: DLP check %s: %w", c.name, err)
		}
	}
	// The mail gateway's token: it may call the pre-send check and nothing else. Its
	// secret was handed to the gateway (here: dropped); IT operations see it listed.
	if u, err := d.Auth.UserByName(ctx, actor.System(), "itops"); err == nil {
		if _, _, err := d.Auth.CreateToken(ctx, actor.System(), u.ID, "邮件网关 mail gateway", auth.ScopeDLPCheck, 365*24*time.Hour); err != nil {
			return fmt.Errorf("demo: gateway token: %w", err)
		}
	}
	return nil
}

// customID is a site identifier found by pattern, with one context word.
func customID(name, pattern, context string) dlp.CustomIdentifier {
	return dlp.CustomIdentifier{Name: name, Pattern: pattern, Context: []string{context}}
}
