// Package asset owns the hospital IT asset inventory: servers, workstations, network
// devices, networked medical devices, business systems (HIS, EMR, LIS, PACS, …), internet
// applications and software products, each belonging to a hospital or department node of
// the organisation tree, with its owner, location, network zone, MLPS level (等保级别),
// addresses, vendor, lifecycle and tags. It validates and stores assets, lists and counts
// them within the caller's scope, imports and exports them as CSV (UTF-8, UTF-16 or GBK)
// and generates realistic demo data.
package asset

import (
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/problem"
)

// Kinds of asset, as stored.
const (
	KindServer         = "server"
	KindWorkstation    = "workstation"
	KindNetwork        = "network"
	KindMedicalDevice  = "medical_device"
	KindBusinessSystem = "business_system"
	KindInternetApp    = "internet_app"
	KindSoftware       = "software"
)

// Network zones, as stored.
const (
	ZoneInternal = "internal"
	ZoneExternal = "external"
	ZoneDMZ      = "dmz"
	ZoneMedical  = "medical"
)

// Lifecycle states, as stored, in the order an asset goes through them.
const (
	LifecyclePlanned     = "planned"
	LifecycleProcured    = "procured"
	LifecycleInService   = "in_service"
	LifecycleMaintenance = "maintenance"
	LifecycleRetired     = "retired"
)

// Kinds lists the asset kinds.
var Kinds = []string{KindServer, KindWorkstation, KindNetwork, KindMedicalDevice, KindBusinessSystem, KindInternetApp, KindSoftware}

// Zones lists the network zones.
var Zones = []string{ZoneInternal, ZoneExternal, ZoneDMZ, ZoneMedical}

// Lifecycles lists the lifecycle states.
var Lifecycles = []string{LifecyclePlanned, LifecycleProcured, LifecycleInService, LifecycleMaintenance, LifecycleRetired}

// DateLayout is the layout of every stored date.
const DateLayout = "2006-01-02"

// Maximum lengths in bytes of the text fields, and limits on tags.
const (
	MaxCode     = 64
	MaxName     = 200
	MaxShort    = 100 // subtype, owner, vendor, model, serial
	MaxLocation = 200
	MaxNotes    = 4000
	MaxTag      = 64
	MaxTags     = 32
)

// Asset is one stored asset, with the name and path of the organisation it belongs to.
type Asset struct {
	ID          int64     `json:"id"`
	OrgID       int64     `json:"org_id"`
	OrgName     string    `json:"org_name"`
	OrgPath     string    `json:"org_path"`
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Subtype     string    `json:"subtype"`
	Owner       string    `json:"owner"`
	Location    string    `json:"location"`
	Zone        string    `json:"zone"`
	MLPSLevel   int       `json:"mlps_level"` // 0 = not graded
	IP          string    `json:"ip"`
	MAC         string    `json:"mac"`
	Vendor      string    `json:"vendor"`
	Model       string    `json:"model"`
	Serial      string    `json:"serial"`
	Lifecycle   string    `json:"lifecycle"`
	ProcuredOn  string    `json:"procured_on"`
	InServiceOn string    `json:"in_service_on"`
	RetiredOn   string    `json:"retired_on"`
	Tags        []string  `json:"tags"`
	Notes       string    `json:"notes"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Input is the editable part of an asset.
type Input struct {
	OrgID       int64    `json:"org_id"`
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Subtype     string   `json:"subtype"`
	Owner       string   `json:"owner"`
	Location    string   `json:"location"`
	Zone        string   `json:"zone"`
	MLPSLevel   int      `json:"mlps_level"`
	IP          string   `json:"ip"`
	MAC         string   `json:"mac"`
	Vendor      string   `json:"vendor"`
	Model       string   `json:"model"`
	Serial      string   `json:"serial"`
	Lifecycle   string   `json:"lifecycle"` // "" = in_service
	ProcuredOn  string   `json:"procured_on"`
	InServiceOn string   `json:"in_service_on"`
	RetiredOn   string   `json:"retired_on"`
	Tags        []string `json:"tags"`
	Notes       string   `json:"notes"`
	// Version is, for Update, the version the caller last read; a different stored
	// version is a conflict. 0 skips the check.
	Version int `json:"version"`
}

// InputOf returns the editable part of x, with x's version.
func InputOf(x Asset) Input {
	return Input{
		OrgID: x.OrgID, Code: x.Code, Name: x.Name, Kind: x.Kind, Subtype: x.Subtype, Owner: x.Owner,
		Location: x.Location, Zone: x.Zone, MLPSLevel: x.MLPSLevel, IP: x.IP, MAC: x.MAC, Vendor: x.Vendor,
		Model: x.Model, Serial: x.Serial, Lifecycle: x.Lifecycle, ProcuredOn: x.ProcuredOn,
		InServiceOn: x.InServiceOn, RetiredOn: x.RetiredOn, Tags: append([]string(nil), x.Tags...),
		Notes: x.Notes, Version: x.Version,
	}
}

// Validate normalises in (trims text, lowercases enums and the MAC address, formats IP
// addresses and dates canonically, sorts and de-duplicates tags) and reports the first
// bad field as a problem with code "invalid".
func (in *Input) Validate() error {
	if in.OrgID <= 0 {
		return problem.Invalid("org_id", "organisation is required").WithMsg("error.msg.required")
	}
	texts := []struct {
		field string
		v     *string
		max   int
		multi bool
	}{
		{"code", &in.Code, MaxCode, false},
		{"name", &in.Name, MaxName, false},
		{"subtype", &in.Subtype, MaxShort, false},
		{"owner", &in.Owner, MaxShort, false},
		{"location", &in.Location, MaxLocation, false},
		{"vendor", &in.Vendor, MaxShort, false},
		{"model", &in.Model, MaxShort, false},
		{"serial", &in.Serial, MaxShort, false},
		{"notes", &in.Notes, MaxNotes, true},
	}
	for _, t := range texts {
		*t.v = strings.TrimSpace(*t.v)
		if err := checkText(t.field, *t.v, t.max, t.multi); err != nil {
			return err
		}
	}
	if in.Code == "" {
		return problem.Invalid("code", "code is required").WithMsg("error.msg.required")
	}
	if in.Name == "" {
		return problem.Invalid("name", "name is required").WithMsg("error.msg.required")
	}
	var err error
	if in.Kind, err = checkEnum("kind", in.Kind, Kinds, ""); err != nil {
		return err
	}
	if in.Zone, err = checkEnum("zone", in.Zone, Zones, ""); err != nil {
		return err
	}
	if in.Lifecycle, err = checkEnum("lifecycle", in.Lifecycle, Lifecycles, LifecycleInService); err != nil {
		return err
	}
	if in.MLPSLevel < 0 || in.MLPSLevel > 4 {
		return problem.Invalid("mlps_level", "MLPS level must be 1 to 4 (or 0 when not graded)").WithMsg("asset.error.msg.mlps_level")
	}
	if in.IP, err = normIP(in.IP); err != nil {
		return err
	}
	if in.MAC, err = normMAC(in.MAC); err != nil {
		return err
	}
	dates := []struct {
		field string
		v     *string
	}{{"procured_on", &in.ProcuredOn}, {"in_service_on", &in.InServiceOn}, {"retired_on", &in.RetiredOn}}
	for _, d := range dates {
		if *d.v, err = NormDate(d.field, *d.v); err != nil {
			return err
		}
	}
	// Dates in canonical form compare correctly as text.
	if in.ProcuredOn != "" && in.InServiceOn != "" && in.InServiceOn < in.ProcuredOn {
		return problem.Invalid("in_service_on", "the in-service date is before the procurement date").WithMsg("asset.error.msg.in_service_before_procured")
	}
	if in.RetiredOn != "" {
		if in.InServiceOn != "" && in.RetiredOn < in.InServiceOn {
			return problem.Invalid("retired_on", "the retirement date is before the in-service date").WithMsg("asset.error.msg.retired_before_in_service")
		}
		if in.ProcuredOn != "" && in.RetiredOn < in.ProcuredOn {
			return problem.Invalid("retired_on", "the retirement date is before the procurement date").WithMsg("asset.error.msg.retired_before_procured")
		}
	}
	if in.Tags, err = normTags(in.Tags); err != nil {
		return err
	}
	return nil
}

// checkText rejects invalid UTF-8, control characters (line breaks and tabs are allowed
// in multi-line fields) and text longer than max bytes.
func checkText(field, v string, max int, multi bool) error {
	if len(v) > max {
		return problem.Invalid(field, "%s is longer than %d bytes", field, max).WithMsg("error.msg.too_long_bytes", max)
	}
	if !utf8.ValidString(v) {
		return problem.Invalid(field, "%s is not valid UTF-8 text", field).WithMsg("error.msg.not_utf8")
	}
	for _, r := range v {
		if r == utf8.RuneError || (unicode.IsControl(r) && !(multi && (r == '\n' || r == '\r' || r == '\t'))) {
			return problem.Invalid(field, "%s contains a control or invalid character", field).WithMsg("error.msg.control_char")
		}
	}
	return nil
}

func checkEnum(field, v string, allowed []string, def string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" && def != "" {
		return def, nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	if v == "" {
		return "", problem.Invalid(field, "%s is required", field).WithMsg("error.msg.required")
	}
	return "", problem.Invalid(field, "%s must be one of %s", field, strings.Join(allowed, ", ")).WithMsg("error.msg.one_of", strings.Join(allowed, ", "))
}

func normIP(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if len(v) > 64 {
		return "", problem.Invalid("ip", "IP address is too long").WithMsg("error.msg.too_long_bytes", 64)
	}
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return "", problem.Invalid("ip", "IP address is not valid").WithMsg("asset.error.msg.ip")
	}
	return addr.String(), nil
}

// normMAC accepts aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff and aabbccddeeff
// and returns the lowercase colon form.
func normMAC(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	bad := problem.Invalid("mac", "MAC address must look like aa:bb:cc:dd:ee:ff").WithMsg("asset.error.msg.mac")
	if len(v) > 32 {
		return "", bad
	}
	if len(v) == 12 {
		var b strings.Builder
		for i := 0; i < 12; i += 2 {
			if i > 0 {
				b.WriteByte(':')
			}
			b.WriteString(v[i : i+2])
		}
		v = b.String()
	}
	hw, err := net.ParseMAC(v)
	if err != nil || len(hw) != 6 {
		return "", bad
	}
	return hw.String(), nil
}

// dateLayouts are the accepted input forms; "1" and "2" also accept two digits.
var dateLayouts = []string{"2006-1-2", "2006/1/2", "2006.1.2"}

// NormDate parses v as a date (2024-03-05, 2024/3/5 or 2024.3.5) and returns it as
// YYYY-MM-DD; "" stays "". field names the input in the problem it returns.
func NormDate(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if len(v) <= 10 {
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, v); err == nil {
				if t.Year() < 1900 || t.Year() > 2200 {
					break
				}
				return t.Format(DateLayout), nil
			}
		}
	}
	return "", problem.Invalid(field, "%s must be a date like 2024-03-05", field).WithMsg("asset.error.msg.date")
}

func normTags(tags []string) ([]string, error) {
	seen := make(map[string]bool, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if err := checkText("tags", t, MaxTag, false); err != nil {
			return nil, err
		}
		if strings.ContainsAny(t, ";,") {
			return nil, problem.Invalid("tags", "a tag cannot contain ';' or ','").WithMsg("asset.error.msg.tag_separator")
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, problem.Invalid("tags", "at most %d tags are allowed", MaxTags).WithMsg("asset.error.msg.too_many_tags", MaxTags)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// SplitTags splits a tag list written as text ("a; b, c" or "a；b，c").
func SplitTags(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '；' || r == '，' || r == '、' })
	out := f[:0]
	for _, t := range f {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// encodeTags stores tags as ";a;b;" so that one tag is matched exactly by a LIKE on
// ";tag;" and the column stays searchable as text.
func encodeTags(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return ";" + strings.Join(tags, ";") + ";"
}

func decodeTags(s string) []string {
	s = strings.Trim(s, ";")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ";")
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
