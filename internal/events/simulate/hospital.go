// Package simulate builds a deterministic synthetic hospital — departments, staff,
// patients, encounters — and the audit-event stream of its systems over some days, with
// misuse of every rule kind injected and recorded as ground truth. It is what tests,
// benchmarks and the demo feed to ingestion and detection: the same Config always gives
// the same bytes.
package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Roles of the simulated staff.
const (
	RoleDoctor     = "doctor"
	RoleNurse      = "nurse"
	RolePharmacist = "pharmacist"
	RoleTechnician = "technician"
	RoleAdmin      = "admin"
)

// Systems that emit events.
const (
	SystemHIS      = "HIS"
	SystemEMR      = "EMR"
	SystemLIS      = "LIS"
	SystemPACS     = "PACS"
	SystemInternet = "互联网医院"
)

// Departments of the simulated hospital: the clinical ones first.
var (
	ClinicalDepartments = []string{"心内科", "骨科", "急诊科", "呼吸内科", "儿科", "普外科", "妇产科"}
	deptLab             = "检验科"
	deptRadiology       = "放射科"
	deptPharmacy        = "药剂科"
	deptIT              = "信息科"
)

// Departments lists every department.
func Departments() []string {
	return append(append([]string{}, ClinicalDepartments...), deptLab, deptRadiology, deptPharmacy, deptIT)
}

// JumpHosts are the registered bastion (jump) hosts from which administrators log in to
// servers; InternalNetwork is the hospital's internal address range.
var (
	JumpHosts       = []string{"10.0.0.10", "10.0.0.11"}
	InternalNetwork = "10.0.0.0/8"
)

// Staff is a staff member, with the columns of staff.csv and the terminal they work at.
type Staff struct {
	StaffID    string
	Account    string
	Name       string
	Department string
	Role       string
	Address    string
	Terminal   string
	IP         string
	// Dormant staff (on leave) have no normal activity in the stream.
	Dormant bool
}

// Patient is a patient, with the columns of patients.csv.
type Patient struct {
	PatientID  string
	Name       string
	Address    string
	VIP        bool
	DeceasedOn string // YYYY-MM-DD or ""
	StaffID    string // set when the patient is an employee
	// Special patients (VIP, deceased, employees, staff relatives and neighbours) get no
	// encounters and no normal accesses.
	Special bool
}

// Encounter is an inpatient stay or outpatient visit, with the columns of encounters.csv.
type Encounter struct {
	PatientID  string
	StaffID    string // "" for a department-only encounter (a lab or imaging order)
	Department string
	Start      time.Time
	End        *time.Time // nil while open
}

type surname struct{ han, pinyin string }

var surnames = []surname{
	{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"}, {"黄", "huang"},
	{"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"}, {"徐", "xu"}, {"孙", "sun"}, {"马", "ma"}, {"朱", "zhu"},
	{"胡", "hu"}, {"郭", "guo"}, {"何", "he"}, {"高", "gao"}, {"林", "lin"}, {"罗", "luo"}, {"郑", "zheng"},
	{"梁", "liang"}, {"谢", "xie"}, {"宋", "song"}, {"唐", "tang"}, {"许", "xu"}, {"韩", "han"}, {"冯", "feng"},
	{"邓", "deng"}, {"曹", "cao"}, {"彭", "peng"}, {"曾", "zeng"}, {"欧阳", "ouyang"}, {"司马", "sima"},
}

var givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉鹏宇浩然欣怡子涵梓晨思远雨桐")

var districts = []string{"东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区"}
var streets = []string{"和平里", "建设路", "光明街", "幸福路", "解放路", "人民路", "长安街", "团结路", "新华街", "文化路"}

// building returns the address of building b of a pool: "北京市朝阳区建设路1号院3号楼".
func building(pool string, b int) string {
	// Staff and patient buildings are marked differently (号楼, 栋), so that they never
	// share a building by chance: every neighbour of a patient is an injected one.
	marker := "号楼"
	if pool == "patient" {
		marker = "栋"
	}
	return fmt.Sprintf("北京市%s%s%d号院%d%s", districts[b%len(districts)], streets[(b/len(districts))%len(streets)],
		b/(len(districts)*len(streets))+1, b%13+1, marker)
}

// flat returns an address in building b: "…3号楼2单元501".
func flat(pool string, b, unit, room int) string {
	return fmt.Sprintf("%s%d单元%d", building(pool, b), unit, room)
}

func (g *gen) name(sn surname) string {
	n := 1 + g.r.IntN(2)
	s := sn.han
	for range n {
		s += string(givenChars[g.r.IntN(len(givenChars))])
	}
	return s
}

func (g *gen) room() (int, int) { return 1 + g.r.IntN(4), (1+g.r.IntN(18))*100 + 1 + g.r.IntN(4) }

// hospital makes the staff, patients and encounters.
func (g *gen) hospital() {
	cfg := g.cfg
	// Staff: clinical departments take most; each support department some.
	depts := Departments()
	weights := []int{12, 10, 10, 8, 8, 8, 8, 6, 5, 5, 4}
	total := 0
	for _, w := range weights {
		total += w
	}
	buildings := max(3, cfg.Staff/3) // about three staff households a building
	for i := range cfg.Staff {
		x := g.r.IntN(total)
		d := 0
		for ; x >= weights[d]; d++ {
			x -= weights[d]
		}
		if i < len(depts) {
			d = i // every department has someone
		}
		dept := depts[d]
		role := RoleDoctor
		switch dept {
		case deptLab, deptRadiology:
			role = RoleTechnician
		case deptPharmacy:
			role = RolePharmacist
		case deptIT:
			role = RoleAdmin
		default:
			// The first of each clinical department is a doctor: every department treats.
			if i >= len(depts) && g.r.IntN(2) == 0 {
				role = RoleNurse
			}
		}
		sn := surnames[g.r.IntN(len(surnames))]
		unit, room := g.room()
		s := &Staff{
			StaffID:    fmt.Sprintf("S%05d", i+1),
			Account:    fmt.Sprintf("%s%04d", sn.pinyin, i+1),
			Name:       g.name(sn),
			Department: dept,
			Role:       role,
			Address:    flat("staff", g.r.IntN(buildings), unit, room),
			Terminal:   fmt.Sprintf("WS-%03d-%04d", d+1, i+1),
			IP:         fmt.Sprintf("10.%d.%d.%d", 20+d, (i/250)%250, i%250+2),
		}
		// Some families work here: a spouse or child with the same surname and address.
		if i > 0 && g.r.IntN(20) == 0 {
			o := g.staff[g.r.IntN(i)]
			s.Address = o.Address
			s.Name = o.Name[:len(surnameOf(o.Name))] + s.Name[len(surnameOf(s.Name)):]
			s.Account = fmt.Sprintf("%s%04d", pinyinOf(surnameOf(o.Name)), i+1)
		}
		g.staff = append(g.staff, s)
	}
	g.byDept = map[string][]*Staff{}
	for _, s := range g.staff {
		g.byDept[s.Department] = append(g.byDept[s.Department], s)
	}

	// Patients: most ordinary; a few VIP or deceased.
	pbuildings := max(10, cfg.Patients/2)
	for i := range cfg.Patients {
		sn := surnames[g.r.IntN(len(surnames))]
		unit, room := g.room()
		p := &Patient{
			PatientID: fmt.Sprintf("P%08d", 1000001+i),
			Name:      g.name(sn),
			Address:   flat("patient", g.r.IntN(pbuildings), unit, room),
		}
		switch x := g.r.IntN(100); {
		case i == 0:
		case x < 2:
			p.VIP, p.Special = true, true
		case x < 4:
			p.DeceasedOn = g.start.AddDate(0, 0, -1-g.r.IntN(300)).Format(time.DateOnly)
			p.Special = true
		}
		g.patients = append(g.patients, p)
	}
	// Employees as patients: about one staff member in ten has a record.
	for i, s := range g.staff {
		if i%10 == 3 {
			g.patients = append(g.patients, &Patient{PatientID: fmt.Sprintf("P%08d", 9000001+i), Name: s.Name,
				Address: s.Address, StaffID: s.StaffID, Special: true})
			g.employee[s.StaffID] = g.patients[len(g.patients)-1]
		}
	}
	g.encounters()
}

func surnameOf(name string) string {
	for _, s := range surnames {
		if len(s.han) > 3 && len(name) > len(s.han) && name[:len(s.han)] == s.han {
			return s.han
		}
	}
	return string([]rune(name)[:1])
}

func pinyinOf(han string) string {
	for _, s := range surnames {
		if s.han == han {
			return s.pinyin
		}
	}
	return "x"
}

// encounters gives each ordinary patient one or two stays or visits in the window (an
// inpatient stay may have started before it and may still be open at its end), with
// the treating doctor and department, and the lab, imaging and pharmacy orders of the
// support departments.
func (g *gen) encounters() {
	end := g.start.AddDate(0, 0, g.cfg.Days)
	for _, p := range g.patients {
		if g.ctx.Err() != nil {
			return
		}
		if p.Special {
			continue
		}
		for range 1 + g.r.IntN(2) {
			dept := ClinicalDepartments[g.r.IntN(len(ClinicalDepartments))]
			docs := g.doctors(dept)
			if len(docs) == 0 {
				continue
			}
			doc := docs[g.r.IntN(len(docs))]
			var start time.Time
			var stop *time.Time
			inpatient := g.r.IntN(10) < 3
			if inpatient {
				start = g.start.Add(time.Duration(g.r.IntN(g.cfg.Days+5)-5) * 24 * time.Hour).
					Add(time.Duration(8*60+g.r.IntN(12*60)) * time.Minute)
				e := start.Add(time.Duration(2+g.r.IntN(11)) * 24 * time.Hour)
				if e.Before(end) {
					stop = &e
				}
			} else {
				start = g.start.Add(time.Duration(g.r.IntN(g.cfg.Days))*24*time.Hour +
					time.Duration(8*60+g.r.IntN(9*60))*time.Minute)
				e := start.Add(time.Duration(60+g.r.IntN(120)) * time.Minute)
				stop = &e
			}
			g.enc = append(g.enc, &Encounter{PatientID: p.PatientID, StaffID: doc.StaffID, Department: dept, Start: start, End: stop})
			order := func(dept string, after, length time.Duration) {
				s := start.Add(after)
				e := s.Add(length)
				g.enc = append(g.enc, &Encounter{PatientID: p.PatientID, Department: dept, Start: s, End: &e})
			}
			if g.r.IntN(10) < 6 {
				order(deptLab, 30*time.Minute, 24*time.Hour)
			}
			if g.r.IntN(10) < 3 {
				order(deptRadiology, 40*time.Minute, 24*time.Hour)
			}
			if inpatient || g.r.IntN(2) == 0 {
				l := 2 * time.Hour
				if stop != nil {
					l = stop.Sub(start)
				} else {
					l = end.Sub(start)
				}
				order(deptPharmacy, 50*time.Minute, l)
			}
		}
	}
}

func (g *gen) doctors(dept string) []*Staff {
	var out []*Staff
	for _, s := range g.byDept[dept] {
		if s.Role == RoleDoctor {
			out = append(out, s)
		}
	}
	return out
}

// newRand is the generator of a seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x6d656467756172)) }
