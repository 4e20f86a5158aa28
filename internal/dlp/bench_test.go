package dlp_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/medguard/medguard/internal/dlp"
)

// mixedCorpus generates about size bytes of Chinese clinical text, logs and
// CSV rows with identifiers sprinkled in, deterministically.
func mixedCorpus(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	clinical := []string{
		"患者因反复咳嗽咳痰三天入院，查体：体温 37.8℃，双肺呼吸音粗，可闻及湿啰音。",
		"既往体健，否认药物过敏史，否认手术外伤史，预防接种史随当地。",
		"入院后完善相关检查，给予抗感染、化痰、平喘等对症支持治疗，病情好转。",
		"主诉：头晕乏力一周。现病史：患者一周前无明显诱因出现头晕，伴乏力，无恶心呕吐。",
		"出院医嘱：注意休息，清淡饮食，定期复查，不适随诊。",
	}
	for b.Len() < size {
		switch r.IntN(6) {
		case 0, 1, 2:
			b.WriteString(clinical[r.IntN(len(clinical))])
		case 3:
			fmt.Fprintf(&b, "2024-05-%02d 10:%02d:%02d INFO request id=%08x path=/api/v1/patients status=200 latency=%dms client=10.%d.%d.%d\n",
				1+r.IntN(28), r.IntN(60), r.IntN(60), r.Uint32(), r.IntN(900), r.IntN(256), r.IntN(256), r.IntN(256))
		case 4:
			fmt.Fprintf(&b, "%d,%s,%d,%d.%02d,门诊,%08d\n", r.IntN(1e6), []string{"男", "女"}[r.IntN(2)], 18+r.IntN(70), r.IntN(500), r.IntN(100), r.IntN(1e8))
		case 5:
			switch r.IntN(4) {
			case 0:
				b.WriteString("患者王小明，身份证号11010519491231002X，")
			case 1:
				b.WriteString("联系电话13812345678，")
			case 2:
				b.WriteString("诊断：2型糖尿病，二甲双胍片 0.5g 口服 tid。")
			case 3:
				b.WriteString("住址：北京市海淀区中关村大街27号。")
			}
		}
	}
	return b.Bytes()
}

func BenchmarkScan(b *testing.B) {
	text := mixedCorpus(4 << 20)
	for _, bc := range []struct {
		name string
		cfg  dlp.Config
	}{
		{"structured", dlp.Config{Types: dlp.StructuredTypes()}},
		{"all", dlp.Config{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := dlp.NewScanner(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				s.Scan(text)
			}
		})
	}
}

func TestMixedCorpusFindings(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{})
	v := dlp.Verdict(s.Scan(mixedCorpus(64 << 10)))
	for _, typ := range []string{dlp.TypeResidentID, dlp.TypeMobile, dlp.TypeIPAddress, dlp.TypeAddress, dlp.TypePersonName, dlp.TypeDiagnosis} {
		if v.CountsByType[typ] == 0 {
			t.Errorf("no %s in generated corpus: %v", typ, v.CountsByType)
		}
	}
}
