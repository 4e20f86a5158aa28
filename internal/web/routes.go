package web

import (
	"net/http"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
)

// handlerFunc is an HTTP handler that returns its error to the wrapper, which maps it to
// a response (JSON for the API, an HTML page for the UI) and logs the internal cause.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the table below: method and pattern, the permission it needs
// ("" = public), whether it is part of the JSON API, whether a session that has not
// yet passed its MFA step may use it, whether an unsafe method only reads (so that a
// read-only API token may use it), and the largest multipart body it accepts (0 =
// maxUpload).
type route struct {
	Method   string
	Pattern  string
	Perm     auth.Permission
	API      bool
	PreMFA   bool
	ReadOnly bool
	Upload   int64
	h        handlerFunc
}

const public auth.Permission = ""

// routeTable is the table of contents of medguard's HTTP surface.
func (s *Server) routeTable() []route {
	static := func(w http.ResponseWriter, r *http.Request) error { s.handleStatic().ServeHTTP(w, r); return nil }
	metrics := func(w http.ResponseWriter, r *http.Request) error { s.handleMetrics().ServeHTTP(w, r); return nil }
	api := func(m, p string, perm auth.Permission, h handlerFunc) route {
		return route{Method: m, Pattern: p, Perm: perm, API: true, h: h}
	}
	ui := func(m, p string, perm auth.Permission, h handlerFunc) route {
		return route{Method: m, Pattern: p, Perm: perm, h: h}
	}
	preMFA := func(r route) route { r.PreMFA = true; return r }
	readOnly := func(r route) route { r.ReadOnly = true; return r }
	upload := func(limit int64, r route) route { r.Upload = limit; return r }
	return []route{
		// Operations.
		ui("GET", "/healthz", public, s.healthz),
		ui("GET", "/readyz", public, s.readyz),
		ui("GET", "/metrics", public, metrics),
		ui("GET", "/static/", public, static),

		// JSON API.
		api("GET", "/api/v1/openapi.json", public, s.apiOpenAPI),
		api("GET", "/api/v1/me", auth.PermSelf, s.apiMe),
		api("PUT", "/api/v1/me/locale", auth.PermSelf, s.apiSetLocale),
		api("GET", "/api/v1/dashboard", auth.PermDashboard, s.apiDashboard),

		api("GET", "/api/v1/assets", auth.PermAssetRead, s.apiAssetList),
		api("POST", "/api/v1/assets", auth.PermAssetWrite, s.apiAssetCreate),
		api("GET", "/api/v1/assets/export", auth.PermAssetRead, s.apiAssetExport),
		upload(maxImportBody, api("POST", "/api/v1/assets/import", auth.PermAssetWrite, s.apiAssetImport)),
		api("GET", "/api/v1/assets/{id}", auth.PermAssetRead, s.apiAssetGet),
		api("PUT", "/api/v1/assets/{id}", auth.PermAssetWrite, s.apiAssetUpdate),
		api("DELETE", "/api/v1/assets/{id}", auth.PermAssetWrite, s.apiAssetDelete),
		api("POST", "/api/v1/assets/{id}/retire", auth.PermAssetWrite, s.apiAssetRetire),

		api("GET", "/api/v1/orgs", auth.PermOrgRead, s.apiOrgList),
		api("POST", "/api/v1/orgs", auth.PermOrgManage, s.apiOrgCreate),
		api("GET", "/api/v1/orgs/{id}", auth.PermOrgRead, s.apiOrgGet),
		api("PUT", "/api/v1/orgs/{id}", auth.PermOrgManage, s.apiOrgUpdate),
		api("DELETE", "/api/v1/orgs/{id}", auth.PermOrgManage, s.apiOrgDelete),

		api("GET", "/api/v1/users", auth.PermUserRead, s.apiUserList),
		api("POST", "/api/v1/users", auth.PermUserManage, s.apiUserCreate),
		api("GET", "/api/v1/users/{id}", auth.PermUserRead, s.apiUserGet),
		api("PUT", "/api/v1/users/{id}", auth.PermUserManage, s.apiUserUpdate),
		api("POST", "/api/v1/users/{id}/password", auth.PermUserManage, s.apiUserPassword),
		api("POST", "/api/v1/users/{id}/disable", auth.PermUserManage, s.apiUserDisable),
		api("POST", "/api/v1/users/{id}/enable", auth.PermUserManage, s.apiUserEnable),
		api("POST", "/api/v1/users/{id}/reset-mfa", auth.PermUserManage, s.apiUserResetMFA),

		api("GET", "/api/v1/tokens", auth.PermSelf, s.apiTokenList),
		api("POST", "/api/v1/tokens", auth.PermSelf, s.apiTokenCreate),
		api("DELETE", "/api/v1/tokens/{id}", auth.PermSelf, s.apiTokenRevoke),

		api("GET", "/api/v1/trail", auth.PermTrailRead, s.apiTrailList),
		api("POST", "/api/v1/trail/verify", auth.PermTrailRead, s.apiTrailVerify),

		api("GET", "/api/v1/supply/risk", auth.PermSupplyRead, s.apiSupplyRisk),
		api("GET", "/api/v1/vendors", auth.PermSupplyRead, s.apiVendorList),
		api("POST", "/api/v1/vendors", auth.PermSupplyWrite, s.apiVendorCreate),
		api("GET", "/api/v1/vendors/{id}", auth.PermSupplyRead, s.apiVendorGet),
		api("PUT", "/api/v1/vendors/{id}", auth.PermSupplyWrite, s.apiVendorUpdate),
		api("POST", "/api/v1/vendors/{id}/contracts", auth.PermSupplyWrite, s.apiVendorContract),
		api("POST", "/api/v1/vendors/{id}/keys", auth.PermSupplyWrite, s.apiVendorKey),
		api("GET", "/api/v1/products", auth.PermSupplyRead, s.apiProductList),
		api("POST", "/api/v1/products", auth.PermSupplyWrite, s.apiProductCreate),
		api("GET", "/api/v1/products/{id}", auth.PermSupplyRead, s.apiProductGet),
		api("PUT", "/api/v1/products/{id}", auth.PermSupplyWrite, s.apiProductUpdate),
		api("GET", "/api/v1/products/{id}/versions", auth.PermSupplyRead, s.apiVersionList),
		api("POST", "/api/v1/products/{id}/versions", auth.PermSupplyWrite, s.apiVersionCreate),
		api("GET", "/api/v1/versions/{id}", auth.PermSupplyRead, s.apiVersionGet),
		api("PUT", "/api/v1/versions/{id}/assets", auth.PermSupplyWrite, s.apiVersionAssets),
		upload(maxSBOMUpload, api("POST", "/api/v1/versions/{id}/sbom", auth.PermSupplyWrite, s.apiSBOMImport)),
		api("GET", "/api/v1/versions/{id}/sbom", auth.PermSupplyRead, s.apiSBOMDownload),
		api("GET", "/api/v1/versions/{id}/components", auth.PermSupplyRead, s.apiComponentList),
		api("POST", "/api/v1/versions/{id}/gates/{name}", auth.PermSupplyWrite, s.apiGateEvaluate),
		upload(maxDeliveryUpload, api("POST", "/api/v1/versions/{id}/deliveries", auth.PermSupplyWrite, s.apiDeliveryVerify)),
		api("GET", "/api/v1/findings", auth.PermSupplyRead, s.apiFindingList),
		api("GET", "/api/v1/findings/{id}", auth.PermSupplyRead, s.apiFindingGet),
		api("POST", "/api/v1/findings/{id}/decision", auth.PermFindingDecide, s.apiFindingDecide),
		api("GET", "/api/v1/vulns/{vuln}", auth.PermSupplyRead, s.apiVulnGet),
		api("GET", "/api/v1/vulndb/status", auth.PermSupplyRead, s.apiVulnDBStatus),
		upload(maxVulnDBUpload, api("POST", "/api/v1/vulndb/import", auth.PermVulnDBManage, s.apiVulnDBImport)),
		api("GET", "/api/v1/alerts", auth.PermAlertRead, s.apiAlertsList),
		api("GET", "/api/v1/alerts/counts", auth.PermAlertRead, s.apiAlertsCounts),
		api("POST", "/api/v1/alerts/status", auth.PermAlertManage, s.apiAlertsStatus),
		api("POST", "/api/v1/alerts/assign", auth.PermAlertManage, s.apiAlertsAssign),
		api("GET", "/api/v1/alerts/{id}", auth.PermAlertRead, s.apiAlertsGet),
		api("POST", "/api/v1/alerts/{id}/ack", auth.PermAlertManage, s.apiAlertsAck),
		api("GET", "/api/v1/cases", auth.PermAlertRead, s.apiCaseList),
		api("POST", "/api/v1/cases", auth.PermAlertManage, s.apiCaseCreate),
		api("GET", "/api/v1/cases/{id}", auth.PermAlertRead, s.apiCaseGet),
		api("POST", "/api/v1/cases/{id}/alerts", auth.PermAlertManage, s.apiCaseAddAlerts),
		api("POST", "/api/v1/cases/{id}/status", auth.PermAlertManage, s.apiCaseStatus),
		api("POST", "/api/v1/cases/{id}/assign", auth.PermAlertManage, s.apiCaseAssign),
		api("POST", "/api/v1/cases/{id}/comments", auth.PermAlertManage, s.apiCaseComment),
		api("GET", "/api/v1/silences", auth.PermAlertRead, s.apiSilenceList),
		api("POST", "/api/v1/silences", auth.PermAlertManage, s.apiSilenceCreate),
		api("GET", "/api/v1/silences/{id}", auth.PermAlertRead, s.apiSilenceGet),
		api("POST", "/api/v1/silences/{id}/expire", auth.PermAlertManage, s.apiSilenceExpire),
		api("GET", "/api/v1/orgs/{id}/alert-sla", auth.PermAlertRead, s.apiAlertSLAGet),
		api("PUT", "/api/v1/orgs/{id}/alert-sla", auth.PermAlertManage, s.apiAlertSLASet),

		api("GET", "/api/v1/supply/alerts", auth.PermSupplyRead, s.apiAlertList),
		api("POST", "/api/v1/supply/alerts/{id}/ack", auth.PermFindingDecide, s.apiAlertAck),

		api("GET", "/api/v1/notify/channels", auth.PermNotifyRead, s.apiNotifyChannelList),
		api("POST", "/api/v1/notify/channels", auth.PermNotifyManage, s.apiNotifyChannelCreate),
		api("POST", "/api/v1/notify/channels/{id}/test", auth.PermNotifyManage, s.apiNotifyChannelTest),
		api("POST", "/api/v1/notify/channels/{id}/disable", auth.PermNotifyManage, s.apiNotifyChannelDisable),
		api("POST", "/api/v1/notify/channels/{id}/enable", auth.PermNotifyManage, s.apiNotifyChannelEnable),
		api("GET", "/api/v1/notify/routes", auth.PermNotifyRead, s.apiNotifyRouteList),
		api("POST", "/api/v1/notify/routes", auth.PermNotifyManage, s.apiNotifyRouteCreate),
		api("DELETE", "/api/v1/notify/routes/{id}", auth.PermNotifyManage, s.apiNotifyRouteRemove),
		api("GET", "/api/v1/notify/deliveries", auth.PermNotifyRead, s.apiNotifyDeliveryList),
		api("POST", "/api/v1/notify/deliveries/{id}/resend", auth.PermNotifyManage, s.apiNotifyResend),
		api("GET", "/api/v1/notify/inbox", auth.PermSelf, s.apiNotifyInbox),
		api("POST", "/api/v1/notify/inbox/read", auth.PermSelf, s.apiNotifyInboxRead),
		api("GET", "/api/v1/notify/subscriptions", auth.PermSelf, s.apiNotifySubscriptionList),
		api("POST", "/api/v1/notify/subscriptions", auth.PermSelf, s.apiNotifySubscribe),
		api("DELETE", "/api/v1/notify/subscriptions/{id}", auth.PermSelf, s.apiNotifyUnsubscribe),
		api("GET", "/api/v1/gates", auth.PermSupplyRead, s.apiGateList),
		api("PUT", "/api/v1/gates", auth.PermGateManage, s.apiGateSave),
		api("GET", "/api/v1/licence-policy", auth.PermSupplyRead, s.apiLicencePolicyGet),
		api("PUT", "/api/v1/licence-policy", auth.PermGateManage, s.apiLicencePolicySet),
		api("GET", "/api/v1/deliveries", auth.PermSupplyRead, s.apiDeliveryList),
		readOnly(upload(maxSBOMUpload, api("POST", "/api/v1/sbom/check", auth.PermSupplyRead, s.apiSBOMCheck))),

		api("GET", "/api/v1/dlp/summary", auth.PermDLPRead, s.apiDLPSummary),
		api("POST", "/api/v1/dlp/scan/text", auth.PermDLPScan, s.apiDLPScanText),
		upload(maxDLPUpload, api("POST", "/api/v1/dlp/scan/file", auth.PermDLPScan, s.apiDLPScanFile)),
		upload(maxDLPUpload, api("POST", "/api/v1/dlp/check", auth.PermDLPCheck, s.apiDLPCheck)),

		api("POST", "/api/v1/events", auth.PermEventsIngest, s.apiEventsIngest),
		api("GET", "/api/v1/dlp/scans", auth.PermDLPRead, s.apiDLPScanList),
		api("GET", "/api/v1/dlp/scans/{id}", auth.PermDLPRead, s.apiDLPScanGet),
		api("GET", "/api/v1/dlp/scans/{id}/findings", auth.PermDLPRead, s.apiDLPFindingList),
		api("GET", "/api/v1/dlp/jobs", auth.PermDLPRead, s.apiDLPJobList),
		api("POST", "/api/v1/dlp/jobs", auth.PermDLPScan, s.apiDLPJobStart),
		api("GET", "/api/v1/dlp/jobs/{id}", auth.PermDLPRead, s.apiDLPJobGet),
		api("POST", "/api/v1/dlp/findings/{id}/reveal", auth.PermDLPReveal, s.apiDLPReveal),
		api("GET", "/api/v1/dlp/policy", auth.PermDLPRead, s.apiDLPPolicyGet),
		api("PUT", "/api/v1/dlp/policy", auth.PermDLPManage, s.apiDLPPolicySet),

		// Audit-event monitoring: the dashboard's figures.
		api("GET", "/api/v1/monitor/stats", auth.PermMonitorRead, s.apiMonitorStats),
		api("GET", "/api/v1/monitor/rules", auth.PermMonitorRead, s.apiMonitorRuleList),
		api("PUT", "/api/v1/monitor/rules", auth.PermMonitorManage, s.apiMonitorRulePutAll),
		api("GET", "/api/v1/monitor/rules/{id}", auth.PermMonitorRead, s.apiMonitorRuleGet),
		api("PUT", "/api/v1/monitor/rules/{id}", auth.PermMonitorManage, s.apiMonitorRulePut),
		api("GET", "/api/v1/monitor/rules/{id}/test", auth.PermMonitorRead, s.apiMonitorRuleTest),

		// Reference data that explains patient-record accesses.
		api("POST", "/api/v1/reference/{kind}", auth.PermReferenceManage, s.apiReferenceImport),
		api("GET", "/api/v1/reference/summary", auth.PermReferenceRead, s.apiReferenceSummary),

		// Investigations of audit events: an account's events, a patient's accesses.
		api("GET", "/api/v1/monitor/accounts/{account}/events", auth.PermMonitorInvestigate, s.apiMonitorAccountEvents),
		api("GET", "/api/v1/monitor/patients/{patient_id}/accesses", auth.PermMonitorInvestigate, s.apiMonitorPatientAccesses),

		// Internet-hospital apps: admission, codes, channels, findings, scores, eviction.
		api("GET", "/api/v1/apps", auth.PermAppRead, s.apiAppList),
		api("POST", "/api/v1/apps", auth.PermAppApply, s.apiAppApply),
		api("GET", "/api/v1/apps/{id}", auth.PermAppRead, s.apiAppGet),
		api("POST", "/api/v1/apps/{id}/review", auth.PermAppReview, s.apiAppReview),
		api("POST", "/api/v1/apps/{id}/readmit", auth.PermAppApply, s.apiAppReadmit),
		api("POST", "/api/v1/apps/{id}/evict", auth.PermAppReview, s.apiAppEvict),
		api("POST", "/api/v1/apps/{id}/code", auth.PermAppReview, s.apiAppRotateCode),
		api("POST", "/api/v1/apps/{id}/observations", auth.PermAppObserve, s.apiAppObserve),
		api("GET", "/api/v1/apps/{id}/findings", auth.PermAppRead, s.apiAppFindings),
		api("GET", "/api/v1/apps/{id}/scores", auth.PermAppRead, s.apiAppScores),
		upload(maxAPKUpload, api("POST", "/api/v1/apps/{id}/inspections", auth.PermAppApply, s.apiAppInspect)),
		api("GET", "/api/v1/apps/{id}/inspections", auth.PermAppRead, s.apiAppInspections),
		api("POST", "/api/v1/apps/{id}/webcheck", auth.PermAppObserve, s.apiAppWebCheck),
		// Upward reporting: hospitals push their apps to this regional medguard.
		api("POST", "/api/v1/upstream/apps", auth.PermAppReport, s.apiUpstreamReport),
		api("GET", "/api/v1/upstream/apps", auth.PermAppRead, s.apiUpstreamAppList),
		api("GET", "/api/v1/upstream/apps/{id}", auth.PermAppRead, s.apiUpstreamAppGet),
		api("POST", "/api/v1/upstream/links", auth.PermUserManage, s.apiUpstreamLink),
		// Risk register: risks, their rating, treatment, acceptance, review and sources.
		api("GET", "/api/v1/risks", auth.PermRiskRead, s.apiRiskList),
		api("POST", "/api/v1/risks", auth.PermRiskWrite, s.apiRiskCreate),
		api("POST", "/api/v1/risks/from-source", auth.PermRiskWrite, s.apiRiskFromSource),
		api("GET", "/api/v1/risks/heatmap", auth.PermRiskRead, s.apiRiskHeatMap),
		api("GET", "/api/v1/risks/of", auth.PermRiskRead, s.apiRisksOf),
		api("GET", "/api/v1/risks/{id}", auth.PermRiskRead, s.apiRiskGet),
		api("PUT", "/api/v1/risks/{id}", auth.PermRiskWrite, s.apiRiskUpdate),
		api("POST", "/api/v1/risks/{id}/status", auth.PermRiskWrite, s.apiRiskStatus),
		api("POST", "/api/v1/risks/{id}/review", auth.PermRiskWrite, s.apiRiskReview),
		api("POST", "/api/v1/risks/{id}/sources", auth.PermRiskWrite, s.apiRiskLinkSource),
		api("POST", "/api/v1/risks/{id}/tasks", auth.PermRiskWrite, s.apiRiskAddTask),
		api("POST", "/api/v1/risks/{id}/tasks/{task}/done", auth.PermRiskWrite, s.apiRiskTaskDone),
		api("POST", "/api/v1/risks/{id}/acceptances", auth.PermRiskWrite, s.apiRiskAcceptanceCreate),
		api("POST", "/api/v1/risks/{id}/acceptances/{acceptance}/submit", auth.PermRiskWrite, s.apiRiskAcceptanceSubmit),
		api("POST", "/api/v1/risks/{id}/acceptances/{acceptance}/decide", auth.PermRiskWrite, s.apiRiskAcceptanceDecide),
		api("POST", "/api/v1/risks/{id}/acceptances/{acceptance}/revoke", auth.PermRiskWrite, s.apiRiskAcceptanceRevoke),
		// Incidents: classification, clocks, timeline, reports, evidence, review, checklists.
		api("GET", "/api/v1/incidents", auth.PermIncidentRead, s.apiIncidentList),
		api("POST", "/api/v1/incidents", auth.PermIncidentWrite, s.apiIncidentOpen),
		api("GET", "/api/v1/incidents/categories", auth.PermIncidentRead, s.apiIncidentForm),
		api("GET", "/api/v1/incidents/{id}", auth.PermIncidentRead, s.apiIncidentGet),
		api("PUT", "/api/v1/incidents/{id}", auth.PermIncidentWrite, s.apiIncidentUpdate),
		api("POST", "/api/v1/incidents/{id}/level", auth.PermIncidentWrite, s.apiIncidentLevel),
		api("POST", "/api/v1/incidents/{id}/status", auth.PermIncidentWrite, s.apiIncidentStatus),
		api("POST", "/api/v1/incidents/{id}/notes", auth.PermIncidentWrite, s.apiIncidentNote),
		api("POST", "/api/v1/incidents/{id}/reports", auth.PermIncidentWrite, s.apiIncidentReport),
		upload(maxAttachmentUpload, api("POST", "/api/v1/incidents/{id}/attachments", auth.PermIncidentWrite, s.apiIncidentAttach)),
		api("GET", "/api/v1/incidents/{id}/attachments/{attachment}", auth.PermIncidentRead, s.apiIncidentAttachment),
		api("PUT", "/api/v1/incidents/{id}/review", auth.PermIncidentWrite, s.apiIncidentReview),
		api("POST", "/api/v1/incidents/{id}/tasks", auth.PermIncidentWrite, s.apiIncidentAddTask),
		api("POST", "/api/v1/incidents/{id}/tasks/{task}/done", auth.PermIncidentWrite, s.apiIncidentTaskDone),
		api("GET", "/api/v1/incidents/{id}/checklists", auth.PermIncidentRead, s.apiIncidentChecklists),
		api("POST", "/api/v1/incidents/{id}/checklists", auth.PermIncidentWrite, s.apiIncidentChecklistStart),
		api("POST", "/api/v1/checklists/{id}/items/{item}", auth.PermIncidentWrite, s.apiChecklistTick),
		// Emergency plans and their drills.
		api("GET", "/api/v1/plans/templates", auth.PermIncidentRead, s.apiPlanTemplates),
		api("GET", "/api/v1/plans", auth.PermIncidentRead, s.apiPlanList),
		api("POST", "/api/v1/plans", auth.PermIncidentWrite, s.apiPlanAdopt),
		api("GET", "/api/v1/plans/{id}", auth.PermIncidentRead, s.apiPlanGet),
		api("PUT", "/api/v1/plans/{id}", auth.PermIncidentWrite, s.apiPlanUpdate),
		api("POST", "/api/v1/plans/{id}/approve", auth.PermIncidentWrite, s.apiPlanApprove),
		api("GET", "/api/v1/plans/{id}/drills", auth.PermIncidentRead, s.apiPlanDrills),
		api("POST", "/api/v1/plans/{id}/drills", auth.PermIncidentWrite, s.apiPlanDrillRecord),
		api("GET", "/api/v1/drills/{id}", auth.PermIncidentRead, s.apiDrillGet),
		api("POST", "/api/v1/drills/{id}/tasks", auth.PermIncidentWrite, s.apiDrillAddTask),
		api("POST", "/api/v1/drills/{id}/tasks/{task}/done", auth.PermIncidentWrite, s.apiDrillTaskDone),
		// Compliance (issue 17). Each module adds its API routes under its own heading.
		// Compliance: control catalogues and their cross-mappings.

		// Compliance: assessments, evidence and automatic checks.

		// Compliance: policies, roles and responsibilities, self-checks.

		// Compliance: training courses, sessions, exams.

		// Compliance: the data-flow register.
		api("GET", "/api/v1/dataflows", auth.PermComplianceRead, s.apiDataflowList),
		api("POST", "/api/v1/dataflows", auth.PermComplianceWrite, s.apiDataflowCreate),
		upload(dataflow.MaxImportBytes, api("POST", "/api/v1/dataflows/import", auth.PermComplianceWrite, s.apiDataflowImport)),
		api("GET", "/api/v1/dataflows/{id}", auth.PermComplianceRead, s.apiDataflowGet),
		api("PUT", "/api/v1/dataflows/{id}", auth.PermComplianceWrite, s.apiDataflowUpdate),
		api("POST", "/api/v1/dataflows/{id}/end", auth.PermComplianceWrite, s.apiDataflowEnd),
		upload(maxDataflowDocument, api("POST", "/api/v1/dataflows/{id}/attachments", auth.PermComplianceWrite, s.apiDataflowAttach)),
		api("GET", "/api/v1/dataflows/{id}/attachments/{attachment}", auth.PermComplianceRead, s.apiDataflowAttachment),

		// Periodic reports.

		// The overview dashboard of a hospital and of a region.

		api("POST", "/api/v1/authcodes/verify", public, s.apiAuthcodeVerify),
		api("GET", "/api/v1/authcodes/keys", public, s.apiAuthcodeKeys),
		api("", "/api/", public, s.apiNotFound),

		// Browser UI: sign-in and first-run setup.
		preMFA(ui("GET", "/login", public, s.uiLoginForm)),
		preMFA(ui("POST", "/login", public, s.uiLogin)),
		preMFA(ui("GET", "/login/mfa", auth.PermSelf, s.uiMFAForm)),
		preMFA(ui("POST", "/login/mfa", auth.PermSelf, s.uiMFAVerify)),
		preMFA(ui("POST", "/logout", public, s.uiLogout)),
		preMFA(ui("POST", "/lang", public, s.uiSetLang)),
		ui("GET", "/setup", public, s.uiSetupForm),
		ui("POST", "/setup", public, s.uiSetup),

		// Browser UI: pages.
		ui("GET", "/{$}", auth.PermDashboard, s.uiDashboard),
		ui("GET", "/assets", auth.PermAssetRead, s.uiAssetList),
		ui("GET", "/assets/new", auth.PermAssetWrite, s.uiAssetNew),
		ui("POST", "/assets", auth.PermAssetWrite, s.uiAssetCreate),
		ui("GET", "/assets/import", auth.PermAssetWrite, s.uiAssetImportForm),
		ui("GET", "/assets/import/template.csv", auth.PermAssetWrite, s.uiAssetImportTemplate),
		upload(maxImportBody, ui("POST", "/assets/import", auth.PermAssetWrite, s.uiAssetImport)),
		ui("GET", "/assets/export.csv", auth.PermAssetRead, s.uiAssetExport),
		ui("GET", "/assets/{id}", auth.PermAssetRead, s.uiAssetShow),
		ui("GET", "/assets/{id}/edit", auth.PermAssetWrite, s.uiAssetEdit),
		ui("POST", "/assets/{id}", auth.PermAssetWrite, s.uiAssetUpdate),
		ui("POST", "/assets/{id}/retire", auth.PermAssetWrite, s.uiAssetRetire),
		ui("POST", "/assets/{id}/delete", auth.PermAssetWrite, s.uiAssetDelete),

		ui("GET", "/orgs", auth.PermOrgRead, s.uiOrgList),
		ui("POST", "/orgs", auth.PermOrgManage, s.uiOrgCreate),
		ui("GET", "/orgs/{id}", auth.PermOrgRead, s.uiOrgShow),
		ui("POST", "/orgs/{id}", auth.PermOrgManage, s.uiOrgUpdate),
		ui("POST", "/orgs/{id}/delete", auth.PermOrgManage, s.uiOrgDelete),

		ui("GET", "/users", auth.PermUserRead, s.uiUserList),
		ui("GET", "/users/new", auth.PermUserManage, s.uiUserNew),
		ui("POST", "/users", auth.PermUserManage, s.uiUserCreate),
		ui("GET", "/users/{id}", auth.PermUserRead, s.uiUserShow),
		ui("POST", "/users/{id}", auth.PermUserManage, s.uiUserUpdate),
		ui("POST", "/users/{id}/password", auth.PermUserManage, s.uiUserPassword),
		ui("POST", "/users/{id}/disable", auth.PermUserManage, s.uiUserDisable),
		ui("POST", "/users/{id}/enable", auth.PermUserManage, s.uiUserEnable),
		ui("POST", "/users/{id}/reset-mfa", auth.PermUserManage, s.uiUserResetMFA),

		ui("GET", "/supply", auth.PermSupplyRead, s.uiSupplyRisk),
		ui("GET", "/supply/vendors", auth.PermSupplyRead, s.uiVendorList),
		ui("POST", "/supply/vendors", auth.PermSupplyWrite, s.uiVendorCreate),
		ui("GET", "/supply/vendors/{id}", auth.PermSupplyRead, s.uiVendorShow),
		ui("POST", "/supply/vendors/{id}", auth.PermSupplyWrite, s.uiVendorUpdate),
		ui("POST", "/supply/vendors/{id}/contracts", auth.PermSupplyWrite, s.uiVendorContract),
		ui("POST", "/supply/vendors/{id}/keys", auth.PermSupplyWrite, s.uiVendorKey),
		ui("GET", "/supply/products", auth.PermSupplyRead, s.uiProductList),
		ui("POST", "/supply/products", auth.PermSupplyWrite, s.uiProductCreate),
		ui("GET", "/supply/products/{id}", auth.PermSupplyRead, s.uiProductShow),
		ui("POST", "/supply/products/{id}", auth.PermSupplyWrite, s.uiProductUpdate),
		ui("POST", "/supply/products/{id}/versions", auth.PermSupplyWrite, s.uiVersionCreate),
		ui("GET", "/supply/versions/{id}", auth.PermSupplyRead, s.uiVersionShow),
		ui("POST", "/supply/versions/{id}/assets", auth.PermSupplyWrite, s.uiVersionAssets),
		upload(maxSBOMUpload, ui("POST", "/supply/versions/{id}/sbom", auth.PermSupplyWrite, s.uiSBOMImport)),
		ui("GET", "/supply/versions/{id}/sbom", auth.PermSupplyRead, s.uiSBOMDownload),
		ui("POST", "/supply/versions/{id}/gates", auth.PermSupplyWrite, s.uiGateEvaluate),
		upload(maxDeliveryUpload, ui("POST", "/supply/versions/{id}/deliveries", auth.PermSupplyWrite, s.uiDeliveryVerify)),
		ui("GET", "/supply/findings", auth.PermSupplyRead, s.uiFindingList),
		ui("GET", "/supply/findings/{id}", auth.PermSupplyRead, s.uiFindingShow),
		ui("POST", "/supply/findings/{id}/decision", auth.PermFindingDecide, s.uiFindingDecide),
		ui("GET", "/supply/vulns/{vuln}", auth.PermSupplyRead, s.uiVulnShow),
		ui("GET", "/supply/alerts", auth.PermSupplyRead, s.uiAlertList),
		ui("POST", "/supply/alerts/{id}/ack", auth.PermFindingDecide, s.uiAlertAck),
		ui("GET", "/supply/gates", auth.PermSupplyRead, s.uiGateList),
		ui("POST", "/supply/gates", auth.PermGateManage, s.uiGateSave),
		ui("GET", "/supply/licence-policy", auth.PermSupplyRead, s.uiLicencePolicy),
		ui("POST", "/supply/licence-policy", auth.PermGateManage, s.uiLicencePolicySet),
		ui("GET", "/supply/vulndb", auth.PermSupplyRead, s.uiVulnDB),
		upload(maxVulnDBUpload, ui("POST", "/supply/vulndb", auth.PermVulnDBManage, s.uiVulnDBImport)),

		ui("GET", "/dlp", auth.PermDLPRead, s.uiDLPOverview),
		ui("GET", "/dlp/scan", auth.PermDLPScan, s.uiDLPScanForm),
		upload(maxDLPUpload, ui("POST", "/dlp/scan", auth.PermDLPScan, s.uiDLPScan)),
		ui("GET", "/dlp/scans", auth.PermDLPRead, s.uiDLPScanList),
		ui("GET", "/dlp/scans/{id}", auth.PermDLPRead, s.uiDLPScanShow),
		ui("POST", "/dlp/findings/{id}/reveal", auth.PermDLPReveal, s.uiDLPReveal),
		ui("GET", "/dlp/jobs", auth.PermDLPRead, s.uiDLPJobs),
		ui("POST", "/dlp/jobs", auth.PermDLPScan, s.uiDLPJobStart),
		ui("GET", "/dlp/policy", auth.PermDLPRead, s.uiDLPPolicy),
		ui("POST", "/dlp/policy", auth.PermDLPManage, s.uiDLPPolicySet),

		ui("GET", "/alerts", auth.PermAlertRead, s.uiAlertInbox),
		ui("POST", "/alerts/bulk", auth.PermAlertManage, s.uiAlertBulk),
		ui("GET", "/alerts/sla", auth.PermAlertRead, s.uiAlertSLA),
		ui("POST", "/alerts/sla", auth.PermAlertManage, s.uiAlertSLASet),
		ui("GET", "/alerts/{id}", auth.PermAlertRead, s.uiAlertShow),
		ui("POST", "/alerts/{id}", auth.PermAlertManage, s.uiAlertAction),
		ui("GET", "/cases", auth.PermAlertRead, s.uiCaseList),
		ui("GET", "/cases/{id}", auth.PermAlertRead, s.uiCaseShow),
		ui("POST", "/cases/{id}/status", auth.PermAlertManage, s.uiCaseStatus),
		ui("POST", "/cases/{id}/assign", auth.PermAlertManage, s.uiCaseAssign),
		ui("POST", "/cases/{id}/comments", auth.PermAlertManage, s.uiCaseComment),
		ui("GET", "/silences", auth.PermAlertRead, s.uiSilenceList),
		ui("POST", "/silences", auth.PermAlertManage, s.uiSilenceCreate),
		ui("POST", "/silences/{id}/expire", auth.PermAlertManage, s.uiSilenceExpire),
		// Internet-hospital apps: the registry, admission, one app and its actions, the score, the report.
		ui("GET", "/apps", auth.PermAppRead, s.uiAppList),
		ui("GET", "/apps/new", auth.PermAppApply, s.uiAppNew),
		ui("POST", "/apps", auth.PermAppApply, s.uiAppCreate),
		ui("GET", "/apps/report", auth.PermAppRead, s.uiAppReport),
		ui("GET", "/apps/report.csv", auth.PermAppRead, s.uiAppReportCSV),
		ui("GET", "/apps/{id}", auth.PermAppRead, s.uiAppShow),
		ui("GET", "/apps/{id}/score", auth.PermAppRead, s.uiAppScore),
		// Risks, incidents, emergency plans.
		ui("GET", "/risks", auth.PermRiskRead, s.uiRiskList),
		ui("POST", "/risks/from-source", auth.PermRiskWrite, s.uiRiskFromSource),
		ui("GET", "/risks/new", auth.PermRiskWrite, s.uiRiskNew),
		ui("POST", "/risks", auth.PermRiskWrite, s.uiRiskCreate),
		ui("GET", "/risks/{id}", auth.PermRiskRead, s.uiRiskShow),
		ui("GET", "/risks/{id}/edit", auth.PermRiskWrite, s.uiRiskEdit),
		ui("POST", "/risks/{id}", auth.PermRiskWrite, s.uiRiskUpdate),
		ui("POST", "/risks/{id}/status", auth.PermRiskWrite, s.uiRiskStatus),
		ui("POST", "/risks/{id}/review", auth.PermRiskWrite, s.uiRiskReview),
		ui("POST", "/risks/{id}/tasks/{task}/done", auth.PermRiskWrite, s.uiRiskTaskDone),
		ui("POST", "/risks/{id}/acceptances", auth.PermRiskWrite, s.uiRiskAccept),
		ui("POST", "/risks/{id}/acceptances/{acceptance}", auth.PermRiskWrite, s.uiRiskAcceptanceDecide),
		ui("GET", "/incidents", auth.PermIncidentRead, s.uiIncidentList),
		ui("GET", "/incidents/new", auth.PermIncidentWrite, s.uiIncidentNew),
		ui("POST", "/incidents", auth.PermIncidentWrite, s.uiIncidentCreate),
		ui("GET", "/incidents/{id}", auth.PermIncidentRead, s.uiIncidentShow),
		ui("POST", "/incidents/{id}/status", auth.PermIncidentWrite, s.uiIncidentStatus),
		ui("POST", "/incidents/{id}/level", auth.PermIncidentWrite, s.uiIncidentLevel),
		ui("POST", "/incidents/{id}/notes", auth.PermIncidentWrite, s.uiIncidentNote),
		ui("POST", "/incidents/{id}/reports", auth.PermIncidentWrite, s.uiIncidentReport),
		ui("POST", "/incidents/{id}/checklists", auth.PermIncidentWrite, s.uiIncidentChecklist),
		ui("POST", "/incidents/{id}/review", auth.PermIncidentWrite, s.uiIncidentReview),
		ui("POST", "/incidents/{id}/tasks", auth.PermIncidentWrite, s.uiIncidentTask),
		ui("POST", "/incidents/{id}/tasks/{task}/done", auth.PermIncidentWrite, s.uiIncidentTaskDone),
		upload(maxEvidenceUpload, ui("POST", "/incidents/{id}/attachments", auth.PermIncidentWrite, s.uiIncidentAttach)),
		ui("GET", "/incidents/{id}/attachments/{attachment}", auth.PermIncidentRead, s.uiIncidentAttachment),
		ui("POST", "/incidents/{id}/checklists/{run}/items/{item}", auth.PermIncidentWrite, s.uiChecklistTick),
		ui("GET", "/plans", auth.PermIncidentRead, s.uiPlanList),
		ui("POST", "/plans", auth.PermIncidentWrite, s.uiPlanAdopt),
		ui("GET", "/plans/{id}", auth.PermIncidentRead, s.uiPlanShow),
		ui("POST", "/plans/{id}/approve", auth.PermIncidentWrite, s.uiPlanApprove),
		ui("POST", "/plans/{id}/people", auth.PermIncidentWrite, s.uiPlanPeople),
		ui("POST", "/plans/{id}/drills", auth.PermIncidentWrite, s.uiPlanDrill),
		ui("POST", "/plans/{id}/drill-tasks/{task}", auth.PermIncidentWrite, s.uiDrillTaskDone),
		ui("GET", "/region/apps", auth.PermAppRead, s.uiAppRegion),
		ui("GET", "/region/apps/{id}", auth.PermAppRead, s.uiAppRegionShow),
		ui("POST", "/apps/{id}/review", auth.PermAppReview, s.uiAppReview),
		ui("POST", "/apps/{id}/evict", auth.PermAppReview, s.uiAppEvict),
		ui("POST", "/apps/{id}/code", auth.PermAppReview, s.uiAppRotateCode),
		ui("POST", "/apps/{id}/observations", auth.PermAppObserve, s.uiAppObserve),
		upload(maxAPKUpload, ui("POST", "/apps/{id}/inspections", auth.PermAppApply, s.uiAppInspect)),
		ui("POST", "/apps/{id}/webcheck", auth.PermAppObserve, s.uiAppWebCheck),
		ui("POST", "/apps/{id}/readmit", auth.PermAppApply, s.uiAppReadmit),
		// Audit-event monitoring: the dashboard.
		ui("GET", "/monitor", auth.PermMonitorRead, s.uiMonitor),
		ui("GET", "/monitor/rules", auth.PermMonitorRead, s.uiMonitorRules),
		ui("GET", "/monitor/rules/{id}", auth.PermMonitorRead, s.uiMonitorRule),
		ui("POST", "/monitor/rules/{id}", auth.PermMonitorManage, s.uiMonitorRuleSave),
		ui("POST", "/monitor/rules/{id}/enabled", auth.PermMonitorManage, s.uiMonitorRuleEnabled),
		ui("GET", "/monitor/rules/{id}/test", auth.PermMonitorRead, s.uiMonitorRuleTest),
		// Notifications: channels, routes, the outbox and dead letters; every user's inbox.
		ui("GET", "/notify/channels", auth.PermNotifyRead, s.uiNotifyChannels),
		ui("POST", "/notify/channels", auth.PermNotifyManage, s.uiNotifyChannelCreate),
		ui("POST", "/notify/channels/{id}/test", auth.PermNotifyManage, s.uiNotifyChannelTest),
		ui("POST", "/notify/channels/{id}/disable", auth.PermNotifyManage, s.uiNotifyChannelDisable),
		ui("POST", "/notify/channels/{id}/enable", auth.PermNotifyManage, s.uiNotifyChannelEnable),
		ui("GET", "/notify/routes", auth.PermNotifyRead, s.uiNotifyRoutes),
		ui("POST", "/notify/routes", auth.PermNotifyManage, s.uiNotifyRouteCreate),
		ui("POST", "/notify/routes/{id}/remove", auth.PermNotifyManage, s.uiNotifyRouteRemove),
		ui("GET", "/notify/deliveries", auth.PermNotifyRead, s.uiNotifyDeliveries),
		ui("POST", "/notify/deliveries/{id}/resend", auth.PermNotifyManage, s.uiNotifyResend),
		ui("GET", "/notify/inbox", auth.PermSelf, s.uiNotifyInbox),
		ui("POST", "/notify/inbox/read", auth.PermSelf, s.uiNotifyInboxRead),
		ui("POST", "/notify/subscriptions", auth.PermSelf, s.uiNotifySubscribe),
		ui("POST", "/notify/subscriptions/{id}/remove", auth.PermSelf, s.uiNotifyUnsubscribe),

		ui("GET", "/monitor/accounts/{account}", auth.PermMonitorInvestigate, s.uiMonitorAccount),
		ui("GET", "/monitor/patients", auth.PermMonitorInvestigate, s.uiMonitorPatients),
		ui("GET", "/monitor/patients/{patient_id}/accesses.csv", auth.PermMonitorInvestigate, s.uiMonitorPatientCSV),

		// Compliance pages (issue 17). Each module adds its pages under its own heading.
		// Compliance pages: control catalogues.

		// Compliance pages: assessments and evidence (/compliance is the hub).

		// Compliance pages: policies, roles, self-checks.

		// Compliance pages: training and exams.

		// Compliance pages: the data-flow register.
		ui("GET", "/dataflows", auth.PermComplianceRead, s.uiDataflowList),
		ui("GET", "/dataflows/{id}", auth.PermComplianceRead, s.uiDataflowShow),
		ui("GET", "/dataflows/new", auth.PermComplianceWrite, s.uiDataflowNew),
		ui("POST", "/dataflows", auth.PermComplianceWrite, s.uiDataflowCreate),
		upload(dataflow.MaxImportBytes, ui("POST", "/dataflows/import", auth.PermComplianceWrite, s.uiDataflowImport)),
		ui("POST", "/dataflows/{id}", auth.PermComplianceWrite, s.uiDataflowUpdate),
		ui("POST", "/dataflows/{id}/end", auth.PermComplianceWrite, s.uiDataflowEnd),
		upload(maxDataflowDocument, ui("POST", "/dataflows/{id}/attachments", auth.PermComplianceWrite, s.uiDataflowAttach)),

		// Report pages.

		// Overview dashboard pages.

		ui("GET", "/trail", auth.PermTrailRead, s.uiTrail),
		ui("POST", "/trail/verify", auth.PermTrailRead, s.uiTrailVerify),

		ui("GET", "/account", auth.PermSelf, s.uiAccount),
		ui("POST", "/account/password", auth.PermSelf, s.uiAccountPassword),
		ui("GET", "/account/mfa", auth.PermSelf, s.uiMFAEnrolForm),
		ui("POST", "/account/mfa", auth.PermSelf, s.uiMFAEnrol),
		ui("POST", "/account/tokens", auth.PermSelf, s.uiTokenCreate),
		ui("POST", "/account/tokens/{id}/revoke", auth.PermSelf, s.uiTokenRevoke),
	}
}
