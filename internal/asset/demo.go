package asset

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"time"
)

// DemoOrg is an organisation that Generate may put assets in.
type DemoOrg struct {
	ID   int64
	Code string
	Name string
	Kind string // hospital or department; other kinds are skipped when any of these exist
}

// demoTemplate describes one sort of asset Generate produces.
type demoTemplate struct {
	weight    int
	kind      string
	prefix    string // code prefix
	names     []string
	subtypes  []string
	zones     []string
	mlps      []int // chosen uniformly; 0 = not graded
	vendors   []string
	models    []string
	locations []string
	tags      []string
	network   bool // has an IP and MAC
}

var demoTemplates = []demoTemplate{
	{weight: 10, kind: KindServer, prefix: "SRV", network: true,
		names:     []string{"HIS 数据库服务器", "EMR 应用服务器", "LIS 服务器", "PACS 存储服务器", "RIS 服务器", "PAS 服务器", "集成平台服务器", "数据中心虚拟化主机", "备份服务器", "域控服务器"},
		subtypes:  []string{"物理服务器", "虚拟机", "数据库服务器", "存储服务器"},
		zones:     []string{ZoneInternal, ZoneInternal, ZoneInternal, ZoneDMZ},
		mlps:      []int{3, 3, 3, 2},
		vendors:   []string{"华为", "联想", "浪潮", "Dell", "HPE", "新华三"},
		models:    []string{"FusionServer 2288H V6", "ThinkSystem SR650", "NF5280M6", "PowerEdge R750", "ProLiant DL380 Gen10", "UniServer R4900 G5"},
		locations: []string{"信息中心机房 A 区", "信息中心机房 B 区", "灾备机房"},
		tags:      []string{"核心", "数据库", "虚拟化", "备份", "等保测评"}},
	{weight: 30, kind: KindWorkstation, prefix: "WS", network: true,
		names:     []string{"门诊工作站", "护士站工作站", "医生工作站", "收费窗口工作站", "药房工作站", "检验科工作站", "影像诊断工作站", "挂号工作站"},
		subtypes:  []string{"台式机", "笔记本", "一体机"},
		zones:     []string{ZoneInternal},
		mlps:      []int{0},
		vendors:   []string{"联想", "Dell", "惠普", "华为", "清华同方"},
		models:    []string{"ThinkCentre M730t", "OptiPlex 7090", "ProDesk 480 G7", "擎云 W515", "超翔 Z8000"},
		locations: []string{"门诊楼 1 层", "门诊楼 2 层", "住院楼 5 层护士站", "急诊科", "药剂科", "检验科"},
		tags:      []string{"终端", "门诊", "住院", "信创"}},
	{weight: 8, kind: KindNetwork, prefix: "NET", network: true,
		names:     []string{"核心交换机", "汇聚交换机", "接入交换机", "下一代防火墙", "无线控制器", "VPN 网关", "上网行为管理", "负载均衡"},
		subtypes:  []string{"交换机", "防火墙", "路由器", "无线 AP", "安全网关"},
		zones:     []string{ZoneInternal, ZoneInternal, ZoneDMZ, ZoneExternal},
		mlps:      []int{3, 3, 2},
		vendors:   []string{"华为", "新华三", "锐捷", "深信服", "奇安信", "天融信", "Cisco"},
		models:    []string{"CloudEngine S12700E", "S6520X-EI", "RG-S7808C", "AF-1000", "NSG5000", "NGFW4000", "Catalyst 9300"},
		locations: []string{"信息中心机房 A 区", "门诊楼弱电间", "住院楼弱电间", "互联网出口机柜"},
		tags:      []string{"核心", "边界", "无线", "网络安全"}},
	// Medical devices take their name, subtype, maker, model and place from demoDevices.
	{weight: 25, kind: KindMedicalDevice, prefix: "MED", network: true,
		zones: []string{ZoneMedical},
		mlps:  []int{0, 0, 2},
		tags:  []string{"PACS 接入", "DICOM", "HL7", "设备联网"}},
	{weight: 8, kind: KindBusinessSystem, prefix: "SYS", network: false,
		names:     []string{"HIS 医院信息系统", "EMR 电子病历系统", "LIS 实验室信息系统", "PACS 影像归档与通信系统", "RIS 放射信息系统", "手术麻醉系统", "体检系统", "合理用药系统", "集成平台", "HRP 医院资源规划"},
		subtypes:  []string{"核心业务", "临床", "医技", "管理"},
		zones:     []string{ZoneInternal},
		mlps:      []int{3, 3, 3, 3, 2},
		vendors:   []string{"卫宁健康", "创业慧康", "东软", "东华医为", "万达信息", "嘉和美康", "联众智慧"},
		models:    []string{"WiNEX", "BSoft HIS 6.0", "RIS 5.0", "iMedical", "EMR 8.0"},
		locations: []string{"信息中心"},
		tags:      []string{"核心业务", "等保三级", "患者数据", "互联互通"}},
	{weight: 4, kind: KindInternetApp, prefix: "APP", network: true,
		names:     []string{"互联网医院 App", "微信小程序", "预约挂号网站", "医院官网", "移动支付平台", "在线问诊平台"},
		subtypes:  []string{"移动 App", "小程序", "网站"},
		zones:     []string{ZoneExternal, ZoneDMZ},
		mlps:      []int{3, 3, 2},
		vendors:   []string{"卫宁健康", "创业慧康", "腾讯", "阿里健康", "微医"},
		models:    []string{"v3.2", "v4.0", "v2.8"},
		locations: []string{"云平台", "DMZ 区"},
		tags:      []string{"互联网", "对外服务", "患者数据"}},
	{weight: 5, kind: KindSoftware, prefix: "SW", network: false,
		names:     []string{"Oracle Database", "Windows Server", "麒麟操作系统", "VMware vSphere", "达梦数据库", "终端杀毒软件", "中间件 WebLogic", "备份软件"},
		subtypes:  []string{"操作系统", "数据库", "中间件", "安全软件", "虚拟化"},
		zones:     []string{ZoneInternal},
		mlps:      []int{0, 0, 3},
		vendors:   []string{"Oracle", "Microsoft", "麒麟软件", "VMware", "达梦", "奇安信", "Veeam"},
		models:    []string{"19c", "2019", "V10", "8.0", "DM8", "13.0"},
		locations: []string{"信息中心"},
		tags:      []string{"正版化", "信创", "授权"}},
}

// demoMaker is a maker of one device type and its models of that type.
type demoMaker struct {
	name   string
	models []string
}

// demoDevice is a type of medical device with the makers that make it, where in a
// hospital it stands (locations) and which departments (by organisation name) it may
// be filed under; a device whose departments the hospital does not have is filed
// under the hospital itself.
type demoDevice struct {
	name        string
	subtype     string
	makers      []demoMaker
	locations   []string
	departments []string
}

// demoDevices are the medical devices Generate produces, each plausible: a CT scanner
// from a CT maker, in radiology.
var demoDevices = []demoDevice{
	{"CT 扫描仪", "影像设备", []demoMaker{{"联影", []string{"uCT 760", "uCT 960+"}}, {"GE", []string{"Revolution CT", "Optima CT680"}},
		{"Siemens", []string{"SOMATOM Force", "SOMATOM go.Top"}}, {"Philips", []string{"Incisive CT"}}, {"东软医疗", []string{"NeuViz 128"}}},
		[]string{"放射科 CT 室", "医学影像科 CT 室"}, []string{"放射科", "医学影像科"}},
	{"MRI 磁共振", "影像设备", []demoMaker{{"联影", []string{"uMR 780", "uMR 890"}}, {"Siemens", []string{"MAGNETOM Vida", "MAGNETOM Skyra"}},
		{"GE", []string{"SIGNA Pioneer"}}, {"Philips", []string{"Ingenia Elition"}}},
		[]string{"放射科 MR 室", "医学影像科 MR 室"}, []string{"放射科", "医学影像科"}},
	{"DR 数字化 X 光机", "影像设备", []demoMaker{{"万东", []string{"NewVision Plus"}}, {"联影", []string{"uDR 780i"}},
		{"东软医疗", []string{"NeuVision 550"}}, {"Philips", []string{"DigitalDiagnost C90"}}},
		[]string{"放射科 DR 室", "医学影像科 DR 室", "急诊科放射室"}, []string{"放射科", "医学影像科"}},
	{"彩色多普勒超声", "影像设备", []demoMaker{{"迈瑞", []string{"Resona 7", "DC-80"}}, {"GE", []string{"LOGIQ E10", "Vivid E95"}},
		{"Philips", []string{"EPIQ 7"}}, {"Siemens", []string{"ACUSON Sequoia"}}},
		[]string{"超声科", "心血管内科心超室", "医学影像科超声室"}, []string{"医学影像科", "心血管内科"}},
	{"多参数监护仪", "监护设备", []demoMaker{{"迈瑞", []string{"BeneVision N17", "BeneView T8"}}, {"Philips", []string{"IntelliVue MX500", "IntelliVue MX800"}},
		{"GE", []string{"CARESCAPE B650"}}},
		[]string{"ICU", "心内科病房", "急诊科抢救室"}, []string{"重症医学科", "心血管内科"}},
	{"输液泵", "治疗设备", []demoMaker{{"迈瑞", []string{"BeneFusion VP5", "BeneFusion SP5"}}, {"B. Braun", []string{"Infusomat Space"}}},
		[]string{"ICU", "心内科病房", "门诊输液室"}, []string{"重症医学科", "心血管内科", "门诊部"}},
	{"呼吸机", "生命支持", []demoMaker{{"迈瑞", []string{"SV800", "SV300"}}, {"Dräger", []string{"Evita V800"}}, {"Hamilton Medical", []string{"HAMILTON-C6"}}},
		[]string{"ICU", "急诊科抢救室"}, []string{"重症医学科"}},
	{"全自动生化分析仪", "检验设备", []demoMaker{{"迈瑞", []string{"BS-2000M", "BS-800M"}}, {"Roche", []string{"cobas c 702"}},
		{"Beckman Coulter", []string{"AU5800"}}, {"Siemens", []string{"Atellica CH 930"}}},
		[]string{"检验科生化室"}, []string{"检验科"}},
	{"血液透析机", "治疗设备", []demoMaker{{"Fresenius", []string{"5008S"}}, {"B. Braun", []string{"Dialog+"}}, {"Nipro", []string{"Surdial X"}}},
		[]string{"血透中心"}, nil},
	{"心电图机", "监护设备", []demoMaker{{"Nihon Kohden", []string{"ECG-2350"}}, {"GE", []string{"MAC 2000"}}, {"Philips", []string{"PageWriter TC50"}},
		{"理邦", []string{"SE-1200"}}},
		[]string{"心电图室", "心内科病房", "门诊心电图室"}, []string{"心血管内科", "门诊部"}},
	{"麻醉机", "生命支持", []demoMaker{{"迈瑞", []string{"WATO EX-65 Pro"}}, {"Dräger", []string{"Perseus A500"}}, {"GE", []string{"Aisys CS2"}}},
		[]string{"手术室 3 号间", "手术室 5 号间"}, nil},
	{"内窥镜系统", "影像设备", []demoMaker{{"奥林巴斯", []string{"EVIS X1 CV-1500"}}, {"Fujifilm", []string{"ELUXEO 7000"}}, {"Pentax", []string{"EPK-i7010"}}},
		[]string{"消化内镜中心"}, nil},
}

// placeDevice picks a medical device type and fills in's name, subtype, maker, model
// and location from it; it returns the organisation to file the device under: one of
// targets' departments that fits the type, else a hospital of targets, else o.
func placeDevice(rng *rand.Rand, in *Input, targets []DemoOrg, o DemoOrg) DemoOrg {
	dev := demoDevices[rng.Intn(len(demoDevices))]
	m := dev.makers[rng.Intn(len(dev.makers))]
	in.Name = fmt.Sprintf("%s %02d", dev.name, rng.Intn(40)+1)
	in.Subtype, in.Vendor, in.Model = dev.subtype, m.name, m.models[rng.Intn(len(m.models))]
	in.Location = dev.locations[rng.Intn(len(dev.locations))]
	var fit, hospitals []DemoOrg
	for _, t := range targets {
		switch {
		case t.Kind == "department" && slices.Contains(dev.departments, t.Name):
			fit = append(fit, t)
		case t.Kind == "hospital":
			hospitals = append(hospitals, t)
		}
	}
	switch {
	case len(fit) > 0:
		return fit[rng.Intn(len(fit))]
	case o.Kind != "department":
		return o
	case len(hospitals) > 0:
		return hospitals[rng.Intn(len(hospitals))]
	}
	return o
}

var demoOwners = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴军", "徐丽", "孙涛"}

// Generate returns n realistic hospital assets spread over orgs (hospitals and
// departments), the same for the same seed. Codes are unique across the result.
func Generate(rng *rand.Rand, orgs []DemoOrg, n int) []Input {
	var targets []DemoOrg
	for _, o := range orgs {
		if holdsAssets(o.Kind) {
			targets = append(targets, o)
		}
	}
	if len(targets) == 0 {
		targets = orgs
	}
	if len(targets) == 0 || n <= 0 {
		return nil
	}
	total := 0
	for _, t := range demoTemplates {
		total += t.weight
	}
	pick := func(xs []string) string { return xs[rng.Intn(len(xs))] }
	base := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	out := make([]Input, 0, n)
	for i := 0; i < n; i++ {
		w := rng.Intn(total)
		t := demoTemplates[0]
		for _, c := range demoTemplates {
			if w < c.weight {
				t = c
				break
			}
			w -= c.weight
		}
		o := targets[rng.Intn(len(targets))]
		in := Input{
			Code:  fmt.Sprintf("%s-%06d", t.prefix, i+1),
			Kind:  t.kind,
			Owner: pick(demoOwners),
			Zone:  pick(t.zones),
		}
		if t.kind == KindMedicalDevice {
			o = placeDevice(rng, &in, targets, o)
		} else {
			in.Name = fmt.Sprintf("%s %02d", pick(t.names), rng.Intn(40)+1)
			in.Subtype, in.Location = pick(t.subtypes), pick(t.locations)
			in.Vendor, in.Model = pick(t.vendors), pick(t.models)
		}
		in.OrgID = o.ID
		in.Serial = fmt.Sprintf("%s%08X", strings.ToUpper(t.prefix[:2]), rng.Uint32())
		in.MLPSLevel = t.mlps[rng.Intn(len(t.mlps))]
		if t.network {
			switch in.Zone {
			case ZoneMedical:
				in.IP = fmt.Sprintf("172.16.%d.%d", rng.Intn(256), rng.Intn(253)+1)
			case ZoneExternal:
				in.IP = fmt.Sprintf("203.0.113.%d", rng.Intn(253)+1)
			case ZoneDMZ:
				in.IP = fmt.Sprintf("192.168.100.%d", rng.Intn(253)+1)
			default:
				in.IP = fmt.Sprintf("10.%d.%d.%d", rng.Intn(64), rng.Intn(256), rng.Intn(253)+1)
			}
			if t.kind != KindInternetApp {
				m := rng.Uint64()
				in.MAC = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(m>>40)&0xfe, byte(m>>32), byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
			}
		}
		// Procured within the last 8 years, in service up to 90 days later.
		procured := base.AddDate(0, 0, -rng.Intn(8*365))
		inService := procured.AddDate(0, 0, rng.Intn(90))
		switch r := rng.Intn(100); {
		case r < 80:
			in.Lifecycle = LifecycleInService
		case r < 88:
			in.Lifecycle = LifecycleMaintenance
		case r < 93:
			in.Lifecycle = LifecycleRetired
		case r < 97:
			in.Lifecycle = LifecycleProcured
		default:
			in.Lifecycle = LifecyclePlanned
		}
		switch in.Lifecycle {
		case LifecyclePlanned:
		case LifecycleProcured:
			in.ProcuredOn = procured.Format(DateLayout)
		default:
			in.ProcuredOn = procured.Format(DateLayout)
			if inService.After(base) {
				inService = base
			}
			in.InServiceOn = inService.Format(DateLayout)
			if in.Lifecycle == LifecycleRetired {
				retired := inService.AddDate(0, 0, rng.Intn(5*365)+30)
				if retired.After(base) {
					retired = base
				}
				in.RetiredOn = retired.Format(DateLayout)
			}
		}
		for _, tag := range t.tags {
			if rng.Intn(4) == 0 {
				in.Tags = append(in.Tags, tag)
			}
		}
		if o.Name != "" && rng.Intn(10) == 0 {
			in.Notes = "由" + o.Name + "信息科登记"
		}
		out = append(out, in)
	}
	return out
}
