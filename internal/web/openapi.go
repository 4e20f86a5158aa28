package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/monitor"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/vuln"
)

// apiOp documents one API operation. The documentation is written here, apart from the
// route table, and a test checks that the two agree in both directions.
type apiOp struct {
	Summary  string
	Tag      string
	Request  any // Go value whose type is the JSON request body; nil for none
	Response any // Go value whose type is the JSON response; nil for 204
	Status   int // success status
	Query    []string
	Body     string   // non-JSON request body media type, e.g. text/csv
	Field    string   // multipart/form-data field that may carry Body instead ("" = "file", "-" = none)
	Parts    []string // fields of a request body that is multipart/form-data only
	Produces string   // non-JSON response media type
}

type dashboardResponse struct {
	KPIs   []dashboardKPI `json:"kpis"`
	Assets asset.Stats    `json:"assets"`
}

type retireRequest struct {
	On string `json:"on"`
}

// pathParam matches the {name} segments of a route pattern.
var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)
var assetQuery = []string{"q", "kind", "zone", "lifecycle", "tag", "mlps_level", "mlps_min", "org_id", "sort"}

// apiDocs maps "METHOD /pattern" to its documentation.
var apiDocs = map[string]apiOp{
	"GET /api/v1/openapi.json": {Summary: "This OpenAPI document", Tag: "meta", Response: map[string]any{}, Status: 200},
	"GET /api/v1/me":           {Summary: "The signed-in user, its permissions and the platform version", Tag: "account", Response: meResponse{}, Status: 200},
	"PUT /api/v1/me/locale":    {Summary: "Set the caller's language (\"\", \"en\" or \"zh-CN\")", Tag: "account", Request: localeRequest{}, Status: 204},
	"GET /api/v1/dashboard":    {Summary: "Figures for the home dashboard: its headline numbers (kpis: id, label in the caller's language, count and the list it counts — the same the page shows) and the asset inventory's breakdowns", Tag: "dashboard", Response: dashboardResponse{}, Status: 200},

	"GET /api/v1/assets":              {Summary: "List, search, filter, sort and page assets", Tag: "assets", Response: listResponse[asset.Asset]{}, Status: 200, Query: assetQuery},
	"POST /api/v1/assets":             {Summary: "Create an asset", Tag: "assets", Request: asset.Input{}, Response: asset.Asset{}, Status: 201},
	"GET /api/v1/assets/export":       {Summary: "Export matching assets as CSV (UTF-8 with BOM)", Tag: "assets", Status: 200, Query: assetQuery, Produces: "text/csv"},
	"POST /api/v1/assets/import":      {Summary: "Import assets from a CSV file (UTF-8, UTF-16 or GBK); bad rows are reported, the good rows are committed together in one transaction (all or none)", Tag: "assets", Body: "text/csv", Response: asset.ImportReport{}, Status: 200, Query: []string{"dry_run", "update", "org_id"}},
	"GET /api/v1/assets/{id}":         {Summary: "One asset", Tag: "assets", Response: asset.Asset{}, Status: 200},
	"PUT /api/v1/assets/{id}":         {Summary: "Replace an asset's fields; send the version you read (409 if it changed)", Tag: "assets", Request: asset.Input{}, Response: asset.Asset{}, Status: 200},
	"DELETE /api/v1/assets/{id}":      {Summary: "Delete an asset", Tag: "assets", Status: 204},
	"POST /api/v1/assets/{id}/retire": {Summary: "Retire an asset (lifecycle → retired)", Tag: "assets", Request: retireRequest{}, Response: asset.Asset{}, Status: 200},

	"GET /api/v1/orgs":         {Summary: "The organisation tree visible to the caller", Tag: "organisation", Response: listResponse[org.Node]{}, Status: 200},
	"POST /api/v1/orgs":        {Summary: "Create an organisation node", Tag: "organisation", Request: org.Input{}, Response: org.Node{}, Status: 201},
	"GET /api/v1/orgs/{id}":    {Summary: "One organisation node", Tag: "organisation", Response: org.Node{}, Status: 200},
	"PUT /api/v1/orgs/{id}":    {Summary: "Rename a node or switch its MFA requirement", Tag: "organisation", Request: org.Input{}, Response: org.Node{}, Status: 200},
	"DELETE /api/v1/orgs/{id}": {Summary: "Delete an empty node", Tag: "organisation", Status: 204},

	"GET /api/v1/users":                 {Summary: "List users", Tag: "users", Response: listResponse[auth.User]{}, Status: 200, Query: []string{"q", "role"}},
	"POST /api/v1/users":                {Summary: "Create a user", Tag: "users", Request: auth.UserInput{}, Response: auth.User{}, Status: 201},
	"GET /api/v1/users/{id}":            {Summary: "One user", Tag: "users", Response: auth.User{}, Status: 200},
	"PUT /api/v1/users/{id}":            {Summary: "Update a user's profile, role or organisation", Tag: "users", Request: auth.UserUpdate{}, Response: auth.User{}, Status: 200},
	"POST /api/v1/users/{id}/password":  {Summary: "Set a new password (the user must change it at next sign-in)", Tag: "users", Request: passwordRequest{}, Status: 204},
	"POST /api/v1/users/{id}/disable":   {Summary: "Disable an account and end its sessions", Tag: "users", Status: 204},
	"POST /api/v1/users/{id}/enable":    {Summary: "Enable an account", Tag: "users", Status: 204},
	"POST /api/v1/users/{id}/reset-mfa": {Summary: "Remove a user's MFA enrolment", Tag: "users", Status: 204},
	"GET /api/v1/tokens":                {Summary: "The caller's API tokens (never the secret)", Tag: "account", Response: listResponse[auth.Token]{}, Status: 200},
	"POST /api/v1/tokens":               {Summary: "Create an API token (scope read, write or dlp.check: the pre-send check only); the secret is in the response only", Tag: "account", Request: tokenRequest{}, Response: tokenResponse{}, Status: 201},
	"DELETE /api/v1/tokens/{id}":        {Summary: "Revoke an API token", Tag: "account", Status: 204},
	"GET /api/v1/trail":                 {Summary: "Audit trail entries, newest first", Tag: "trail", Response: listResponse[trail.Entry]{}, Status: 200, Query: []string{"action", "actor", "object_type", "object_id", "before"}},
	"POST /api/v1/trail/verify":         {Summary: "Verify the whole chain (keyed MACs) and that it extends the signed checkpoints in the data directory; name the first broken entry", Tag: "trail", Response: trail.Report{}, Status: 200},

	"GET /api/v1/supply/risk":                 {Summary: "The unified software risk view: counters, open findings by severity, state, product, vendor and age, licence verdicts, gate results, most vulnerable components", Tag: "supply", Response: supply.RiskView{}, Status: 200},
	"GET /api/v1/vendors":                     {Summary: "Software vendors in the caller's scope", Tag: "supply", Response: listResponse[supply.Vendor]{}, Status: 200},
	"POST /api/v1/vendors":                    {Summary: "Create a vendor (org_id defaults to the caller's organisation)", Tag: "supply", Request: supply.VendorInput{}, Response: supply.Vendor{}, Status: 201},
	"GET /api/v1/vendors/{id}":                {Summary: "A vendor with its contracts, signing keys, products and deliveries", Tag: "supply", Response: supply.VendorDetail{}, Status: 200},
	"PUT /api/v1/vendors/{id}":                {Summary: "Replace a vendor's fields", Tag: "supply", Request: supply.VendorInput{}, Response: supply.Vendor{}, Status: 200},
	"POST /api/v1/vendors/{id}/contracts":     {Summary: "Record a contract with a vendor", Tag: "supply", Request: contractRequest{}, Response: supply.Contract{}, Status: 201},
	"POST /api/v1/vendors/{id}/keys":          {Summary: "Register a vendor's signing certificate or key by SHA-256 fingerprint", Tag: "supply", Request: vendorKeyRequest{}, Response: supply.VendorKey{}, Status: 201},
	"GET /api/v1/products":                    {Summary: "Software products in the caller's scope", Tag: "supply", Response: listResponse[supply.Product]{}, Status: 200, Query: []string{"vendor_id"}},
	"POST /api/v1/products":                   {Summary: "Create a product (source self_built, outsourced, purchased or co_developed)", Tag: "supply", Request: supply.ProductInput{}, Response: supply.Product{}, Status: 201},
	"GET /api/v1/products/{id}":               {Summary: "One product", Tag: "supply", Response: supply.Product{}, Status: 200},
	"PUT /api/v1/products/{id}":               {Summary: "Replace a product's fields (its organisation stays)", Tag: "supply", Request: supply.ProductInput{}, Response: supply.Product{}, Status: 200},
	"GET /api/v1/products/{id}/versions":      {Summary: "The versions of a product, newest first", Tag: "supply", Response: listResponse[supply.Version]{}, Status: 200},
	"POST /api/v1/products/{id}/versions":     {Summary: "Add a version to a product, linked to the assets that run it", Tag: "supply", Request: supply.VersionInput{}, Response: supply.Version{}, Status: 201},
	"GET /api/v1/versions/{id}":               {Summary: "A product version with its latest gate results, delivery checks and coverage (components the vulnerability database can check)", Tag: "supply", Response: versionResponse{}, Status: 200},
	"PUT /api/v1/versions/{id}/assets":        {Summary: "Replace the inventory assets that run a version", Tag: "supply", Request: versionAssetsRequest{}, Response: supply.Version{}, Status: 200},
	"POST /api/v1/versions/{id}/sbom":         {Summary: "Import the version's SBOM (CycloneDX or SPDX, JSON, XML or tag-value; at most 64 MiB), replacing an earlier one, and match its components", Tag: "supply", Body: "application/octet-stream", Field: "sbom", Response: supply.ImportReport{}, Status: 200},
	"GET /api/v1/versions/{id}/sbom":          {Summary: "Download the stored SBOM document", Tag: "supply", Status: 200, Produces: "application/octet-stream"},
	"GET /api/v1/versions/{id}/components":    {Summary: "The components of the version's SBOM with licence verdicts and finding counts", Tag: "supply", Response: listResponse[supply.Component]{}, Status: 200},
	"POST /api/v1/versions/{id}/gates/{name}": {Summary: "Evaluate a gate (procurement, go-live, update or a stored one) on the version and store the result", Tag: "supply", Response: supply.GateResult{}, Status: 200},
	"POST /api/v1/versions/{id}/deliveries":   {Summary: "Check delivered files against the vendor's manifest (and signature) and record the outcome; a failed check raises an alert", Tag: "supply", Parts: []string{"manifest", "files", "require_signature"}, Response: supply.Delivery{}, Status: 201},
	"GET /api/v1/findings":                    {Summary: "Vulnerability findings, most severe and oldest first (state \"\" = open and accepted, \"all\" = every state)", Tag: "supply", Response: listResponse[supply.Finding]{}, Status: 200, Query: []string{"product_id", "version_id", "vendor_id", "vuln", "severity", "state"}},
	"GET /api/v1/findings/{id}":               {Summary: "One finding", Tag: "supply", Response: supply.Finding{}, Status: 200},
	"POST /api/v1/findings/{id}/decision":     {Summary: "Accept a risk (reason and expiry within a year), mark a false positive (reason) or reopen; the decision carries over to the product's other versions", Tag: "supply", Request: decisionRequest{}, Response: supply.Finding{}, Status: 200},
	"GET /api/v1/vulns/{vuln}":                {Summary: "An advisory (by id or alias) and every product version, component and asset it hits in the caller's scope", Tag: "supply", Response: vulnResponse{}, Status: 200},
	"GET /api/v1/vulndb/status":               {Summary: "Record counts of the vulnerability database per ecosystem and its last import", Tag: "supply", Response: vuln.Status{}, Status: 200},
	"POST /api/v1/vulndb/import":              {Summary: "Import OSV advisories (an osv.dev all.zip export, or one JSON or YAML record; at most 256 MiB) and re-match every stored SBOM against the changed ones", Tag: "supply", Body: "application/zip", Response: vulnImportResponse{}, Status: 200},
	"GET /api/v1/alerts":                      {Summary: "The alert inbox of every module (supply, dlp …), most recently seen first; patient ids masked", Tag: "alerts", Response: listResponse[alert.Alert]{}, Status: 200, Query: alertQuery},
	"GET /api/v1/alerts/counts":               {Summary: "Open alerts counted by severity and by source", Tag: "alerts", Response: alertCountsResponse{}, Status: 200},
	"POST /api/v1/alerts/status":              {Summary: "Move alerts (ids, at most 500) in the workflow: new → investigating → resolved (confirmed, false_positive or risk_accepted with reason and accepted_until) → closed; all or none", Tag: "alerts", Request: alertStatusRequest{}, Response: []alert.Alert{}, Status: 200},
	"POST /api/v1/alerts/assign":              {Summary: "Assign alerts (ids, at most 500) to a user (\"\" to nobody)", Tag: "alerts", Request: alertAssignRequest{}, Response: []alert.Alert{}, Status: 200},
	"GET /api/v1/alerts/{id}":                 {Summary: "One alert with its evidence", Tag: "alerts", Response: alert.Alert{}, Status: 200},
	"POST /api/v1/alerts/{id}/ack":            {Summary: "Acknowledge an alert (a new one becomes investigating)", Tag: "alerts", Response: alert.Alert{}, Status: 200},
	"GET /api/v1/cases":                       {Summary: "Cases, newest first", Tag: "alerts", Response: listResponse[alert.Case]{}, Status: 200, Query: []string{"status", "assignee", "overdue"}},
	"POST /api/v1/cases":                      {Summary: "Group alerts of an organisation's subtree into a case (org_id defaults to the caller's)", Tag: "alerts", Request: alert.CaseInput{}, Response: alert.CaseDetail{}, Status: 201},
	"GET /api/v1/cases/{id}":                  {Summary: "A case with its alerts and comments", Tag: "alerts", Response: alert.CaseDetail{}, Status: 200},
	"POST /api/v1/cases/{id}/alerts":          {Summary: "Add alerts to a case", Tag: "alerts", Request: alertIDsRequest{}, Response: alert.CaseDetail{}, Status: 200},
	"POST /api/v1/cases/{id}/status":          {Summary: "Move a case, and its alerts that allow it, in the workflow", Tag: "alerts", Request: alert.Change{}, Response: alert.CaseDetail{}, Status: 200},
	"POST /api/v1/cases/{id}/assign":          {Summary: "Assign a case to a user (\"\" to nobody)", Tag: "alerts", Request: assigneeRequest{}, Response: alert.CaseDetail{}, Status: 200},
	"POST /api/v1/cases/{id}/comments":        {Summary: "Comment on a case", Tag: "alerts", Request: commentRequest{}, Response: alert.Comment{}, Status: 201},
	"GET /api/v1/silences":                    {Summary: "Silences, newest first; active=true keeps those not expired, unused=true those that matched nothing in 30 days", Tag: "alerts", Response: listResponse[alert.Silence]{}, Status: 200, Query: []string{"active", "unused"}},
	"POST /api/v1/silences":                   {Summary: "Silence matching alerts of an organisation's subtree until expires_at (at most a year): they are stored and shown but not notified", Tag: "alerts", Request: alert.SilenceInput{}, Response: alert.Silence{}, Status: 201},
	"GET /api/v1/silences/{id}":               {Summary: "One silence with how often it matched", Tag: "alerts", Response: alert.Silence{}, Status: 200},
	"POST /api/v1/silences/{id}/expire":       {Summary: "End a silence now", Tag: "alerts", Response: alert.Silence{}, Status: 200},
	"GET /api/v1/orgs/{id}/alert-sla":         {Summary: "The alert SLA in force at an organisation: hours to resolve by severity (0 = no due date)", Tag: "alerts", Response: slaResponse{}, Status: 200},
	"PUT /api/v1/orgs/{id}/alert-sla":         {Summary: "Set an organisation's alert SLA for some severities (hours, 0 = no due date); applies to alerts raised from now on", Tag: "alerts", Request: slaRequest{}, Response: slaResponse{}, Status: 200},

	"GET /api/v1/supply/alerts":                  {Summary: "Supply-chain alerts, newest first: new advisories hitting stored software, failed delivery checks", Tag: "supply", Response: listResponse[supply.Alert]{}, Status: 200, Query: []string{"open"}},
	"POST /api/v1/supply/alerts/{id}/ack":        {Summary: "Acknowledge an alert", Tag: "supply", Response: supply.Alert{}, Status: 200},
	"GET /api/v1/gates":                          {Summary: "The gates of an organisation: its own, its parents' and the built-in ones", Tag: "supply", Response: listResponse[supply.Gate]{}, Status: 200, Query: []string{"org_id"}},
	"PUT /api/v1/gates":                          {Summary: "Create or replace a named gate of an organisation", Tag: "supply", Request: supply.GateDefinition{}, Response: supply.Gate{}, Status: 200},
	"GET /api/v1/licence-policy":                 {Summary: "The licence policy in force for an organisation", Tag: "supply", Response: policyView{}, Status: 200, Query: []string{"org_id"}},
	"PUT /api/v1/licence-policy":                 {Summary: "Set an organisation's licence policy (JSON or YAML) and re-judge the stored components below it", Tag: "supply", Request: policyView{}, Body: "application/yaml", Field: "-", Response: policyView{}, Status: 200, Query: []string{"org_id"}},
	"GET /api/v1/deliveries":                     {Summary: "Recorded delivery checks, newest first", Tag: "supply", Response: listResponse[supply.Delivery]{}, Status: 200, Query: []string{"vendor_id", "version_id"}},
	"POST /api/v1/sbom/check":                    {Summary: "Check an SBOM against the vulnerability database, the licence policy and optionally a gate, storing nothing (read-only tokens may call it); format=sarif answers SARIF 2.1.0", Tag: "supply", Body: "application/octet-stream", Field: "sbom", Response: supply.CheckResult{}, Status: 200, Query: []string{"gate", "org_id", "format", "source"}},
	"GET /api/v1/notify/channels":                {Summary: "Notification channels (webhook, e-mail, WeCom, DingTalk, Feishu) of the caller's organisations; URLs and secrets are not shown", Tag: "notify", Response: listResponse[notify.Channel]{}, Status: 200},
	"POST /api/v1/notify/channels":               {Summary: "Add a notification channel; the dispatcher uses it at its next pass", Tag: "notify", Request: notifyChannelRequest{}, Response: notify.Channel{}, Status: 201},
	"POST /api/v1/notify/channels/{id}/test":     {Summary: "Send a test message to a channel through the outbox", Tag: "notify", Response: notifyTestResponse{}, Status: 202},
	"GET /api/v1/notify/routes":                  {Summary: "Routes that send alerts by source, kind, minimum severity and subtree to channels, users or roles", Tag: "notify", Response: listResponse[notify.Route]{}, Status: 200},
	"POST /api/v1/notify/routes":                 {Summary: "Add a route (quiet hours and escalation optional)", Tag: "notify", Request: notify.Route{}, Response: notify.Route{}, Status: 201},
	"GET /api/v1/notify/deliveries":              {Summary: "The latest deliveries (the outbox's messages), newest first; state=dead lists the dead letters", Tag: "notify", Response: listResponse[notify.Delivery]{}, Status: 200, Query: []string{"state"}},
	"POST /api/v1/notify/deliveries/{id}/resend": {Summary: "Send a dead letter again under its idempotency key", Tag: "notify", Status: 204},
	"GET /api/v1/notify/inbox":                   {Summary: "The caller's in-app inbox, newest first", Tag: "notify", Response: listResponse[notify.InboxItem]{}, Status: 200},
	"POST /api/v1/notify/inbox/read":             {Summary: "Mark items of the caller's inbox read (all when ids is empty)", Tag: "notify", Request: inboxReadRequest{}, Status: 204},
	"GET /api/v1/notify/subscriptions":           {Summary: "The caller's own subscriptions: alerts of their organisation subtree sent to their inbox", Tag: "notify", Response: listResponse[notify.Subscription]{}, Status: 200},
	"POST /api/v1/notify/subscriptions":          {Summary: "Subscribe the caller (only) to alerts of their own organisation subtree by source, kind and minimum severity", Tag: "notify", Request: notify.SubscriptionInput{}, Response: notify.Subscription{}, Status: 201},
	"DELETE /api/v1/notify/subscriptions/{id}":   {Summary: "Remove one of the caller's own subscriptions", Tag: "notify", Status: 204},
	"DELETE /api/v1/notify/routes/{id}":          {Summary: "Remove a route; new alerts no longer match it, what is in the outbox is still sent", Tag: "notify", Status: 204},
	"POST /api/v1/notify/channels/{id}/disable":  {Summary: "Disable a channel: no new messages are queued for it and what waits is held until it is enabled", Tag: "notify", Response: notify.Channel{}, Status: 200},
	"POST /api/v1/notify/channels/{id}/enable":   {Summary: "Enable a channel again; what waited for it is sent", Tag: "notify", Response: notify.Channel{}, Status: 200},

	"POST /api/v1/reference/{kind}":         {Summary: "Import reference data of an organisation (?org_id=, default the caller's) from a CSV body (UTF-8 or GBK, header row); kind is staff (staff_id,account,name,department,role,address), patients (patient_id,name,address,vip,deceased_on,staff_id) or encounters (patient_id,staff_id,department,start,end). Rows are upserted by key; rejected rows are listed by line, column and code, never with their values; the good rows are imported in one transaction", Tag: "reference", Body: "text/csv", Field: "-", Response: reference.Report{}, Status: 200, Query: []string{"org_id"}},
	"GET /api/v1/monitor/stats":             {Summary: "Figures of the audit-event monitoring dashboard in the caller's scope for [from, to) (RFC 3339 or YYYY-MM-DD; default the 14 days before now, at most 400 days): events per minute over the last hour and per hour over the range, per system; monitoring alerts (source monitor) last seen in the range by rule, by the department of the account, by severity and by the explanation class of their evidence", Tag: "monitor", Response: monitor.Stats{}, Status: 200, Query: []string{"from", "to"}},
	"GET /api/v1/monitor/rules":             {Summary: "The monitoring rules in force for an organisation (?org_id=, default the caller's): the built-in library with the versions stored in its tree in place of the built-ins they override, and the tree's own rules; each with its version, whether it is enabled, who saved it and its monitoring alerts of the last 7 days in the caller's scope", Tag: "monitor", Response: listResponse[ruleItem]{}, Status: 200, Query: []string{"org_id"}},
	"PUT /api/v1/monitor/rules":             {Summary: "Store monitoring rules from a YAML file of one or more rules (documents separated by ---; at most 1 MiB) for an organisation and its subtree (?org_id=, default the caller's): each rule is stored as its next version, all in one transaction — one refused rule (400 with the parser's message) stores none. Answers the rules as they now apply", Tag: "monitor", Body: "application/yaml", Field: "-", Response: []ruleItem{}, Status: 200, Query: []string{"org_id"}},
	"GET /api/v1/monitor/rules/{id}":        {Summary: "One monitoring rule as it applies to an organisation (?org_id=), with its YAML and its stored versions (newest first, each with its YAML, who saved it, when and at which organisation)", Tag: "monitor", Response: ruleDetail{}, Status: 200, Query: []string{"org_id"}},
	"PUT /api/v1/monitor/rules/{id}":        {Summary: "Store a new version of a monitoring rule for an organisation and its subtree (?org_id=, default the caller's) from its YAML, and/or enable or disable it. The YAML is parsed and validated (a field that is not an event field, an unknown key, a key its kind does not use: 400 with the parser's message, nothing stored); the new version is the one in force plus one; the change is in the trail", Tag: "monitor", Request: ruleUpdate{}, Response: ruleDetail{}, Status: 200, Query: []string{"org_id"}},
	"GET /api/v1/reference/summary":         {Summary: "Counts of an organisation's reference data (?org_id=, default the caller's): staff, patients, encounters and open encounters", Tag: "reference", Response: reference.Summary{}, Status: 200, Query: []string{"org_id"}},
	"GET /api/v1/dlp/summary":               {Summary: "Patient-data scans in the caller's scope over the last days (default 30): scans by kind, findings by type and by level, policy checks by decision", Tag: "dlp", Response: dlpsvc.Summary{}, Status: 200, Query: []string{"days"}},
	"POST /api/v1/dlp/scan/text":            {Summary: "Scan a text for patient data and record the scan; findings are masked", Tag: "dlp", Request: dlpTextRequest{}, Response: dlpsvc.Result{}, Status: 201},
	"POST /api/v1/dlp/scan/file":            {Summary: "Scan an uploaded file (text, CSV, JSON, XML, HL7, DOCX/XLSX/PPTX, PDF, ZIP; at most 64 MiB) and record the scan; a raw body is named by ?name=", Tag: "dlp", Body: "application/octet-stream", Response: dlpsvc.Result{}, Status: 201, Query: []string{"org_id", "name"}},
	"POST /api/v1/dlp/check":                {Summary: "Pre-send policy check of an outgoing file for a mail or file-transfer gateway: allow, alert or block under the organisation's policy, with the verdict and masked findings; recorded and trailed. A token of scope dlp.check may call this and nothing else", Tag: "dlp", Body: "application/octet-stream", Response: dlpsvc.CheckResult{}, Status: 200, Query: []string{"org_id", "name"}},
	"POST /api/v1/events":                   {Summary: "Store a batch of audit events of a hospital system (a JSON array, or NDJSON with Content-Type application/x-ndjson; up to 100,000 events, 64 MiB) for the caller's organisation or ?org_id= in its subtree; answered after commit with the accepted, duplicate and rejected counts; 400 (nothing stored) for a body that is not JSON, 429 with Retry-After under load. A token of scope events.ingest may call this and nothing else", Tag: "events", Request: []events.Event{}, Response: events.Result{}, Status: 200, Query: []string{"org_id"}},
	"GET /api/v1/dlp/scans":                 {Summary: "The scan history, newest first", Tag: "dlp", Response: listResponse[dlpsvc.Scan]{}, Status: 200, Query: []string{"kind", "status", "decision"}},
	"GET /api/v1/dlp/scans/{id}":            {Summary: "A scan with its files (per-file verdicts, problems) and a page of its masked findings", Tag: "dlp", Response: dlpScanResponse{}, Status: 200, Query: []string{"file_id", "type", "limit", "offset"}},
	"GET /api/v1/dlp/scans/{id}/findings":   {Summary: "A page of a scan's masked findings, highest level first", Tag: "dlp", Response: dlpFindingsResponse{}, Status: 200, Query: []string{"file_id", "type", "limit", "offset"}},
	"GET /api/v1/dlp/jobs":                  {Summary: "Scan jobs over server paths, newest first, with status and progress", Tag: "dlp", Response: listResponse[dlpsvc.Scan]{}, Status: 200, Query: []string{"status"}},
	"POST /api/v1/dlp/jobs":                 {Summary: "Start a background scan job over a server path under a configured scan root (dlp.scan_roots)", Tag: "dlp", Request: dlpJobRequest{}, Response: dlpsvc.Scan{}, Status: 202},
	"GET /api/v1/dlp/jobs/{id}":             {Summary: "A scan job with its progress, files and findings", Tag: "dlp", Response: dlpScanResponse{}, Status: 200, Query: []string{"file_id", "type", "limit", "offset"}},
	"POST /api/v1/dlp/findings/{id}/reveal": {Summary: "Reveal the raw value of a finding (dlp.reveal); the body's reason is required and recorded in the audit trail", Tag: "dlp", Request: revealRequest{}, Response: dlpsvc.Revealed{}, Status: 200},
	"GET /api/v1/dlp/policy":                {Summary: "The pre-send policy and site identifiers in force for an organisation", Tag: "dlp", Response: dlpsvc.PolicyView{}, Status: 200, Query: []string{"org_id"}},
	"PUT /api/v1/dlp/policy":                {Summary: "Set an organisation's pre-send policy and site identifiers (病案号, 门诊号 …)", Tag: "dlp", Request: dlpsvc.Policy{}, Response: dlpsvc.PolicyView{}, Status: 200, Query: []string{"org_id"}},
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.openapi)
}

// buildOpenAPI renders apiDocs as an OpenAPI 3.1 document. It runs twice: the first
// pass finds the type names that more than one package uses, which the second pass
// qualifies with their package (see schemaGen.name).
func buildOpenAPI(version string) map[string]any {
	first := &schemaGen{defs: map[string]any{}, types: map[string]reflect.Type{}, bases: map[string]map[reflect.Type]bool{}}
	renderOpenAPI(version, first)
	sg := &schemaGen{defs: map[string]any{}, types: map[string]reflect.Type{}, collide: map[string]bool{}}
	for base, ts := range first.bases {
		sg.collide[base] = len(ts) > 1
	}
	return renderOpenAPI(version, sg)
}

// schemaTypes maps every schema name of the document to the Go type it describes.
func schemaTypes() map[string]reflect.Type {
	first := &schemaGen{defs: map[string]any{}, types: map[string]reflect.Type{}, bases: map[string]map[reflect.Type]bool{}}
	renderOpenAPI("", first)
	sg := &schemaGen{defs: map[string]any{}, types: map[string]reflect.Type{}, collide: map[string]bool{}}
	for base, ts := range first.bases {
		sg.collide[base] = len(ts) > 1
	}
	renderOpenAPI("", sg)
	return sg.types
}

func renderOpenAPI(version string, sg *schemaGen) map[string]any {
	paths := map[string]any{}
	keys := make([]string, 0, len(apiDocs))
	for k := range apiDocs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		op := apiDocs[k]
		method, path, _ := strings.Cut(k, " ")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		o := map[string]any{
			"summary":     op.Summary,
			"tags":        []string{op.Tag},
			"operationId": operationID(method, path),
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			schema := map[string]any{"type": "string"}
			if m[1] == "id" {
				schema = map[string]any{"type": "integer", "format": "int64"}
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
		}
		for _, q := range queryOf(op) {
			params = append(params, queryParam(k, q))
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		content := map[string]any{}
		if op.Request != nil {
			content["application/json"] = map[string]any{"schema": sg.schema(reflect.TypeOf(op.Request))}
		}
		if op.Body != "" {
			content[op.Body] = map[string]any{"schema": map[string]any{"type": "string"}}
			if field := op.Field; field != "-" {
				if field == "" {
					field = "file"
				}
				content["multipart/form-data"] = map[string]any{"schema": map[string]any{"type": "object",
					"properties": map[string]any{field: map[string]any{"type": "string", "contentMediaType": op.Body}}}}
			}
		}
		if len(op.Parts) > 0 {
			props := map[string]any{}
			for _, p := range op.Parts {
				props[p] = map[string]any{"type": "string"}
			}
			content["multipart/form-data"] = map[string]any{"schema": map[string]any{"type": "object", "properties": props}}
		}
		if len(content) > 0 {
			o["requestBody"] = map[string]any{"required": true, "content": content}
		}
		resp := map[string]any{"description": http.StatusText(op.Status)}
		switch {
		case op.Produces != "":
			resp["content"] = map[string]any{op.Produces: map[string]any{"schema": map[string]any{"type": "string"}}}
		case op.Response != nil:
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": sg.schema(reflect.TypeOf(op.Response))}}
		}
		errRef := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": sg.schema(reflect.TypeOf(errorBody{}))}}}
		responses := map[string]any{strconv.Itoa(op.Status): resp, "default": errRef}
		if path != "/api/v1/openapi.json" {
			responses["401"] = errRef
			responses["403"] = errRef
		}
		o["responses"] = responses
		if path == "/api/v1/openapi.json" {
			o["security"] = []any{}
		}
		item[strings.ToLower(method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "medguard API",
			"version":     version,
			"description": "Security governance for hospitals: organisation, users, assets, the software supply chain (vendors, products, SBOMs, vulnerability findings, gates, delivery checks), patient-data detection (scans, jobs, pre-send policy checks) and the tamper-evident audit trail. Authenticate with `Authorization: Bearer <token>` (create tokens under My account or with `medguard token create`); the token of a user who must still change a temporary password or set up the two-step verification its organisation requires is refused with 403 `password_change_required` or `mfa_enrolment_required`, and an administrator's password reset revokes the user's tokens. Errors are `{\"error\":{\"code\":…,\"message\":…}}`.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         sg.defs,
			"parameters":      pagingParams(),
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			rs := []rune(w)
			rs[0] = unicode.ToUpper(rs[0])
			b.WriteString(string(rs))
		}
	}
	return b.String()
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses), following
// encoding/json's rules for field names.
type schemaGen struct {
	defs    map[string]any
	types   map[string]reflect.Type          // schema name → the type it describes
	bases   map[string]map[reflect.Type]bool // first pass: bare type name → types bearing it
	collide map[string]bool                  // second pass: bare names borne by several types
}

var timeType = reflect.TypeOf(time.Time{})

var rawJSONType = reflect.TypeOf(json.RawMessage{})

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawJSONType:
		return map[string]any{} // any JSON value
	case t.Kind() == reflect.Pointer:
		inner := g.schema(t.Elem())
		return map[string]any{"anyOf": []any{inner, map[string]any{"type": "null"}}}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := g.name(t)
		if g.bases != nil && !isEnvelopeType(t) {
			base := bareName(t)
			if g.bases[base] == nil {
				g.bases[base] = map[reflect.Type]bool{}
			}
			g.bases[base][t] = true
		}
		g.types[name] = t
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			g.fields(t, props)
			g.defs[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		props[name] = g.schema(f.Type)
	}
}

// name is the schema name of struct type t: its own name (Asset, User, Finding), with
// its package in front only when another package has a type of the same name
// (AssetImportReport, SupplyImportReport); a list envelope is named after its items
// (AssetList). A package that says nothing of the domain ("service", "web") never
// appears: dlp/service is "DLP".
func (g *schemaGen) name(t reflect.Type) string {
	if isEnvelopeType(t) {
		f, _ := t.FieldByName("Items")
		return g.name(f.Type.Elem()) + "List"
	}
	base := bareName(t)
	label := pkgLabel(t)
	if label == "" || !g.collide[base] || strings.HasPrefix(base, label) {
		return base
	}
	return label + base
}

// bareName is t's name with its first letter upper-cased.
func bareName(t reflect.Type) string {
	return upFirst(t.Name())
}

// pkgLabel names t's package for a schema name: "" for the web package itself.
func pkgLabel(t reflect.Type) string {
	parts := strings.Split(t.PkgPath(), "/")
	last := parts[len(parts)-1]
	if last == "service" && len(parts) > 1 {
		last = parts[len(parts)-2]
	}
	switch last {
	case "web":
		return ""
	case "dlp":
		return "DLP"
	}
	return upFirst(last)
}

func upFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// isEnvelopeType reports whether t is an instance of paging.Envelope.
func isEnvelopeType(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasSuffix(t.PkgPath(), "/paging") && strings.HasPrefix(t.Name(), "Envelope[")
}
