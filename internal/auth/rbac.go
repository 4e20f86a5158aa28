package auth

// The roles a user account can hold.
const (
	RoleAdmin       = "admin"            // platform administrator (manages orgs, users, settings in its subtree)
	RoleSecurity    = "security_officer" // hospital security officer: reads and writes security data
	RolePrivacy     = "privacy_officer"  // privacy/compliance officer: reads assets, reads the trail
	RoleAuditor     = "auditor"          // read-only everything in scope, including the trail
	RoleITOps       = "it_ops"           // IT operations: reads and writes assets
	RoleAppOperator = "app_operator"     // internet-hospital app operator: reads assets
	RoleRegulator   = "regulator"        // read-only across its region
)

// Roles lists every known role, in the order the user interface offers them.
var Roles = []string{RoleAdmin, RoleSecurity, RolePrivacy, RoleAuditor, RoleITOps, RoleAppOperator, RoleRegulator}

// Permission names one thing a role may do.
type Permission string

// The permissions checked by the web layer, the CLI and the services.
const (
	PermSelf       Permission = "self" // any signed-in user: own profile, password, MFA, own API tokens
	PermDashboard  Permission = "dashboard.read"
	PermAssetRead  Permission = "asset.read"
	PermAssetWrite Permission = "asset.write"
	PermOrgRead    Permission = "org.read"
	PermOrgManage  Permission = "org.manage"
	PermUserRead   Permission = "user.read"
	PermUserManage Permission = "user.manage"
	PermTrailRead  Permission = "trail.read"
	// Software supply chain.
	PermSupplyRead    Permission = "supply.read"    // vendors, products, SBOMs, findings, risk view, alerts
	PermSupplyWrite   Permission = "supply.write"   // vendors, products, versions, SBOM upload, delivery checks, gate runs
	PermFindingDecide Permission = "finding.decide" // accept a risk, mark a false positive, acknowledge alerts
	PermGateManage    Permission = "gate.manage"    // gate policies and the licence policy
	PermVulnDBManage  Permission = "vulndb.manage"  // import OSV advisories
	// Patient-data detection (DLP).
	PermDLPRead   Permission = "dlp.read"   // scan history, files, verdicts, masked findings, policy, charts
	PermDLPScan   Permission = "dlp.scan"   // scan text and uploads, start path jobs
	PermDLPCheck  Permission = "dlp.check"  // the pre-send policy check (a gateway's token may hold only this)
	PermDLPReveal Permission = "dlp.reveal" // reveal the raw value of a finding (trailed)
	PermDLPManage Permission = "dlp.manage" // the pre-send policy and site identifiers

	PermNotifyRead   Permission = "notify.read"   // notification channels, routes, deliveries and dead letters
	PermNotifyManage Permission = "notify.manage" // add channels and routes, send test messages, re-send dead letters

	// The alert inbox of every module (package alert).
	PermAlertRead   Permission = "alert.read"   // alerts (patient ids masked), cases, silences, SLA
	PermAlertManage Permission = "alert.manage" // acknowledge, status and assignment, cases and comments, silences, SLA

	// Reference data that explains patient-record accesses (package reference).
	PermReferenceRead   Permission = "reference.read"   // counts of staff, patients and encounters
	PermReferenceManage Permission = "reference.manage" // import staff, patients and encounters
	// Audit events of hospital systems (package events).
	PermEventsIngest Permission = "events.ingest" // send audit events (a source system's token may hold only this)
	// Audit-event monitoring (packages detect and explain).
	PermMonitorRead        Permission = "monitor.read"        // event and alert charts, the rule library, rule tests
	PermMonitorInvestigate Permission = "monitor.investigate" // an account's events and a patient's access report (patient-level)
	PermMonitorManage      Permission = "monitor.manage"      // edit, enable and disable rules
	// Internet-hospital apps (package appreg).
	PermAppRead    Permission = "app.read"    // the app registry: apps, findings, scores, codes
	PermAppApply   Permission = "app.apply"   // apply for admission or re-admission, upload an APK for inspection
	PermAppReview  Permission = "app.review"  // approve or reject applications, rotate codes, evict
	PermAppObserve Permission = "app.observe" // report what a channel serves (a crawler's token may hold only this)
	// PermAppReport pushes a hospital's app report to a regional medguard (package
	// upstream); the token of an upstream link holds only this.
	PermAppReport Permission = "app.report"
	// Risks, incidents, emergency plans and drills (packages risk and incident).
	PermRiskRead      Permission = "risk.read"      // the risk register and its heat map
	PermRiskWrite     Permission = "risk.write"     // create, rate, treat and review risks; tasks; acceptances; risks from findings
	PermIncidentRead  Permission = "incident.read"  // incidents, their clocks, timelines and evidence; plans and drills
	PermIncidentWrite Permission = "incident.write" // open and work incidents, report them, attach evidence; adopt, approve and drill plans
	// Compliance: catalogues, assessments and evidence, policies, training, the data-flow
	// register (packages control, assess, policy, training, dataflow). Taking a course's
	// exam or confirming one's own attendance needs only PermSelf.
	PermComplianceRead  Permission = "compliance.read"  // catalogues, assessments, evidence, policies, training records, data flows
	PermComplianceWrite Permission = "compliance.write" // assess items, attach evidence, manage policies, courses, exams and data flows
	// Periodic reports (package report).
	PermReportRead  Permission = "report.read"  // stored reports and their templates and schedules
	PermReportWrite Permission = "report.write" // generate reports, edit templates and schedules
)

// AllPermissions lists every permission.
var AllPermissions = []Permission{PermSelf, PermDashboard, PermAssetRead, PermAssetWrite, PermOrgRead,
	PermOrgManage, PermUserRead, PermUserManage, PermTrailRead, PermSupplyRead, PermSupplyWrite, PermFindingDecide,
	PermGateManage, PermVulnDBManage, PermDLPRead, PermDLPScan, PermDLPCheck, PermDLPReveal, PermDLPManage,
	PermNotifyRead, PermNotifyManage, PermAlertRead, PermAlertManage, PermReferenceRead, PermReferenceManage, PermEventsIngest,
	PermMonitorRead, PermMonitorInvestigate, PermMonitorManage, PermAppRead, PermAppApply, PermAppReview, PermAppObserve, PermAppReport,
	PermRiskRead, PermRiskWrite, PermIncidentRead, PermIncidentWrite, PermComplianceRead, PermComplianceWrite,
	PermReportRead, PermReportWrite}

// basePermissions are held by every role.
var basePermissions = []Permission{PermSelf, PermDashboard, PermAssetRead, PermOrgRead, PermSupplyRead}

// rolePermissions is the whole authorisation table: what each role holds on top of
// basePermissions. It is the only place where roles are mapped to permissions.
var rolePermissions = map[string][]Permission{
	RoleAdmin: AllPermissions,
	RoleSecurity: {PermAssetWrite, PermUserRead, PermTrailRead, PermSupplyWrite, PermFindingDecide, PermGateManage,
		PermDLPRead, PermDLPScan, PermDLPCheck, PermDLPManage, PermNotifyRead, PermNotifyManage, PermAlertRead, PermAlertManage,
		PermReferenceRead, PermReferenceManage, PermEventsIngest, PermMonitorRead, PermMonitorInvestigate, PermMonitorManage,
		PermAppRead, PermAppApply, PermAppReview, PermAppObserve, PermAppReport,
		PermRiskRead, PermRiskWrite, PermIncidentRead, PermIncidentWrite, PermComplianceRead, PermComplianceWrite,
		PermReportRead, PermReportWrite},
	// The privacy officer owns patient data: the only role besides the administrator
	// that may reveal a raw value.
	RolePrivacy: {PermUserRead, PermTrailRead, PermDLPRead, PermDLPScan, PermDLPCheck, PermDLPReveal, PermDLPManage, PermNotifyRead,
		PermAlertRead, PermAlertManage, PermReferenceRead, PermReferenceManage, PermMonitorRead, PermMonitorInvestigate, PermMonitorManage,
		PermAppRead, PermRiskRead, PermRiskWrite, PermIncidentRead, PermIncidentWrite, PermComplianceRead, PermComplianceWrite,
		PermReportRead, PermReportWrite},
	RoleAuditor: {PermUserRead, PermTrailRead, PermDLPRead, PermNotifyRead, PermAlertRead, PermReferenceRead, PermMonitorRead,
		PermMonitorInvestigate, PermAppRead, PermRiskRead, PermIncidentRead, PermComplianceRead, PermReportRead},
	// IT operations run scans and jobs over the servers they keep, and read the masked
	// results of what they started.
	RoleITOps: {PermAssetWrite, PermSupplyWrite, PermDLPRead, PermDLPScan, PermDLPCheck, PermNotifyRead, PermAlertRead,
		PermEventsIngest, PermAppRead, PermAppObserve, PermRiskRead, PermIncidentRead, PermIncidentWrite, PermComplianceRead},
	// The operator of an internet-hospital app files it, applies again after an
	// eviction, reports what its channels serve and uploads builds for inspection; the
	// service account of an upstream link is one, with a token of scope app.report.
	RoleAppOperator: {PermAppRead, PermAppApply, PermAppObserve, PermAppReport},
	RoleRegulator: {PermUserRead, PermTrailRead, PermDLPRead, PermAlertRead, PermMonitorRead, PermAppRead, PermRiskRead,
		PermIncidentRead, PermComplianceRead, PermReportRead},
}

// Allowed is the single authorisation decision: it reports whether role holds
// permission p. An unknown role holds nothing.
func Allowed(role string, p Permission) bool {
	extra, ok := rolePermissions[role]
	if !ok {
		return false
	}
	for _, q := range basePermissions {
		if q == p {
			return true
		}
	}
	for _, q := range extra {
		if q == p {
			return true
		}
	}
	return false
}

// Permissions lists the permissions role holds, in the order of AllPermissions (nil for
// an unknown role).
func Permissions(role string) []Permission {
	var out []Permission
	for _, p := range AllPermissions {
		if Allowed(role, p) {
			out = append(out, p)
		}
	}
	return out
}

// KnownRole reports whether role is one of Roles.
func KnownRole(role string) bool {
	_, ok := rolePermissions[role]
	return ok
}

// ReadOnly reports whether p only reads data, and so is usable with a "read" API token.
func (p Permission) ReadOnly() bool {
	switch p {
	case PermDashboard, PermAssetRead, PermOrgRead, PermUserRead, PermTrailRead, PermSupplyRead, PermDLPRead, PermAlertRead, PermReferenceRead,
		PermMonitorRead, PermMonitorInvestigate, PermAppRead, PermRiskRead, PermIncidentRead, PermComplianceRead, PermReportRead:
		return true
	}
	return false
}
