package apk

import (
	"fmt"
	"slices"
	"strings"
)

// Finding is one risk inspection found in an APK.
type Finding struct {
	ID string `json:"id"`
	// Severity is critical, high, medium, low or info.
	Severity string `json:"severity"`
	Title    string `json:"title"`
	TitleZH  string `json:"title_zh"`
	// MessageKey is the i18n key of the title ("apk.finding." + ID).
	MessageKey string `json:"message_key"`
	// Evidence is what in the APK shows it (English, never translated).
	Evidence string `json:"evidence"`
}

// Severities, most severe first.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// MinSDKFloor is the lowest minSdk accepted without a finding: Android 7.0 (API 24) is the
// first to verify APK Signature Scheme v2 and, for apps targeting it, to distrust
// user-installed CAs by default; older devices get no security updates.
const MinSDKFloor = 24

// rule is a kind of finding.
type rule struct {
	severity string
	en, zh   string
}

// rules are the findings inspection raises, by id.
var rules = map[string]rule{
	"unsigned":               {SeverityCritical, "APK is not signed", "APK 未签名"},
	"signature-not-verified": {SeverityCritical, "APK signature does not verify", "APK 签名校验未通过"},
	"v1-only-signature":      {SeverityHigh, "Signed with the v1 (JAR) scheme only", "仅使用 v1（JAR）签名方案"},
	"debug-certificate":      {SeverityHigh, "Signed with an Android debug certificate", "使用 Android 调试证书签名"},
	"weak-signature-md5":     {SeverityHigh, "APK signature uses MD5", "APK 签名使用 MD5 算法"},
	"weak-signature-sha1":    {SeverityMedium, "APK signature uses SHA-1", "APK 签名使用 SHA-1 算法"},
	"weak-key":               {SeverityMedium, "Signing key shorter than 2048 bits", "签名密钥长度不足 2048 位"},
	"manifest-unreadable":    {SeverityHigh, "AndroidManifest.xml cannot be read", "无法解析 AndroidManifest.xml"},
	"debuggable":             {SeverityHigh, "Application is debuggable", "应用可被调试（debuggable）"},
	"debuggable-unknown":     {SeverityLow, "Whether the application is debuggable cannot be resolved", "无法确定应用是否可调试"},
	"debuggable-reference":   {SeverityInfo, "android:debuggable is a resource reference", "android:debuggable 引用资源值"},
	"test-only":              {SeverityHigh, "Application is a test-only build", "应用为仅测试（testOnly）版本"},
	"allow-backup":           {SeverityMedium, "Application data can be backed up (allowBackup)", "应用数据可被备份（allowBackup）"},
	"cleartext-traffic":      {SeverityMedium, "Cleartext (HTTP) traffic is allowed", "允许明文（HTTP）传输"},
	"exported-component":     {SeverityMedium, "Exported component without a permission", "导出组件未设置访问权限"},
	"dangerous-permission":   {SeverityHigh, "Permission beyond what an online-consultation app needs", "申请了超出在线问诊所需的权限"},
	"min-sdk-too-old":        {SeverityMedium, "Minimum Android version too old", "最低支持的 Android 版本过低"},
}

// flaggedPermissions are the permissions an internet-hospital (online consultation) app
// has no need of, with why each is flagged. What such an app does need is not flagged:
// CAMERA and RECORD_AUDIO (video consultation), READ_MEDIA_IMAGES/VIDEO and
// READ_EXTERNAL_STORAGE (uploading reports), POST_NOTIFICATIONS, ACCESS_COARSE/
// FINE_LOCATION in the foreground (nearby pharmacies and hospitals), BLUETOOTH_CONNECT
// (home medical devices), INTERNET and the like.
var flaggedPermissions = map[string]string{
	"android.permission.READ_SMS":                    "reads text messages",
	"android.permission.SEND_SMS":                    "sends text messages",
	"android.permission.RECEIVE_SMS":                 "intercepts incoming text messages",
	"android.permission.RECEIVE_MMS":                 "intercepts incoming MMS",
	"android.permission.RECEIVE_WAP_PUSH":            "intercepts WAP push messages",
	"android.permission.READ_CALL_LOG":               "reads the call log",
	"android.permission.WRITE_CALL_LOG":              "changes the call log",
	"android.permission.PROCESS_OUTGOING_CALLS":      "sees and redirects outgoing calls",
	"android.permission.ANSWER_PHONE_CALLS":          "answers calls",
	"android.permission.READ_CONTACTS":               "reads the address book",
	"android.permission.WRITE_CONTACTS":              "changes the address book",
	"android.permission.GET_ACCOUNTS":                "lists the accounts on the device",
	"android.permission.READ_PHONE_NUMBERS":          "reads the phone numbers of the device",
	"android.permission.READ_PHONE_STATE":            "reads device identifiers (IMEI) and call state",
	"android.permission.READ_PRIVILEGED_PHONE_STATE": "reads privileged device identifiers",
	"android.permission.READ_CALENDAR":               "reads the calendar",
	"android.permission.WRITE_CALENDAR":              "changes the calendar",
	"android.permission.ACCESS_BACKGROUND_LOCATION":  "tracks location in the background",
	"android.permission.SYSTEM_ALERT_WINDOW":         "draws over other apps (overlay attacks)",
	"android.permission.REQUEST_INSTALL_PACKAGES":    "installs other APKs",
	"android.permission.INSTALL_PACKAGES":            "installs other APKs silently",
	"android.permission.MANAGE_EXTERNAL_STORAGE":     "reads and writes all files",
	"android.permission.BIND_ACCESSIBILITY_SERVICE":  "an accessibility service reads and drives other apps",
	"android.permission.BIND_DEVICE_ADMIN":           "device administration",
	"android.permission.QUERY_ALL_PACKAGES":          "lists all installed apps",
	"android.permission.PACKAGE_USAGE_STATS":         "reads which apps are used",
	"android.permission.WRITE_SETTINGS":              "changes system settings",
}

// findings raises the findings of a report, most severe first.
func findings(rep *Report) []Finding {
	var out []Finding
	add := func(id, evidence string) {
		r := rules[id]
		out = append(out, Finding{ID: id, Severity: r.severity, Title: r.en, TitleZH: r.zh,
			MessageKey: "apk.finding." + id, Evidence: evidence})
	}
	sig, m := rep.Signature, rep.Manifest

	// Signatures.
	switch {
	case len(sig.Present) == 0 && !sig.Verified && onlyUnsigned(sig.Failures):
		add("unsigned", "no APK Signing Block and no META-INF signature files")
	case !sig.Verified:
		var reasons []string
		for _, f := range sig.Failures {
			reasons = append(reasons, f.Scheme+": "+f.Reason)
		}
		add("signature-not-verified", strings.Join(reasons, "; "))
	}
	if sig.Verified && slices.Equal(sig.Schemes, []string{SchemeV1}) {
		add("v1-only-signature", "only a JAR signature protects the APK: it does not cover the ZIP metadata (Janus, CVE-2017-13156, on Android 5.0–8.0)")
	}
	for _, s := range sig.Signers {
		if s.cert != nil && strings.EqualFold(strings.TrimSpace(s.cert.Subject.CommonName), "Android Debug") {
			add("debug-certificate", fmt.Sprintf("signer %s: subject %s", s.SHA256, s.Subject))
		}
		// The APK signature's algorithm matters; Android does not check the certificate's
		// own signature (self-signed SHA-1 certificates are common and harmless).
		algs := strings.Join(s.SchemeAlgorithms, ", ")
		switch {
		case strings.Contains(strings.ToUpper(algs), "MD5"):
			add("weak-signature-md5", fmt.Sprintf("signer %s: %s", s.SHA256, algs))
		case strings.Contains(strings.ToUpper(algs), "SHA1"):
			add("weak-signature-sha1", fmt.Sprintf("signer %s: %s", s.SHA256, algs))
		}
		if (s.KeyAlgorithm == "RSA" || s.KeyAlgorithm == "DSA") && s.KeySize < 2048 {
			add("weak-key", fmt.Sprintf("signer %s: %s %d bits", s.SHA256, s.KeyAlgorithm, s.KeySize))
		}
	}

	// Manifest.
	if m.Error != "" {
		add("manifest-unreadable", m.Error)
	} else {
		switch m.Debuggable {
		case FlagTrue:
			add("debuggable", `android:debuggable="true"`)
		case FlagUnknown:
			add("debuggable-unknown", "android:debuggable is a resource reference that resources.arsc does not resolve")
		}
		if m.DebuggableRef != "" && m.Debuggable == FlagFalse {
			add("debuggable-reference", fmt.Sprintf("android:debuggable=%q resolves to false in the default configuration; other resource configurations may differ", m.DebuggableRef))
		}
		if m.TestOnly == FlagTrue {
			add("test-only", `android:testOnly="true"`)
		}
		switch m.AllowBackup {
		case FlagTrue:
			add("allow-backup", `android:allowBackup="true"`)
		case FlagUnset:
			add("allow-backup", "android:allowBackup is not set: Android defaults it to true")
		}
		switch {
		case m.UsesCleartextTraffic == FlagTrue:
			add("cleartext-traffic", `android:usesCleartextTraffic="true"`)
		case m.UsesCleartextTraffic == FlagUnset && !m.NetworkSecurityConfig && m.TargetSDK < 28:
			add("cleartext-traffic", fmt.Sprintf("targetSdk %d < 28 without a network security config: cleartext is allowed by default", m.TargetSDK))
		}
		for _, c := range m.Components {
			if c.Exported && c.Permission == "" && !c.Launcher {
				add("exported-component", fmt.Sprintf("%s %s exported (%s) without a permission", c.Kind, c.Name, c.ExportedBy))
			}
		}
		for _, p := range m.Permissions {
			if why, ok := flaggedPermissions[p]; ok {
				add("dangerous-permission", p+": "+why)
			}
		}
		if m.MinSDK < MinSDKFloor {
			add("min-sdk-too-old", fmt.Sprintf("minSdkVersion %d < %d (Android 7.0)", m.MinSDK, MinSDKFloor))
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return severityRank(a.Severity) - severityRank(b.Severity) })
	if out == nil {
		out = []Finding{}
	}
	return out
}

func onlyUnsigned(fs []SchemeFailure) bool {
	return len(fs) == 1 && fs[0].Scheme == "apk" && strings.Contains(fs[0].Reason, "not signed")
}

func severityRank(s string) int {
	switch s {
	case SeverityCritical:
		return 0
	case SeverityHigh:
		return 1
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 3
	}
	return 4
}
