package dlp

import "slices"

// Health-data categories of GB/T 39725-2020 (健康医疗数据分类).
const (
	CategoryPersonalAttribute  = "personal_attribute"  // 个人属性数据
	CategoryHealthStatus       = "health_status"       // 健康状况数据
	CategoryMedicalApplication = "medical_application" // 医疗应用数据
	CategoryMedicalPayment     = "medical_payment"     // 医疗支付数据
	CategoryHealthResource     = "health_resource"     // 卫生资源数据
	CategoryPublicHealth       = "public_health"       // 公共卫生数据
)

// Categories returns every GB/T 39725-2020 category in the standard's order.
func Categories() []string {
	return []string{
		CategoryPersonalAttribute, CategoryHealthStatus, CategoryMedicalApplication,
		CategoryMedicalPayment, CategoryHealthResource, CategoryPublicHealth,
	}
}

func validCategory(c string) bool { return slices.Contains(Categories(), c) }

// Classification is the category and sensitivity level (1 lowest, 5
// highest) of a type of data under GB/T 39725-2020. Level 4 is data that
// directly identifies a person; level 5 is data that could seriously harm a
// person if disclosed (e.g. infectious or mental-illness diagnoses); level 3
// is health data that identifies a person only with other data.
type Classification struct {
	Category string `json:"category"`
	Level    int    `json:"level"`
}

// Classify returns the classification of a built-in type, and false for an
// unknown type.
func Classify(typ string) (Classification, bool) {
	switch typ {
	case TypeResidentID, TypePassport, TypeHKMacauPermit, TypePersonName, TypeMobile, TypeEmail:
		return Classification{CategoryPersonalAttribute, 4}, true
	case TypeAddress, TypeLandline, TypeIPAddress:
		return Classification{CategoryPersonalAttribute, 3}, true
	case TypeBankCard, TypeMedicalInsurance:
		return Classification{CategoryMedicalPayment, 4}, true
	case TypeUSCC:
		return Classification{CategoryHealthResource, 1}, true
	case TypeDiagnosis, TypeLabResult:
		return Classification{CategoryHealthStatus, 3}, true
	case TypeDrug, TypePrescription:
		return Classification{CategoryMedicalApplication, 3}, true
	}
	return Classification{}, false
}

// identifying reports whether a finding of this type identifies a person.
func identifying(typ string) bool {
	switch typ {
	case TypeResidentID, TypePassport, TypeHKMacauPermit, TypePersonName, TypeMobile,
		TypeEmail, TypeBankCard, TypeMedicalInsurance:
		return true
	}
	return false
}

// healthData reports whether a finding of this category is health data.
func healthData(category string) bool {
	switch category {
	case CategoryHealthStatus, CategoryMedicalApplication, CategoryMedicalPayment:
		return true
	}
	return false
}

// FileVerdict summarises the findings of one file.
type FileVerdict struct {
	// HighestLevel is the highest level among the findings, raised to at
	// least 4 when the file identifies a person; 0 when there are none.
	HighestLevel int `json:"highest_level"`
	// CountsByType counts findings per type.
	CountsByType map[string]int `json:"counts_by_type"`
	// IdentifiesPerson is true when the file holds both an identifier of a
	// person and health data (health status, medical application or
	// payment data).
	IdentifiesPerson bool `json:"identifies_person"`
}

// Verdict summarises findings (as returned by Scanner.Scan) into a
// FileVerdict.
func Verdict(findings []Finding) FileVerdict {
	v := FileVerdict{CountsByType: map[string]int{}}
	var ident, health bool
	for _, f := range findings {
		v.CountsByType[f.Type]++
		v.HighestLevel = max(v.HighestLevel, f.Level)
		_, builtin := Classify(f.Type)
		// Site identifiers (病案号, 住院号 …) of level 4 and up identify a
		// patient.
		isIdent := identifying(f.Type) || !builtin && f.Level >= 4
		if isIdent {
			ident = true
		} else if healthData(f.Category) {
			health = true
		}
	}
	v.IdentifiesPerson = ident && health
	if v.IdentifiesPerson {
		v.HighestLevel = max(v.HighestLevel, 4)
	}
	return v
}
