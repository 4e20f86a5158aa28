package corpus

// region is a county-level division: its GB/T 2260 code and its names.
// City is empty for the four municipalities (北京市朝阳区). Historic codes
// were retired (崇文区 merged into 东城区 in 2010) but still begin the ID
// numbers of people registered there; they are used for IDs only, with the
// address of the division that replaced them.
type region struct {
	code, province, city, district string
	historic                       bool
}

// regions is a hand-picked list of real divisions across every province.
// corpus_test.go checks each code against the detector's GB/T 2260 list
// and each name against its division names, so a typo here shows.
var regions = []region{
	{"110101", "北京市", "", "东城区", false},
	{"110102", "北京市", "", "西城区", false},
	{"110105", "北京市", "", "朝阳区", false},
	{"110106", "北京市", "", "丰台区", false},
	{"110108", "北京市", "", "海淀区", false},
	{"110103", "北京市", "", "东城区", true}, // 崇文区, retired 2010
	{"110104", "北京市", "", "西城区", true}, // 宣武区, retired 2010
	{"120101", "天津市", "", "和平区", false},
	{"120104", "天津市", "", "南开区", false},
	{"130102", "河北省", "石家庄市", "长安区", false},
	{"140105", "山西省", "太原市", "小店区", false},
	{"150102", "内蒙古自治区", "呼和浩特市", "新城区", false},
	{"210102", "辽宁省", "沈阳市", "和平区", false},
	{"220102", "吉林省", "长春市", "南关区", false},
	{"230103", "黑龙江省", "哈尔滨市", "南岗区", false},
	{"310101", "上海市", "", "黄浦区", false},
	{"310104", "上海市", "", "徐汇区", false},
	{"310105", "上海市", "", "长宁区", false},
	{"310115", "上海市", "", "浦东新区", false},
	{"320102", "江苏省", "南京市", "玄武区", false},
	{"320106", "江苏省", "南京市", "鼓楼区", false},
	{"320508", "江苏省", "苏州市", "姑苏区", false},
	{"330102", "浙江省", "杭州市", "上城区", false},
	{"330106", "浙江省", "杭州市", "西湖区", false},
	{"340104", "安徽省", "合肥市", "蜀山区", false},
	{"350102", "福建省", "福州市", "鼓楼区", false},
	{"350203", "福建省", "厦门市", "思明区", false},
	{"360102", "江西省", "南昌市", "东湖区", false},
	{"370102", "山东省", "济南市", "历下区", false},
	{"370202", "山东省", "青岛市", "市南区", false},
	{"410105", "河南省", "郑州市", "金水区", false},
	{"420102", "湖北省", "武汉市", "江岸区", false},
	{"420106", "湖北省", "武汉市", "武昌区", false},
	{"430102", "湖南省", "长沙市", "芙蓉区", false},
	{"430104", "湖南省", "长沙市", "岳麓区", false},
	{"440103", "广东省", "广州市", "荔湾区", false},
	{"440104", "广东省", "广州市", "越秀区", false},
	{"440106", "广东省", "广州市", "天河区", false},
	{"440304", "广东省", "深圳市", "福田区", false},
	{"440305", "广东省", "深圳市", "南山区", false},
	{"450103", "广西壮族自治区", "南宁市", "青秀区", false},
	{"460105", "海南省", "海口市", "秀英区", false},
	{"500103", "重庆市", "", "渝中区", false},
	{"510104", "四川省", "成都市", "锦江区", false},
	{"510107", "四川省", "成都市", "武侯区", false},
	{"520102", "贵州省", "贵阳市", "南明区", false},
	{"530102", "云南省", "昆明市", "五华区", false},
	{"610103", "陕西省", "西安市", "碑林区", false},
	{"610113", "陕西省", "西安市", "雁塔区", false},
	{"620102", "甘肃省", "兰州市", "城关区", false},
	{"650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", false},
}

// unknownRegions are six-digit prefixes that are no GB/T 2260 code of any
// revision: provinces 10, 19, 72, 90 and 99 do not exist, and 000000 is
// a filler. corpus_test.go checks that none is in the detector's list.
var unknownRegions = []string{"100101", "190102", "720101", "900105", "990105", "000000"}

// areaCodes are long-distance area codes of large cities; three-digit
// codes have eight-digit local numbers, four-digit codes seven or eight.
var areaCodes = []string{
	"010", "020", "021", "022", "023", "024", "025", "027", "028", "029",
	"0311", "0351", "0371", "0431", "0451", "0471", "0512", "0531", "0532", "0551",
	"0571", "0591", "0592", "0731", "0755", "0771", "0791", "0851", "0871", "0898", "0931", "0991",
}
