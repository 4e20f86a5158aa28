package web

import (
	"github.com/medguard/medguard/internal/alert"
	"reflect"
	"strconv"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/supply"
)

// The paging parameters, shared by every collection as components/parameters.
var pagingRefs = map[string]string{
	paging.ParamLimit:   "Limit",
	paging.ParamOffset:  "Offset",
	paging.ParamPage:    "Page",
	paging.ParamPerPage: "PerPage",
}

// pagingParams is components/parameters: the list convention's query parameters.
func pagingParams() map[string]any {
	integer := func(min int) map[string]any { return map[string]any{"type": "integer", "minimum": min} }
	return map[string]any{
		"Limit": map[string]any{"name": paging.ParamLimit, "in": "query", "schema": integer(1),
			"description": "Largest number of items to return. The default is " + strconv.Itoa(paging.Standard.Default) +
				" and the maximum " + strconv.Itoa(paging.Standard.Max) + " unless the operation's summary says otherwise; a larger value is refused with 400 (limit_out_of_range), never capped silently."},
		"Offset": map[string]any{"name": paging.ParamOffset, "in": "query", "schema": integer(0),
			"description": "Number of matching items to skip. Prefer following the envelope's `next` link, which carries the right limit and offset (or cursor)."},
		"Page": map[string]any{"name": paging.ParamPage, "in": "query", "schema": integer(1), "deprecated": true,
			"description": "Older alias: page n (from 1) is offset (n-1)×limit."},
		"PerPage": map[string]any{"name": paging.ParamPerPage, "in": "query", "schema": integer(1), "deprecated": true,
			"description": "Older alias of limit."},
	}
}

// queryOf is the query parameters of op: its own, then the paging parameters when it
// answers the list envelope.
func queryOf(op apiOp) []string {
	q := append([]string(nil), op.Query...)
	if op.Response != nil && isEnvelopeType(reflectType(op.Response)) {
		have := map[string]bool{}
		for _, n := range q {
			have[n] = true
		}
		for _, n := range []string{paging.ParamLimit, paging.ParamOffset, paging.ParamPage, paging.ParamPerPage} {
			if !have[n] {
				q = append(q, n)
			}
		}
	}
	return q
}

// qdoc documents one query parameter: its JSON Schema and description.
type qdoc struct {
	schema map[string]any
	desc   string
}

func str(desc string) qdoc { return qdoc{map[string]any{"type": "string"}, desc} }
func id(desc string) qdoc {
	return qdoc{map[string]any{"type": "integer", "format": "int64", "minimum": 1}, desc}
}
func flag(desc string) qdoc { return qdoc{map[string]any{"type": "boolean"}, desc} }
func oneOf(desc string, values ...[]string) qdoc {
	var all []string
	for _, v := range values {
		all = append(all, v...)
	}
	return qdoc{map[string]any{"type": "string", "enum": all}, desc}
}

// queryDocs documents the query parameters by name; opQueryDocs overrides them for
// the operations where a name means something else.
var queryDocs = map[string]qdoc{
	"q":           str("Free-text search"),
	"kind":        oneOf("Asset kind", asset.Kinds),
	"zone":        oneOf("Network zone", asset.Zones),
	"lifecycle":   oneOf("Lifecycle stage", asset.Lifecycles),
	"tag":         str("Exact tag (case-insensitive)"),
	"mlps_level":  {map[string]any{"type": "integer", "minimum": 0, "maximum": 5}, "MLPS (等级保护) level"},
	"mlps_min":    {map[string]any{"type": "integer", "minimum": 1, "maximum": 4}, "Assets at this MLPS (等级保护) level or above"},
	"org_id":      id("Organisation: that node and everything below it (defaults to the caller's organisation where one is needed)"),
	"sort":        oneOf("Sort key; a leading - sorts descending", asset.Sorts()),
	"dry_run":     flag("Check only; store nothing"),
	"update":      flag("Update assets whose code already exists instead of reporting them"),
	"role":        oneOf("Role", auth.Roles),
	"action":      str("Action or action prefix, e.g. asset. or auth.login"),
	"actor":       str("Username of the actor"),
	"object_type": str("Type of the object acted on"),
	"object_id":   str("Identifier of the object acted on"),
	"before":      {map[string]any{"type": "integer", "format": "int64", "minimum": 1}, "Cursor: entries older than this sequence number (the envelope's next link carries it)"},
	"vendor_id":   id("Vendor"),
	"product_id":  id("Product"),
	"version_id":  id("Product version"),
	"vuln":        str("Advisory id or alias"),
	"severity":    oneOf("Severity", supply.Severities),
	"state":       oneOf("Finding state (empty = open and accepted)", []string{supply.StateOpen, supply.StateFixed, supply.StateAccepted, supply.StateFalsePositive, "all"}),
	"open":        flag("Only alerts not yet acknowledged"),
	"gate":        str("Gate to evaluate (procurement, go-live, update or a stored gate's name)"),
	"format":      oneOf("Response format", []string{"json", "sarif"}),
	"source":      str("Artifact name in the SARIF output (defaults to the uploaded file's name)"),
	"days":        {map[string]any{"type": "integer", "minimum": 1}, "Period in days (default 30)"},
	"name":        str("File name of a raw request body"),
	"file_id":     id("Only the findings of this file of the scan"),
	"type":        str("Patient-data type of the findings, e.g. resident_id"),
	"status":      oneOf("Scan status", []string{dlpsvc.StatusQueued, dlpsvc.StatusRunning, dlpsvc.StatusDone, dlpsvc.StatusFailed}),
	"from":        {map[string]any{"type": "string"}, "Start of the range: an RFC 3339 time or a date (YYYY-MM-DD, midnight in the server's zone)"},
	"to":          {map[string]any{"type": "string"}, "End of the range (excluded): an RFC 3339 time or a date (YYYY-MM-DD, midnight in the server's zone)"},
	"decision":    oneOf("Pre-send decision", []string{dlpsvc.DecisionAllow, dlpsvc.DecisionAlert, dlpsvc.DecisionBlock}),
}

var opQueryDocs = map[string]map[string]qdoc{
	"GET /api/v1/dlp/scans": {"kind": oneOf("Scan kind", []string{dlpsvc.KindText, dlpsvc.KindUpload, dlpsvc.KindJob, dlpsvc.KindCheck})},
	"GET /api/v1/alerts": {
		"source":   str("Module that raised the alert: supply, dlp …"),
		"kind":     str("Kind of alert, e.g. new_vulnerability, delivery_failed, dlp_block"),
		"severity": oneOf("Severity", alert.Severities),
		"status":   oneOf("Status; open = new and investigating", []string{alert.StatusOpen}, alert.Statuses),
		"case_id":  id("Only the alerts of this case"),
		"silenced": flag("Only silenced alerts (true) or only unsilenced ones (false)"),
		"overdue":  flag("Only open alerts past their due date"),
	},
	"GET /api/v1/cases": {
		"status":   oneOf("Status; open = new and investigating", []string{alert.StatusOpen}, alert.Statuses),
		"assignee": str("User name of the assignee"),
		"overdue":  flag("Only open cases past their due date"),
	},
	"GET /api/v1/silences": {
		"active": flag("Only silences that have not expired"),
		"unused": flag("Only active silences that matched nothing in the last 30 days"),
	},
}

// queryParam is the OpenAPI parameter object of query parameter name of operation op:
// a reference to the shared paging parameters, or a typed, described parameter.
func queryParam(op, name string) map[string]any {
	if ref, ok := pagingRefs[name]; ok {
		return map[string]any{"$ref": "#/components/parameters/" + ref}
	}
	d, ok := opQueryDocs[op][name]
	if !ok {
		d, ok = queryDocs[name]
	}
	if !ok {
		return map[string]any{"name": name, "in": "query", "required": false, "schema": map[string]any{}}
	}
	return map[string]any{"name": name, "in": "query", "required": false, "schema": d.schema, "description": d.desc}
}

func reflectType(v any) reflect.Type { return reflect.TypeOf(v) }
