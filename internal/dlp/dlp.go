// Package dlp owns medguard's patient-data detection engine: the detectors
// for Chinese and international personal identifiers (resident ID, mobile and
// landline numbers, bank cards, passports, permits, USCC, medical insurance
// numbers, e-mail and IP addresses), the dictionary detectors for names,
// addresses and clinical content, site-configurable identifiers, and the
// classification of findings into the categories and levels of
// GB/T 39725-2020.
//
// A Scanner makes one pass over a text with cheap byte-level pre-filters
// (ASCII alphanumeric runs, '@', CJK context) and confirms candidates with
// checksums and dictionaries; regular expressions are used only for
// site-configured identifiers. Findings never carry the raw value: Preview
// is masked.
//
//go:generate go run ./internal/gendata -src ../../../shared/data/cn -out .
package dlp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Detector type names.
const (
	TypeResidentID       = "cn_resident_id"
	TypeMobile           = "cn_mobile"
	TypeLandline         = "cn_landline"
	TypeEmail            = "email"
	TypeBankCard         = "bank_card"
	TypePassport         = "cn_passport"
	TypeHKMacauPermit    = "hk_macau_permit"
	TypeUSCC             = "cn_uscc"
	TypeMedicalInsurance = "medical_insurance_no"
	TypeIPAddress        = "ip_address"
	TypePersonName       = "person_name"
	TypeAddress          = "address"
	TypeDrug             = "drug"
	TypePrescription     = "prescription"
	TypeLabResult        = "lab_result"
	TypeDiagnosis        = "diagnosis"
)

// StructuredTypes returns the built-in types found by the structured
// (checksum and pattern) pass, in a stable order.
func StructuredTypes() []string {
	return []string{
		TypeResidentID, TypeMobile, TypeLandline, TypeEmail, TypeBankCard, TypePassport,
		TypeHKMacauPermit, TypeUSCC, TypeMedicalInsurance, TypeIPAddress,
	}
}

// DictionaryTypes returns the built-in types found by dictionaries and
// context.
func DictionaryTypes() []string {
	return []string{
		TypePersonName, TypeAddress, TypeDrug, TypePrescription, TypeLabResult, TypeDiagnosis,
	}
}

// Finding is one piece of detected data in a text. Start and End are byte
// offsets into the scanned text (End exclusive); Line is 1-based. Preview is
// masked and never contains the whole raw value.
type Finding struct {
	Type       string  `json:"type"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Line       int     `json:"line"`
	Confidence float64 `json:"confidence"`
	Preview    string  `json:"preview"`
	Category   string  `json:"category"`
	Level      int     `json:"level"`
}

// Detector finds one or more types of data in a text. Find calls emit for
// every finding with Type, Start, End and Confidence set; the Scanner fills
// in Line, Preview, Category and Level.
type Detector interface {
	// Types returns the types this detector can emit.
	Types() []string
	// Find reports the findings in text.
	Find(text []byte, emit func(Finding))
}

// CustomIdentifier is a site-specific identifier such as a medical record
// number (病案号), an outpatient or inpatient number or a patient card
// number, defined by a regular expression and context words.
type CustomIdentifier struct {
	// Name is the finding type, e.g. "medical_record_no".
	Name string `json:"name" yaml:"name"`
	// Pattern is an RE2 regular expression matching the value itself.
	Pattern string `json:"pattern" yaml:"pattern"`
	// Context holds words (e.g. 病案号, 住院号) that, when found shortly
	// before a match, raise its confidence.
	Context []string `json:"context" yaml:"context"`
	// RequireContext drops matches that have no context word before them.
	RequireContext bool `json:"require_context" yaml:"require_context"`
	// Category and Level override the default classification (medical
	// application data, level 4).
	Category string `json:"category" yaml:"category"`
	Level    int    `json:"level" yaml:"level"`
}

// Config selects what a Scanner looks for.
type Config struct {
	// Types limits the built-in and custom types reported; empty means all.
	Types []string `json:"types" yaml:"types"`
	// MinConfidence drops findings below this confidence (0–1).
	MinConfidence float64 `json:"min_confidence" yaml:"min_confidence"`
	// Custom defines site-specific identifiers.
	Custom []CustomIdentifier `json:"custom" yaml:"custom"`
}

// ErrConfig is wrapped by every configuration error of NewScanner.
var ErrConfig = errors.New("dlp: invalid configuration")

// AllTypes returns the names of every built-in type.
func AllTypes() []string {
	return slices.Concat(StructuredTypes(), DictionaryTypes())
}

func (c Config) validate() error {
	known := map[string]bool{}
	for _, t := range AllTypes() {
		known[t] = true
	}
	for i, ci := range c.Custom {
		if !validCustomName(ci.Name) {
			return fmt.Errorf("%w: custom[%d].name %q: want lower-case letters, digits and _", ErrConfig, i, ci.Name)
		}
		if known[ci.Name] {
			return fmt.Errorf("%w: custom[%d].name %q: duplicates a type", ErrConfig, i, ci.Name)
		}
		known[ci.Name] = true
		if strings.TrimSpace(ci.Pattern) == "" {
			return fmt.Errorf("%w: custom[%d].pattern: empty", ErrConfig, i)
		}
		if ci.RequireContext && len(ci.Context) == 0 {
			return fmt.Errorf("%w: custom[%d].context: required but empty", ErrConfig, i)
		}
		if ci.Level < 0 || ci.Level > 5 {
			return fmt.Errorf("%w: custom[%d].level %d: want 1–5", ErrConfig, i, ci.Level)
		}
		if ci.Category != "" && !validCategory(ci.Category) {
			return fmt.Errorf("%w: custom[%d].category %q: unknown", ErrConfig, i, ci.Category)
		}
	}
	for _, t := range c.Types {
		if !known[t] {
			return fmt.Errorf("%w: types: unknown type %q", ErrConfig, t)
		}
	}
	if c.MinConfidence < 0 || c.MinConfidence > 1 {
		return fmt.Errorf("%w: min_confidence %v: want 0–1", ErrConfig, c.MinConfidence)
	}
	return nil
}

func validCustomName(s string) bool {
	if s == "" || len(s) > 64 || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
