package apk

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shogo82148/androidbinary"
)

// Flag is a boolean manifest attribute as declared: "true", "false", "unset" (absent:
// Android's default applies) or "unknown" (a resource reference that could not be
// resolved).
type Flag string

// The values of a Flag.
const (
	FlagTrue    Flag = "true"
	FlagFalse   Flag = "false"
	FlagUnset   Flag = "unset"
	FlagUnknown Flag = "unknown"
)

// Manifest is what inspection reads of AndroidManifest.xml.
type Manifest struct {
	// Error says why the manifest could not be read; the other fields are then empty.
	Error       string `json:"error,omitempty"`
	Package     string `json:"package"`
	VersionCode int64  `json:"version_code"`
	VersionName string `json:"version_name"`
	// MinSDK is android:minSdkVersion (1 when absent, as Android defaults it).
	MinSDK int `json:"min_sdk"`
	// TargetSDK is android:targetSdkVersion (MinSDK when absent).
	TargetSDK int `json:"target_sdk"`
	// TargetSandboxVersion is android:targetSandboxVersion (1 when absent).
	TargetSandboxVersion int  `json:"target_sandbox_version"`
	Debuggable           Flag `json:"debuggable"`
	// DebuggableRef is the resource reference android:debuggable holds, if it is one
	// (Debuggable is then its value in the default configuration).
	DebuggableRef         string `json:"debuggable_ref,omitempty"`
	TestOnly              Flag   `json:"test_only"`
	AllowBackup           Flag   `json:"allow_backup"`
	UsesCleartextTraffic  Flag   `json:"uses_cleartext_traffic"`
	NetworkSecurityConfig bool   `json:"network_security_config"`
	ApplicationPermission string `json:"application_permission,omitempty"`
	// Permissions are the uses-permission (and uses-permission-sdk-23) names.
	Permissions []string    `json:"permissions"`
	Components  []Component `json:"components"`
}

// Component is an activity, activity-alias, service, receiver or provider.
type Component struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Exported: other apps can start or bind it.
	Exported bool `json:"exported"`
	// ExportedBy says why: "explicit", "intent-filter" (implied by an intent filter when
	// android:exported is absent, targetSdk < 31) or "default" (a provider of
	// targetSdk ≤ 16).
	ExportedBy string `json:"exported_by,omitempty"`
	// Permission is what a caller must hold (android:permission, or for a provider its
	// read and write permissions when both are set).
	Permission string `json:"permission,omitempty"`
	// Launcher: the app's launcher activity (MAIN/LAUNCHER), exported by necessity.
	Launcher bool `json:"launcher,omitempty"`
}

// The binary XML decoded by androidbinary into plain strings, resolved here.
type xmlIntentFilter struct {
	Actions    []xmlName `xml:"action"`
	Categories []xmlName `xml:"category"`
}

type xmlName struct {
	Name string `xml:"http://schemas.android.com/apk/res/android name,attr"`
}

type xmlComponent struct {
	Name            string            `xml:"http://schemas.android.com/apk/res/android name,attr"`
	Exported        string            `xml:"http://schemas.android.com/apk/res/android exported,attr"`
	Permission      string            `xml:"http://schemas.android.com/apk/res/android permission,attr"`
	ReadPermission  string            `xml:"http://schemas.android.com/apk/res/android readPermission,attr"`
	WritePermission string            `xml:"http://schemas.android.com/apk/res/android writePermission,attr"`
	IntentFilters   []xmlIntentFilter `xml:"intent-filter"`
}

type xmlManifest struct {
	Package          string `xml:"package,attr"`
	VersionCode      string `xml:"http://schemas.android.com/apk/res/android versionCode,attr"`
	VersionCodeMajor string `xml:"http://schemas.android.com/apk/res/android versionCodeMajor,attr"`
	VersionName      string `xml:"http://schemas.android.com/apk/res/android versionName,attr"`
	SandboxVersion   string `xml:"http://schemas.android.com/apk/res/android targetSandboxVersion,attr"`
	UsesSDK          struct {
		Min    string `xml:"http://schemas.android.com/apk/res/android minSdkVersion,attr"`
		Target string `xml:"http://schemas.android.com/apk/res/android targetSdkVersion,attr"`
	} `xml:"uses-sdk"`
	Permissions      []xmlName `xml:"uses-permission"`
	PermissionsSdk23 []xmlName `xml:"uses-permission-sdk-23"`
	App              struct {
		Debuggable            string         `xml:"http://schemas.android.com/apk/res/android debuggable,attr"`
		TestOnly              string         `xml:"http://schemas.android.com/apk/res/android testOnly,attr"`
		AllowBackup           string         `xml:"http://schemas.android.com/apk/res/android allowBackup,attr"`
		UsesCleartextTraffic  string         `xml:"http://schemas.android.com/apk/res/android usesCleartextTraffic,attr"`
		NetworkSecurityConfig string         `xml:"http://schemas.android.com/apk/res/android networkSecurityConfig,attr"`
		Permission            string         `xml:"http://schemas.android.com/apk/res/android permission,attr"`
		Activities            []xmlComponent `xml:"activity"`
		Aliases               []xmlComponent `xml:"activity-alias"`
		Services              []xmlComponent `xml:"service"`
		Receivers             []xmlComponent `xml:"receiver"`
		Providers             []xmlComponent `xml:"provider"`
	} `xml:"application"`
}

// MaxManifestSize bounds AndroidManifest.xml and resources.arsc: inspection reads them
// whole.
const MaxManifestSize = 16 << 20

// readManifest reads AndroidManifest.xml and, to resolve references, resources.arsc.
func readManifest(a *archive) Manifest {
	raw, err := a.read("AndroidManifest.xml")
	if err != nil {
		return Manifest{Error: err.Error(), Permissions: []string{}, Components: []Component{}}
	}
	var table *androidbinary.TableFile
	if f, ok := a.files["resources.arsc"]; ok && f.UncompressedSize64 <= MaxManifestSize {
		if arsc, err := readEntry(f); err == nil {
			table, _ = parseTable(arsc) // unresolved references are reported as unknown
		}
	}
	m, err := parseManifest(raw, table)
	if err != nil {
		return Manifest{Error: err.Error(), Permissions: []string{}, Components: []Component{}}
	}
	return *m
}

// parseTable parses resources.arsc with androidbinary, turning its panics on malformed
// input into errors.
func parseTable(b []byte) (t *androidbinary.TableFile, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("resources.arsc is malformed: %v", r)
		}
	}()
	if err := checkTable(b); err != nil {
		return nil, fmt.Errorf("resources.arsc: %w", err)
	}
	return androidbinary.NewTableFile(bytes.NewReader(b))
}

// ParseManifest parses a binary AndroidManifest.xml (Android's compiled XML) on its own:
// attributes that are resource references (@0x7f…) are reported as unknown (Inspect
// resolves them with the APK's resources.arsc). Malformed input is an error, never a
// panic.
func ParseManifest(raw []byte) (*Manifest, error) { return parseManifest(raw, nil) }

func parseManifest(raw []byte, table *androidbinary.TableFile) (m *Manifest, err error) {
	if len(raw) > MaxManifestSize {
		return nil, fmt.Errorf("AndroidManifest.xml: %d bytes is more than the %d read", len(raw), MaxManifestSize)
	}
	if err := checkBinaryXML(raw); err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("AndroidManifest.xml is malformed: %v", r)
		}
	}()
	x, err := androidbinary.NewXMLFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %v", err)
	}
	var xm xmlManifest
	if err := x.Decode(&xm, nil, nil); err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %v", err)
	}
	return xm.resolve(table), nil
}

func (xm *xmlManifest) resolve(table *androidbinary.TableFile) *Manifest {
	m := &Manifest{
		Package:               resolveString(xm.Package, table),
		VersionName:           resolveString(xm.VersionName, table),
		Debuggable:            resolveFlag(xm.App.Debuggable, table),
		TestOnly:              resolveFlag(xm.App.TestOnly, table),
		AllowBackup:           resolveFlag(xm.App.AllowBackup, table),
		UsesCleartextTraffic:  resolveFlag(xm.App.UsesCleartextTraffic, table),
		NetworkSecurityConfig: xm.App.NetworkSecurityConfig != "",
		DebuggableRef:         refOf(xm.App.Debuggable),
		ApplicationPermission: resolveString(xm.App.Permission, table),
		Permissions:           []string{},
		Components:            []Component{},
	}
	code, _ := resolveInt(xm.VersionCode, table)
	major, _ := resolveInt(xm.VersionCodeMajor, table)
	m.VersionCode = int64(uint32(major))<<32 | int64(uint32(code))
	m.MinSDK = sdkLevel(xm.UsesSDK.Min, table, 1)
	m.TargetSDK = sdkLevel(xm.UsesSDK.Target, table, m.MinSDK)
	m.TargetSandboxVersion = 1
	if n, ok := resolveInt(xm.SandboxVersion, table); ok {
		m.TargetSandboxVersion = int(n)
	}
	for _, p := range append(xm.Permissions, xm.PermissionsSdk23...) {
		if n := resolveString(p.Name, table); n != "" && !slices.Contains(m.Permissions, n) {
			m.Permissions = append(m.Permissions, n)
		}
	}
	for _, group := range []struct {
		kind string
		list []xmlComponent
	}{{"activity", xm.App.Activities}, {"activity-alias", xm.App.Aliases}, {"service", xm.App.Services},
		{"receiver", xm.App.Receivers}, {"provider", xm.App.Providers}} {
		for _, c := range group.list {
			m.Components = append(m.Components, component(group.kind, c, m, table))
		}
	}
	return m
}

func component(kind string, c xmlComponent, m *Manifest, table *androidbinary.TableFile) Component {
	out := Component{Kind: kind, Name: qualify(resolveString(c.Name, table), m.Package)}
	switch resolveFlag(c.Exported, table) {
	case FlagTrue:
		out.Exported, out.ExportedBy = true, "explicit"
	case FlagFalse:
		out.ExportedBy = "explicit"
	case FlagUnknown:
		// An unresolvable value: assume exported, the safe side for a finding.
		out.Exported, out.ExportedBy = true, "unknown"
	default:
		switch {
		case len(c.IntentFilters) > 0 && kind != "provider":
			// From targetSdk 31 Android refuses to install such an app; before, an intent
			// filter exports the component.
			out.Exported, out.ExportedBy = true, "intent-filter"
		case kind == "provider" && (m.MinSDK <= 16 || m.TargetSDK <= 16):
			out.Exported, out.ExportedBy = true, "default"
		}
	}
	perm := resolveString(c.Permission, table)
	if kind == "provider" {
		r, w := resolveString(c.ReadPermission, table), resolveString(c.WritePermission, table)
		if perm == "" && r != "" && w != "" {
			perm = r + " / " + w
		}
	}
	if perm == "" && kind != "provider" && kind != "receiver" {
		// android:permission of <application> covers activities and services.
		perm = m.ApplicationPermission
	}
	out.Permission = perm
	for _, f := range c.IntentFilters {
		main, launcher := false, false
		for _, a := range f.Actions {
			main = main || resolveString(a.Name, table) == "android.intent.action.MAIN"
		}
		for _, cat := range f.Categories {
			launcher = launcher || resolveString(cat.Name, table) == "android.intent.category.LAUNCHER"
		}
		if main && launcher && (kind == "activity" || kind == "activity-alias") {
			out.Launcher = true
		}
	}
	return out
}

// qualify expands a component name relative to the package (".Main" → "pkg.Main").
func qualify(name, pkg string) string {
	if strings.HasPrefix(name, ".") {
		return pkg + name
	}
	if name != "" && !strings.Contains(name, ".") && pkg != "" {
		return pkg + "." + name
	}
	return name
}

// resolve returns the value of a resource reference, or v itself.
func resolve(v string, table *androidbinary.TableFile) (any, bool) {
	if !androidbinary.IsResID(v) {
		return v, true
	}
	if table == nil {
		return nil, false
	}
	id, err := androidbinary.ParseResID(v)
	if err != nil {
		return nil, false
	}
	val, err := getResource(table, id)
	if err != nil || val == nil {
		return nil, false
	}
	return val, true
}

func getResource(table *androidbinary.TableFile, id androidbinary.ResID) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("resources.arsc: %v", r)
		}
	}()
	return table.GetResource(id, nil)
}

func resolveFlag(v string, table *androidbinary.TableFile) Flag {
	if v == "" {
		return FlagUnset
	}
	val, ok := resolve(v, table)
	if !ok {
		return FlagUnknown
	}
	switch x := val.(type) {
	case bool:
		return flagOf(x)
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return flagOf(b)
		}
	case uint32:
		return flagOf(x != 0)
	}
	return FlagUnknown
}

func flagOf(b bool) Flag {
	if b {
		return FlagTrue
	}
	return FlagFalse
}

func resolveString(v string, table *androidbinary.TableFile) string {
	val, ok := resolve(v, table)
	if !ok {
		return v // the reference itself, better than nothing
	}
	if s, ok := val.(string); ok {
		return s
	}
	return fmt.Sprint(val)
}

func resolveInt(v string, table *androidbinary.TableFile) (int64, bool) {
	if v == "" {
		return 0, false
	}
	val, ok := resolve(v, table)
	if !ok {
		return 0, false
	}
	switch x := val.(type) {
	case uint32:
		return int64(x), true
	case string:
		if n, err := strconv.ParseInt(strings.TrimPrefix(x, "0x"), base(x), 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

func base(s string) int {
	if strings.HasPrefix(s, "0x") {
		return 16
	}
	return 10
}

// sdkLevel reads an SDK version: a number, or a preview codename ("Tiramisu"), which
// Android treats as the development version 10000.
func sdkLevel(v string, table *androidbinary.TableFile, def int) int {
	if v == "" {
		return def
	}
	if n, ok := resolveInt(v, table); ok {
		return int(n)
	}
	return 10000
}

func refOf(v string) string {
	if androidbinary.IsResID(v) {
		return v
	}
	return ""
}
