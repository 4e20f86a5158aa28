package corpus

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// builder accumulates a document's text and its labelled spans.
type builder struct {
	r     *rand.Rand
	b     strings.Builder
	spans []Span
	dosed []int // indexes in spans of drugs written with a dose
}

// s writes unlabelled text.
func (g *builder) s(parts ...string) {
	for _, p := range parts {
		g.b.WriteString(p)
	}
}

func (g *builder) f(format string, args ...any) { fmt.Fprintf(&g.b, format, args...) }

// v writes a value a scanner must report as typ.
func (g *builder) v(typ, val string) {
	start := g.b.Len()
	g.b.WriteString(val)
	g.spans = append(g.spans, Span{Type: typ, Start: start, End: g.b.Len()})
}

// done turns the builder into a Document: drugs written with a dose are a
// prescription when there are several of them, as the detector documents.
func (g *builder) done(kind string) Document {
	typ := TypeDrug
	if len(g.dosed) >= 2 {
		typ = TypePrescription
	}
	for _, k := range g.dosed {
		g.spans[k].Type = typ
	}
	return Document{Kind: kind, Text: g.b.String(), Spans: g.spans}
}

type drugItem struct{ name, dose, route, freq string }

// drugs are written as on Chinese prescriptions: generic name with salt
// and dosage form, single dose, route, frequency.
var drugs = []drugItem{
	{"阿莫西林胶囊", "0.5g", "口服", "tid"}, {"头孢呋辛酯片", "0.25g", "口服", "bid"},
	{"二甲双胍片", "0.5g", "口服", "tid"}, {"硝苯地平控释片", "30mg", "口服", "qd"},
	{"氨氯地平片", "5mg", "口服", "qd"}, {"阿托伐他汀钙片", "20mg", "口服", "qn"},
	{"阿司匹林肠溶片", "100mg", "口服", "qd"}, {"氯吡格雷片", "75mg", "口服", "qd"},
	{"奥美拉唑肠溶胶囊", "20mg", "口服", "bid"}, {"头孢曲松钠", "2g", "静滴", "qd"},
	{"左氧氟沙星注射液", "0.5g", "静滴", "qd"}, {"呋塞米片", "20mg", "口服", "qd"},
	{"甘精胰岛素注射液", "12U", "皮下注射", "qn"}, {"布洛芬缓释胶囊", "0.3g", "口服", "bid"},
	{"美托洛尔缓释片", "47.5mg", "口服", "qd"}, {"瑞舒伐他汀钙片", "10mg", "口服", "qn"},
	{"甲硝唑片", "0.2g", "口服", "tid"}, {"泮托拉唑钠", "40mg", "静滴", "qd"},
}

var plainDrugs = []string{"二甲双胍", "硝苯地平", "阿司匹林", "华法林", "胰岛素", "阿托伐他汀", "氯吡格雷", "青霉素"}

var freqCN = map[string]string{"qd": "每日一次", "bid": "每日两次", "tid": "每日三次", "qn": "每晚"}

// dosedDrug writes a drug with its dose (labelled drug or prescription).
func (g *builder) dosedDrug() {
	d := pick(g.r, drugs)
	var val string
	switch g.r.IntN(3) {
	case 0:
		val = d.name + " " + d.dose + " " + d.route + " " + d.freq
	case 1:
		val = d.name + " " + d.dose + " " + d.route + " " + freqCN[d.freq]
	default:
		val = d.name + " " + d.dose + " " + d.freq
	}
	g.v(TypeDrug, val)
	g.dosed = append(g.dosed, len(g.spans)-1)
}

type labItem struct {
	name, abbr, unit string
	lo, hi           float64
	dec              int
}

var labs = []labItem{
	{"白细胞计数", "WBC", "×10^9/L", 3.5, 9.5, 1}, {"红细胞计数", "RBC", "×10^12/L", 4.3, 5.8, 2},
	{"血红蛋白", "HGB", "g/L", 130, 175, 0}, {"血小板计数", "PLT", "×10^9/L", 125, 350, 0},
	{"谷丙转氨酶", "ALT", "U/L", 9, 50, 0}, {"谷草转氨酶", "AST", "U/L", 15, 40, 0},
	{"总胆红素", "TBIL", "μmol/L", 3.4, 20.5, 1}, {"肌酐", "Cr", "μmol/L", 57, 111, 0},
	{"尿素氮", "BUN", "mmol/L", 2.8, 7.6, 2}, {"尿酸", "UA", "μmol/L", 208, 428, 0},
	{"空腹血糖", "GLU", "mmol/L", 3.9, 6.1, 2}, {"糖化血红蛋白", "HbA1c", "%", 4, 6, 1},
	{"总胆固醇", "TC", "mmol/L", 2.8, 5.2, 2}, {"甘油三酯", "TG", "mmol/L", 0.56, 1.7, 2},
	{"C反应蛋白", "CRP", "mg/L", 0, 10, 1}, {"降钙素原", "PCT", "ng/mL", 0, 0.05, 2},
}

func (g *builder) labValue(l labItem) (string, string) {
	x := l.lo + (l.hi-l.lo)*(g.r.Float64()*1.6-0.3)
	x = max(x, 0)
	arrow := ""
	switch {
	case x > l.hi:
		arrow = "↑"
	case x < l.lo:
		arrow = "↓"
	}
	return strconv.FormatFloat(x, 'f', l.dec, 64), arrow
}

type diagnosisItem struct{ name, code string }

var diagnoses = []diagnosisItem{
	{"原发性高血压", "I10"}, {"2型糖尿病", "E11.9"}, {"社区获得性肺炎", "J18.9"},
	{"冠状动脉粥样硬化性心脏病", "I25.1"}, {"慢性阻塞性肺疾病急性加重", "J44.1"}, {"脑梗死", "I63.9"},
	{"慢性胃炎", "K29.5"}, {"胆囊结石", "K80.2"}, {"急性上呼吸道感染", "J06.9"}, {"高脂血症", "E78.5"},
	{"心房颤动", "I48"}, {"急性阑尾炎", "K35.8"}, {"慢性肾脏病5期", "N18.5"}, {"肺恶性肿瘤", "C34.9"},
	{"抑郁发作", "F32.9"}, {"肺结核", "A15.0"}, {"缺铁性贫血", "D50.9"}, {"甲状腺功能亢进症", "E05.9"},
}

// diagnosis writes "name（code）" with both labelled.
func (g *builder) diagnosis() {
	d := pick(g.r, diagnoses)
	g.v(TypeDiagnosis, d.name)
	g.s("（")
	g.v(TypeDiagnosis, d.code)
	g.s("）")
}

var roads = []string{"建国路", "中山路", "人民路", "解放路", "长江路", "新华街", "文化路", "学院路", "花园路", "光明街", "东风路", "幸福路", "胜利大道", "滨江大道", "青年路"}
var estates = []string{"阳光", "锦绣", "翠苑", "金桥", "碧水", "康乐", "景园", "华府"}

// address returns a full address in reg: province, city, district, road,
// number and, usually, estate, building, unit and room.
func address(r *rand.Rand, reg region) string {
	var b strings.Builder
	if r.IntN(5) != 0 {
		b.WriteString(reg.province)
		b.WriteString(reg.city)
	}
	b.WriteString(reg.district)
	b.WriteString(pick(r, roads))
	fmt.Fprintf(&b, "%d号", 1+r.IntN(300))
	switch r.IntN(3) {
	case 0:
		fmt.Fprintf(&b, "%s小区%d栋%d单元%d%02d室", pick(r, estates), 1+r.IntN(30), 1+r.IntN(6), 1+r.IntN(30), 1+r.IntN(6))
	case 1:
		fmt.Fprintf(&b, "%d号楼%d%02d室", 1+r.IntN(20), 1+r.IntN(30), 1+r.IntN(6))
	}
	return b.String()
}

// liveRegion draws a region for a current address.
func liveRegion(r *rand.Rand) region {
	for {
		if reg := pick(r, regions); !reg.historic {
			return reg
		}
	}
}

// person is one patient's identifiers.
type person struct {
	name, sex, birth, id, mobile, addr string
	age                                int
}

func newPerson(r *rand.Rand) person {
	reg := pick(r, regions)
	birth := birthDate(r)
	p := person{name: personName(r), birth: birth, id: residentID(r, reg.code, birth), mobile: mobile(r)}
	p.age = 2024 - atoi(birth[:4])
	p.sex = "女"
	if (p.id[16]-'0')%2 == 1 {
		p.sex = "男"
	}
	if r.IntN(8) == 0 {
		p.id = strings.Replace(p.id, "X", "x", 1)
	}
	home := reg
	if home.historic || r.IntN(3) == 0 {
		home = liveRegion(r)
	}
	p.addr = address(r, home)
	return p
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (g *builder) date() string {
	return fmt.Sprintf("2024-%02d-%02d", 1+g.r.IntN(12), 1+g.r.IntN(28))
}

// header writes the identifying block most clinical documents begin with.
func (g *builder) header(p person, title string) {
	hosp := pick(g.r, []string{"市第一人民医院", "中心医院", "中医院", "妇幼保健院", "大学附属医院"})
	g.s(pick(g.r, []string{"北京", "上海", "广州", "成都", "杭州", "武汉"}), hosp, "\n", title, "\n")
	g.s("姓名：")
	g.v(TypePersonName, p.name)
	g.f("  性别：%s  年龄：%d岁  ", p.sex, p.age)
	g.f("住院号：ZY%08d\n", g.r.IntN(1e8))
	g.s("身份证号：")
	g.v(TypeResidentID, p.id)
	g.s("  联系电话：")
	g.mobile(p.mobile)
	g.s("\n现住址：")
	g.v(TypeAddress, p.addr)
	g.s("\n")
	if g.r.IntN(2) == 0 {
		g.s("医保卡号：")
		g.v(TypeMedicalInsurance, insuranceNo(g.r, pick(g.r, regions).code))
		g.f("  医保类型：%s\n", pick(g.r, []string{"城镇职工", "城乡居民", "新农合"}))
	}
	switch g.r.IntN(8) {
	case 0, 1:
		g.s("社保卡号：")
		g.v(TypeResidentID, p.id)
		g.s("\n")
	case 2:
		g.s("旧身份证号：")
		g.v(TypeResidentID, legacyID(g.r, pick(g.r, regions).code))
		g.s("\n")
	case 3:
		g.s("证件号码（分段）：")
		g.v(TypeResidentID, p.id[:6]+" "+p.id[6:14]+" "+p.id[14:])
		g.s("\n")
	}
}

// mobile writes a mobile number in one of its written forms; the "+" of
// +86 is not part of the value.
func (g *builder) mobile(m string) {
	v := formatMobile(g.r, m)
	if strings.HasPrefix(v, "86") && g.r.IntN(2) == 0 {
		g.s("+")
	}
	g.v(TypeMobile, v)
}

// contact writes a relative's or clinician's line.
func (g *builder) contact() {
	switch g.r.IntN(6) {
	case 0:
		g.s("家属")
		g.v(TypePersonName, personName(g.r))
		g.s("（", pick(g.r, []string{"配偶", "儿子", "女儿", "母亲"}), "），电话")
		g.v(TypeMobile, mobile(g.r))
		g.s("。\n")
	case 1:
		g.s("单位电话：")
		g.v(TypeLandline, landline(g.r))
		g.s("\n")
	case 2:
		g.s("紧急联系人：")
		g.v(TypePersonName, personName(g.r))
		g.s("，手机 ")
		g.mobile(mobile(g.r))
		g.s("\n")
	case 3:
		g.s("费用由")
		g.s(pick(g.r, []string{"工商银行", "农业银行", "建设银行", "招商银行"}), "卡号 ")
		c := bankCard(g.r)
		switch g.r.IntN(4) {
		case 0:
			c = groupCard(c, " ")
		case 1:
			c = groupCard(c, "-")
		}
		g.v(TypeBankCard, c)
		g.s(" 支付。\n")
	case 4:
		g.s("患者持护照就诊，护照号码：")
		g.v(TypePassport, passport(g.r))
		g.s("；")
		if g.r.IntN(2) == 0 {
			g.s("港澳通行证 ")
			g.v(TypeHKMacauPermit, permit(g.r))
		}
		g.s("\n")
	default:
		g.s("邮箱：")
		g.v(TypeEmail, email(g.r))
		g.s("\n")
	}
}

// clinicalNegative writes a line of numbers that look like identifiers
// but are not (see the package documentation for the classes).
func (g *builder) clinicalNegative() {
	reg := pick(g.r, regions)
	switch g.r.IntN(14) {
	case 0:
		g.s("身份证号（原登记有误）：", wrongCheck(g.r, residentID(g.r, reg.code, birthDate(g.r))), "\n")
	case 1:
		g.s("证件号码：", badBirthID(g.r, reg.code), "（待核实）\n")
	case 2:
		body := pick(g.r, unknownRegions) + birthDate(g.r) + digits(g.r, 3)
		g.s("身份证号 ", body+string(idCheck(body)), " 校验未通过\n")
	case 3:
		g.s("交易流水号：", timestamp17(g.r), "\n")
	case 4:
		g.s("医保结算流水号：", orderNo19(g.r), "\n")
	case 5:
		g.s("电话：", pick(g.r, deadSegments)+digits(g.r, 8), "（空号）\n")
	case 6:
		g.s("卡号：", luhnFailing(g.r), "（刷卡失败）\n")
	case 7:
		g.s("标本条码：", "2405"+digits(g.r, 8), "  病案号：", digits(g.r, 7), "\n")
	case 8:
		g.s("批准文号：国药准字H", digits(g.r, 8), "\n")
	case 9:
		g.s("体温 36.", strconv.Itoa(g.r.IntN(10)), "℃，血压 ", strconv.Itoa(100+g.r.IntN(60)), "/", strconv.Itoa(60+g.r.IntN(30)), "mmHg，", g.date(), " 10:", fmt.Sprintf("%02d", g.r.IntN(60)), " 复查。\n")
	case 10:
		id := residentID(g.r, reg.code, birthDate(g.r))
		g.s("档案编号 ", id[:17], "\n")
	case 11:
		g.s("统一社会信用代码：", wrongUSCC(g.r, uscc(g.r, reg.code)), "（错误）\n")
	case 12:
		g.s("发票号码：", digits(g.r, 8), "  金额：", strconv.Itoa(g.r.IntN(5000)), ".", fmt.Sprintf("%02d", g.r.IntN(100)), "元\n")
	default:
		g.s("身份证号：", legacyBadDate(g.r, reg.code), "（旧证，日期不符）\n")
	}
}

// wrongUSCC replaces the check character of a valid code with another;
// an all-digit result must also fail Luhn (see orderNo19).
func wrongUSCC(r *rand.Rand, u string) string {
	for {
		x := usccAlphabet[r.IntN(len(usccAlphabet))]
		v := u[:17] + string(x)
		if x != u[17] && !luhnValid(v) {
			return v
		}
	}
}

// legacyBadDate returns a 15-digit number with a real region code and an
// impossible date.
func legacyBadDate(r *rand.Rand, code string) string {
	return code + pick(r, []string{"851301", "000230", "790432", "621131"}) + digits(r, 3)
}

// timestamp17 returns a millisecond timestamp written YYYYMMDDhhmmssSSS.
func timestamp17(r *rand.Rand) string {
	return fmt.Sprintf("2024%02d%02d%02d%02d%02d%03d", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000))
}

// orderNo19 returns a date-based 19-digit order number that fails the Luhn
// check (a Luhn-valid 16–19-digit number is a card number as far as any
// detector can tell, so negatives of that length are made to fail it).
func orderNo19(r *rand.Rand) string {
	s := fmt.Sprintf("2024%02d%02d", 1+r.IntN(12), 1+r.IntN(28)) + digits(r, 11)
	if luhnValid(s) {
		s = s[:18] + string(byte('0'+(s[18]-'0'+1)%10))
	}
	return s
}

// clinical writes one clinical document of the given kind.
func clinical(r *rand.Rand, kind string) Document {
	g := &builder{r: r}
	p := newPerson(r)
	titles := map[string]string{KindAdmission: "入院记录", KindOutpatient: "门诊病历", KindDischarge: "出院小结", KindPrescription: "处方笺", KindLabReport: "检验报告单"}
	g.header(p, titles[kind])
	doctor := func(cue string) {
		g.s(cue)
		g.v(TypePersonName, personName(g.r))
		g.s("\n")
	}
	switch kind {
	case KindPrescription:
		g.s("临床诊断：")
		g.diagnosis()
		g.s("\nRp:\n")
		for k := range 1 + r.IntN(4) {
			g.f("%d. ", k+1)
			g.dosedDrug()
			g.f(" ×%d天\n", 3+r.IntN(12))
		}
		doctor("医师：")
		if r.IntN(2) == 0 {
			g.s("医疗机构统一社会信用代码：")
			g.v(TypeUSCC, uscc(r, pick(r, regions).code))
			g.s("\n")
		}
	case KindLabReport:
		g.f("标本类型：%s  送检日期：%s\n项目\t结果\t提示\t参考区间\n", pick(r, []string{"血清", "全血", "血浆"}), g.date())
		for range 3 + r.IntN(6) {
			l := pick(r, labs)
			val, arrow := g.labValue(l)
			g.v(TypeLabResult, l.name+"\t"+val+" "+l.unit)
			g.f("\t%s\t%s-%s\n", arrow, strconv.FormatFloat(l.lo, 'f', l.dec, 64), strconv.FormatFloat(l.hi, 'f', l.dec, 64))
		}
		doctor("检验者：")
		doctor("审核者：")
	default:
		g.s("主诉：", pick(r, []string{"反复咳嗽咳痰三天", "头晕乏力一周", "胸闷气短半月", "上腹痛两天", "发热伴咽痛一天"}), "。\n现病史：患者")
		g.v(TypePersonName, p.name)
		g.s(pick(r, []string{"于", "自"}), g.date(), "起出现上述症状，既往服用")
		g.v(TypeDrug, pick(r, plainDrugs))
		g.s("，自述控制尚可。\n辅助检查：")
		for range 1 + r.IntN(3) {
			l := pick(r, labs)
			val, arrow := g.labValue(l)
			g.v(TypeLabResult, l.name+" "+val+l.unit+arrow)
			g.s("，")
		}
		g.s("余未见异常。\n诊断：1. ")
		g.diagnosis()
		g.s("\n")
		if r.IntN(2) == 0 {
			g.s("2. ")
			g.diagnosis()
			g.s("\n")
		}
		if kind != KindOutpatient {
			g.s("出院带药：\n")
			for range r.IntN(3) {
				g.dosedDrug()
				g.s("\n")
			}
		}
		doctor(pick(r, []string{"主治医生：", "住院医师：", "经治医师："}))
	}
	for range 1 + r.IntN(3) {
		g.contact()
	}
	for range 1 + r.IntN(3) {
		g.clinicalNegative()
	}
	return g.done(kind)
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.60 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
	"okhttp/4.12.0", "Apache-HttpClient/4.5.14 (Java/17.0.9)",
}

// appLog writes a few lines of an application or HIS log.
func appLog(r *rand.Rand) Document {
	g := &builder{r: r}
	for range 4 + r.IntN(6) {
		g.f("2024-%02d-%02d %02d:%02d:%02d.%03d %s [http-nio-8080-exec-%d] ", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000),
			pick(r, []string{"INFO", "INFO", "WARN", "DEBUG", "ERROR"}), 1+r.IntN(200))
		switch r.IntN(12) {
		case 0:
			g.s("c.h.his.PatientController - GET /api/v1/patients/", strconv.Itoa(r.IntN(1e6)), " from ")
			g.v(TypeIPAddress, ipv4(r))
			g.f(" status=200 took=%dms reqId=%016x\n", r.IntN(900), r.Uint64())
		case 1:
			g.s("c.h.auth.LoginService - login ok user=")
			g.v(TypeEmail, email(r))
			g.s(" client=")
			g.v(TypeIPAddress, ipv4(r))
			g.s(":", strconv.Itoa(1024+r.IntN(60000)), " ua=\"", pick(r, userAgents), "\"\n")
		case 2:
			g.s("c.h.sms.SmsSender - 短信已发送 mobile=")
			g.v(TypeMobile, mobile(r))
			g.f(" template=SMS_%d bizId=%s\n", 100000+r.IntN(900000), timestamp17(r))
		case 3:
			g.s("c.h.reg.RegisterService - 挂号成功 patient=")
			g.v(TypePersonName, personName(r))
			g.s(" idNo=")
			g.v(TypeResidentID, residentID(r, pick(r, regions).code, birthDate(r)))
			g.f(" orderNo=%s\n", orderNo19(r))
		case 4:
			g.s("c.h.pay.PayCallback - paid orderNo=", orderNo19(r), " txn=", timestamp17(r), " card=")
			g.v(TypeBankCard, bankCard(r))
			g.s(" amount=", strconv.Itoa(r.IntN(2000)), ".00\n")
		case 5:
			if r.IntN(2) == 0 {
				g.s("c.h.gw.Proxy - X-Forwarded-For: ")
				g.v(TypeIPAddress, ipv4(r))
				g.s(", ")
				g.v(TypeIPAddress, ipv4(r))
				g.s(" upstream=")
				g.v(TypeIPAddress, ipv4(r))
				g.s(":8080\n")
				break
			}
			g.s("c.h.audit.AuditLog - record viewed by Dr. ")
			g.v(TypePersonName, romanName(r))
			g.s(" from ")
			g.v(TypeIPAddress, ipv4(r))
			g.s("\n")
		case 6:
			g.f("o.a.c.h.Http11Processor - version v%d.%d.%d.%d build %d.%d.%d client ipv6=%s\n", 1+r.IntN(5), r.IntN(10), r.IntN(10), r.IntN(20), 1+r.IntN(5), r.IntN(20), r.IntN(100), ipv6(r))
		case 7:
			g.s("c.h.notify.Mailer - send failed to=", pick(r, []string{"admin@localhost", "user@his-server", "noreply@", "@张医生", "report@example", "ops at hospital.cn"}), " retry=", strconv.Itoa(r.IntN(5)), "\n")
		case 8:
			g.s("c.h.session.Token - issued sid=", randomToken(r), "\n")
		case 9:
			g.s("c.h.ins.InsuranceClient - 医保结算 insuredId=")
			g.s("医保号 ")
			g.v(TypeMedicalInsurance, insuranceNo(r, pick(r, regions).code))
			g.s(" setlId=", timestamp17(r), "\n")
		case 10:
			g.s("c.h.org.SupplierSync - supplier uscc=")
			g.v(TypeUSCC, uscc(r, pick(r, regions).code))
			g.s(" tel=")
			g.v(TypeLandline, landline(r))
			g.s("\n")
		default:
			g.f("c.h.job.Scheduler - job finished id=%d ts=%d cost=%dms\n", r.IntN(1e9), 1700000000000+r.Int64N(1e11), r.IntN(5000))
		}
	}
	return g.done(KindLog)
}

// randomToken returns a session token: letters and hex with long digit
// runs glued to letters (numbers glued to letters are no identifiers).
func randomToken(r *rand.Rand) string {
	var inner string
	switch r.IntN(3) {
	case 0:
		inner = mobile(r)
	case 1:
		inner = residentID(r, pick(r, regions).code, birthDate(r))[:17]
	default:
		inner = bankCard(r)
	}
	return "tk" + pick(r, []string{"a", "f", "z"}) + inner + pick(r, []string{"b", "e", "q"}) + fmt.Sprintf("%08x", r.Uint32())
}

// tableHeader is the header of patient exports.
var tableHeader = []string{"患者编号", "姓名", "性别", "出生日期", "身份证号", "手机号", "联系地址", "就诊日期", "诊断编码", "诊断名称", "费用"}

// tableRow writes one patient row of a CSV (sep ',') or TSV (sep '\t')
// export; CSV addresses are quoted when they hold the separator (never,
// here) so offsets stay simple.
func (g *builder) tableRow(sep string) {
	p := newPerson(g.r)
	d := pick(g.r, diagnoses)
	g.f("P%08d%s", g.r.IntN(1e8), sep)
	g.v(TypePersonName, p.name)
	g.s(sep, p.sex, sep, p.birth[:4], "-", p.birth[4:6], "-", p.birth[6:], sep)
	g.v(TypeResidentID, p.id)
	g.s(sep)
	switch g.r.IntN(6) {
	case 0:
		g.v(TypeLandline, landline(g.r))
	case 1: // no phone
	default:
		g.v(TypeMobile, p.mobile)
	}
	g.s(sep)
	g.v(TypeAddress, p.addr)
	g.s(sep, g.date(), sep)
	g.v(TypeDiagnosis, d.code)
	g.s(sep)
	g.v(TypeDiagnosis, d.name)
	g.f("%s%d.%02d\n", sep, g.r.IntN(20000), g.r.IntN(100))
}

// table writes a CSV or TSV export with a header and a few rows.
func table(r *rand.Rand, kind string) Document {
	g := &builder{r: r}
	sep := ","
	if kind == KindTSV {
		sep = "\t"
	}
	g.s(strings.Join(tableHeader, sep), "\n")
	for range 3 + r.IntN(8) {
		g.tableRow(sep)
	}
	return g.done(kind)
}
