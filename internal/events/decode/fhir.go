package decode

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/medguard/medguard/internal/events"
)

// DecodeFHIR decodes a FHIR AuditEvent resource, or a Bundle of them, in JSON or XML, into
// events (one an AuditEvent), with the zero Decoder's assumptions. See Decoder.DecodeFHIR.
func DecodeFHIR(data []byte) ([]events.Event, error) { return Decoder{}.DecodeFHIR(data) }

// DecodeFHIR decodes a FHIR AuditEvent or a Bundle of AuditEvents (JSON or XML; R4, and
// the R5 names of the same elements), as IHE Basic Audit Log Patterns (BALP) records a
// patient read, query or export:
//
//   - action: the RESTful interaction of subtype (R4) or code (R5) — read/vread → view,
//     search* and history* → search, create, update/patch → modify, delete, export; else
//     a DICOM event type (110110, 110112 query, 110106 export, 110114 login …) as in
//     DecodeDICOM; else the action code C/R/U/D;
//   - account: the requesting agent's who.identifier.value (else altId, who.reference,
//     who.display); source_ip / terminal: that agent's network address, or the client
//     agent's when the requestor has none;
//   - patient_id: the entity whose what is a Patient reference (the id after
//     "Patient/"), or whose role is 1 (patient) with an identifier; record_count the
//     number of patients when more than one;
//   - time: recorded; outcome: 0 success, 4/8/12 failure; id: id (a digest of the
//     resource when it has none); system: source.observer (identifier, display or
//     reference), else source.site.
//
// Raw is the text of each AuditEvent as received.
func (d Decoder) DecodeFHIR(data []byte) ([]events.Event, error) {
	if len(data) > MaxInput {
		return nil, invalid("FHIR resource too large")
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	if len(trimmed) == 0 {
		return nil, invalid("empty FHIR resource")
	}
	var resources []fhirResource
	var err error
	switch trimmed[0] {
	case '{':
		resources, err = fhirJSON(trimmed)
	case '<':
		resources, err = fhirXML(trimmed)
	default:
		return nil, invalid("FHIR resource is neither JSON nor XML")
	}
	if err != nil {
		return nil, err
	}
	out := make([]events.Event, 0, len(resources))
	for i, r := range resources {
		ev, err := d.fhirEvent(r.node, r.raw)
		if err != nil {
			if len(resources) > 1 {
				return nil, fmt.Errorf("FHIR Bundle entry %d: %w", i+1, err)
			}
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// fhirResource is one AuditEvent as a generic tree (the shape of FHIR JSON: objects,
// arrays, strings) and its original text.
type fhirResource struct {
	node map[string]any
	raw  []byte
}

func fhirJSON(data []byte) ([]fhirResource, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, invalid("FHIR resource is not valid JSON")
	}
	one := func(raw []byte) (fhirResource, error) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil || m == nil {
			return fhirResource{}, invalid("FHIR resource is not a JSON object")
		}
		if rt, _ := m["resourceType"].(string); rt != "AuditEvent" {
			return fhirResource{}, invalid("FHIR resource is not an AuditEvent")
		}
		return fhirResource{node: m, raw: raw}, nil
	}
	switch head.ResourceType {
	case "AuditEvent":
		r, err := one(data)
		if err != nil {
			return nil, err
		}
		return []fhirResource{r}, nil
	case "Bundle":
		if len(head.Entry) == 0 {
			return nil, invalid("FHIR Bundle has no entry")
		}
		out := make([]fhirResource, 0, len(head.Entry))
		for i, e := range head.Entry {
			r, err := one(e.Resource)
			if err != nil {
				return nil, fmt.Errorf("FHIR Bundle entry %d: %w", i+1, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	return nil, invalid("FHIR resource is neither an AuditEvent nor a Bundle")
}

// xmlNode is an element of FHIR XML with the byte range of its text.
type xmlNode struct {
	name       string
	value      string
	hasValue   bool
	children   []*xmlNode
	start, end int64
}

const fhirNS = "http://hl7.org/fhir"

func fhirXML(data []byte) ([]fhirResource, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var (
		root  *xmlNode
		stack []*xmlNode
		depth int
	)
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalid("FHIR resource is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 64 {
				return nil, invalid("FHIR XML nested too deeply")
			}
			if t.Name.Space != fhirNS && t.Name.Space != "" {
				// The narrative (XHTML) and foreign elements are skipped.
				if err := dec.Skip(); err != nil {
					return nil, invalid("FHIR resource is not well-formed XML")
				}
				depth--
				continue
			}
			n := &xmlNode{name: t.Name.Local, start: off}
			for _, a := range t.Attr {
				if a.Name.Local == "value" && a.Name.Space == "" {
					n.value, n.hasValue = a.Value, true
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, invalid("FHIR XML has more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			depth--
			stack[len(stack)-1].end = dec.InputOffset()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, invalid("FHIR XML has text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, invalid("FHIR XML has no root element")
	}
	toResource := func(n *xmlNode) (fhirResource, error) {
		if n.name != "AuditEvent" {
			return fhirResource{}, invalid("FHIR resource is not an AuditEvent")
		}
		m := xmlToMap(n)
		m["resourceType"] = n.name
		return fhirResource{node: m, raw: data[n.start:n.end]}, nil
	}
	switch root.name {
	case "AuditEvent":
		r, err := toResource(root)
		if err != nil {
			return nil, err
		}
		return []fhirResource{r}, nil
	case "Bundle":
		var out []fhirResource
		for _, e := range root.children {
			if e.name != "entry" {
				continue
			}
			i := len(out) + 1
			var res *xmlNode
			for _, c := range e.children {
				if c.name == "resource" && len(c.children) == 1 {
					res = c.children[0]
				}
			}
			if res == nil {
				return nil, fmt.Errorf("FHIR Bundle entry %d: %w", i, invalid("entry has no resource"))
			}
			r, err := toResource(res)
			if err != nil {
				return nil, fmt.Errorf("FHIR Bundle entry %d: %w", i, err)
			}
			out = append(out, r)
		}
		if len(out) == 0 {
			return nil, invalid("FHIR Bundle has no entry")
		}
		return out, nil
	}
	return nil, invalid("FHIR resource is neither an AuditEvent nor a Bundle")
}

// xmlToMap turns an element into the JSON shape: a primitive (value attribute, no
// children) becomes its string, anything else an object whose every child is an array.
func xmlToMap(n *xmlNode) map[string]any {
	m := map[string]any{}
	for _, c := range n.children {
		var v any
		if c.hasValue && len(c.children) == 0 {
			v = c.value
		} else {
			v = xmlToMap(c)
		}
		list, _ := m[c.name].([]any)
		m[c.name] = append(list, v)
	}
	return m
}

// all returns the values at a dotted path, flattening arrays on the way.
func all(v any, path string) []any {
	cur := []any{v}
	for _, key := range strings.Split(path, ".") {
		var next []any
		for _, c := range cur {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			switch x := m[key].(type) {
			case nil:
			case []any:
				next = append(next, x...)
			default:
				next = append(next, x)
			}
		}
		cur = next
	}
	return cur
}

// first returns the first string value at path, trimmed, or "".
func first(v any, path string) string {
	for _, x := range all(v, path) {
		switch s := x.(type) {
		case string:
			if s = strings.TrimSpace(s); s != "" {
				return s
			}
		case bool:
			if s {
				return "true"
			}
			return "false"
		case float64:
			return fmt.Sprint(s)
		}
	}
	return ""
}

// codes returns the codes of the Coding / CodeableConcept values at path.
func codes(v any, path string) []string {
	var out []string
	for _, x := range all(v, path) {
		if c := first(x, "code"); c != "" {
			out = append(out, c)
		}
		for _, cd := range all(x, "coding") {
			if c := first(cd, "code"); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

func (d Decoder) fhirEvent(r map[string]any, raw []byte) (events.Event, error) {
	ev := events.Event{ID: first(r, "id"), Raw: string(raw)}
	if ev.ID == "" {
		ev.ID = digestID(raw)
	}
	rec := first(r, "recorded")
	if rec == "" {
		return ev, invalid("AuditEvent has no recorded time")
	}
	t, err := parseTime(rec, d.loc())
	if err != nil {
		return ev, invalid("AuditEvent recorded is not a FHIR instant")
	}
	ev.Time = t

	outcome := first(r, "outcome")                   // R4: a code
	if oc := codes(r, "outcome.code"); len(oc) > 0 { // R5: outcome.code is a Coding
		outcome = oc[0]
	}
	switch outcome {
	case "", "0", "information", "warning", "success":
		ev.Outcome = events.OutcomeSuccess
	case "4", "8", "12", "error", "fatal":
		ev.Outcome = events.OutcomeFailure
	default:
		return ev, invalid("AuditEvent outcome is not 0, 4, 8, 12 or an issue severity")
	}

	action, err := fhirAction(r, ev.Outcome)
	if err != nil {
		return ev, err
	}
	ev.Action = action

	// The agents: the requestor names the account.
	agents := all(r, "agent")
	req := -1
	for i, a := range agents {
		if first(a, "requestor") == "true" {
			req = i
			break
		}
	}
	if req < 0 && len(agents) > 0 {
		req = 0
	}
	if req < 0 {
		return ev, invalid("AuditEvent has no agent")
	}
	a := agents[req]
	for _, p := range []string{"who.identifier.value", "altId", "who.reference", "who.display", "name"} {
		if ev.Account = first(a, p); ev.Account != "" {
			break
		}
	}
	if ev.Account == "" {
		return ev, invalid("AuditEvent requesting agent has no identity")
	}
	observer := first(r, "source.observer.reference")
	setNetwork(&ev, a)
	if ev.SourceIP == "" && ev.Terminal == "" {
		// BALP: the client application is a separate agent; the server's own agent is
		// the observer.
		for i, o := range agents {
			if i == req || (observer != "" && first(o, "who.reference") == observer) {
				continue
			}
			if setNetwork(&ev, o) {
				break
			}
		}
	}

	for _, p := range []string{"source.observer.identifier.value", "source.observer.display", "source.observer.reference", "source.site"} {
		if ev.System = first(r, p); ev.System != "" {
			break
		}
	}

	var patients []string
	if p := patientRef(first(r, "patient.reference")); p != "" { // R5
		patients = append(patients, p)
	}
	for _, e := range all(r, "entity") {
		p := patientRef(first(e, "what.reference"))
		if p == "" {
			role := codes(e, "role")
			if len(role) > 0 && role[0] == "1" {
				p = first(e, "what.identifier.value")
				if p == "" {
					p = first(e, "what.reference")
				}
			}
		}
		if p != "" && !contains(patients, p) {
			patients = append(patients, p)
		}
	}
	if len(patients) > 0 {
		ev.PatientID = patients[0]
	}
	if len(patients) > 1 {
		ev.RecordCount = len(patients)
	}
	return ev, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// patientRef returns the id of a Patient reference ("Patient/ID", an absolute URL ending
// so, optionally with /_history/N), or "".
func patientRef(ref string) string {
	i := strings.LastIndex(ref, "Patient/")
	if i < 0 || (i > 0 && ref[i-1] != '/') {
		return ""
	}
	id := ref[i+len("Patient/"):]
	if j := strings.Index(id, "/"); j >= 0 {
		id = id[:j]
	}
	return id
}

// setNetwork fills source_ip (an IP address) or terminal (a host name) from an agent's
// network (R4 network.address, R5 networkString/networkUri); it reports whether it did.
func setNetwork(ev *events.Event, agent any) bool {
	addr := first(agent, "network.address")
	if addr == "" {
		addr = first(agent, "networkString")
	}
	if addr == "" || strings.Contains(addr, "://") {
		return false // a URL names a server endpoint, not where the user sits
	}
	if net.ParseIP(addr) != nil {
		ev.SourceIP = addr
	} else {
		ev.Terminal = addr
	}
	return true
}

// fhirAction finds the events action of an AuditEvent.
func fhirAction(r map[string]any, outcome string) (string, error) {
	// RESTful interaction and operation codes: subtype (R4), code (R5).
	for _, c := range append(codes(r, "subtype"), codes(r, "code")...) {
		switch strings.TrimPrefix(c, "$") {
		case "read", "vread":
			return events.ActionView, nil
		case "search", "search-type", "search-system", "search-compartment", "history", "history-instance", "history-type", "history-system":
			return events.ActionSearch, nil
		case "create":
			return events.ActionCreate, nil
		case "update", "patch":
			return events.ActionModify, nil
		case "delete":
			return events.ActionDelete, nil
		case "export":
			return events.ActionExport, nil
		}
	}
	// DICOM audit event IDs and types: type/subtype (R4), category/code (R5).
	action := first(r, "action")
	all := append(append(codes(r, "type"), codes(r, "category")...), append(codes(r, "subtype"), codes(r, "code")...)...)
	var types []dicomCode
	for _, c := range all {
		types = append(types, dicomCode{Code: c})
	}
	for _, c := range all {
		if c == "110122" || c == "110123" {
			return dicomAction(dcmUserAuthentication, action, outcome, types)
		}
	}
	for _, c := range all {
		if a, err := dicomAction(c, action, outcome, types); err == nil {
			return a, nil
		}
	}
	switch action {
	case "C":
		return events.ActionCreate, nil
	case "R":
		return events.ActionView, nil
	case "U":
		return events.ActionModify, nil
	case "D":
		return events.ActionDelete, nil
	case "":
		return "", invalid("AuditEvent has no action, subtype or known type")
	}
	return "", fmt.Errorf("%w: AuditEvent without a known type or subtype", ErrUnsupported)
}
