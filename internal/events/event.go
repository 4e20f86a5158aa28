// Package events holds the audit events of hospital systems (HIS, EMR, LIS, PACS, the
// internet hospital …) in one normalized shape, whatever protocol brought them: HTTP,
// syslog, FHIR AuditEvent, DICOM audit messages or a file import.
package events

import "time"

// The actions an event may record.
const (
	ActionLogin           = "login"
	ActionLogout          = "logout"
	ActionLoginFailure    = "login_failure"
	ActionView            = "view"
	ActionSearch          = "search"
	ActionCreate          = "create"
	ActionModify          = "modify"
	ActionPrint           = "print"
	ActionExport          = "export"
	ActionDelete          = "delete"
	ActionPrescribe       = "prescribe"
	ActionQueryDrugUsage  = "query_drug_usage"
	ActionPrivilegeChange = "privilege_change"
)

// Actions lists every action, in the order above.
func Actions() []string {
	return []string{ActionLogin, ActionLogout, ActionLoginFailure, ActionView, ActionSearch, ActionCreate, ActionModify,
		ActionPrint, ActionExport, ActionDelete, ActionPrescribe, ActionQueryDrugUsage, ActionPrivilegeChange}
}

// The outcomes of an event.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Event is one normalized audit event. The JSON field names are a contract: they are the
// names of `medguard events import --format json` (NDJSON) and of POST /api/v1/events.
type Event struct {
	// ID is unique per source system; a second event with the same system, id and time (a
	// source re-sending it) is a duplicate and is dropped. An id used again at another time
	// is kept as another event: audit records are not dropped on a source's say-so.
	ID string `json:"id"`
	// Time is stored in UTC to the microsecond (finer digits are dropped on either engine).
	Time        time.Time `json:"time"`
	System      string    `json:"system"` // HIS, EMR, LIS, PACS, internet hospital …
	Account     string    `json:"account"`
	StaffID     string    `json:"staff_id,omitempty"`
	Department  string    `json:"department,omitempty"`
	Action      string    `json:"action"`
	Outcome     string    `json:"outcome,omitempty"` // success (default) or failure
	PatientID   string    `json:"patient_id,omitempty"`
	RecordType  string    `json:"record_type,omitempty"`
	RecordCount int       `json:"record_count,omitempty"`
	SourceIP    string    `json:"source_ip,omitempty"`
	Terminal    string    `json:"terminal,omitempty"`
	// Raw is the original as received (a syslog line, a FHIR resource, a DICOM audit
	// message, a CSV row); it is stored as it came.
	Raw string `json:"raw,omitempty"`
}
