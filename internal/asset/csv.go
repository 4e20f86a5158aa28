package asset

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/textenc"
)

// Limits on an imported file.
const (
	MaxImportRows  = 200_000   // data rows
	MaxFieldBytes  = 1 << 20   // bytes in one field
	MaxImportBytes = 256 << 20 // bytes in the whole file
)

// The CSV columns, in export order. Import accepts them in any order, by name, by the
// label the UI shows for the field in any language, or by an alias (see headerAliases).
const (
	colCode = iota
	colName
	colKind
	colSubtype
	colOrg
	colOwner
	colLocation
	colZone
	colMLPS
	colIP
	colMAC
	colVendor
	colModel
	colSerial
	colLifecycle
	colProcuredOn
	colInServiceOn
	colRetiredOn
	colTags
	colNotes
	numColumns
)

// Columns lists the CSV column names, in the order Export writes them.
var Columns = []string{"code", "name", "kind", "subtype", "org", "owner", "location", "zone", "mlps_level", "ip",
	"mac", "vendor", "model", "serial", "lifecycle", "procured_on", "in_service_on", "retired_on", "tags", "notes"}

// requiredColumns must be in every imported file.
var requiredColumns = []int{colCode, colName, colKind, colZone}

// headerAliases are spellings of headers found in hospitals' own spreadsheets, besides the
// column names and the UI's labels (see headerIndex).
var headerAliases = map[string]int{
	"资产编号": colCode, "编号": colCode, "资产编码": colCode, "编码": colCode, "asset_code": colCode,
	"名称": colName, "资产名称": colName, "asset_name": colName,
	"类型": colKind, "资产类型": colKind, "类别": colKind, "type": colKind,
	"子类型": colSubtype, "子类": colSubtype, "细分类型": colSubtype,
	"所属机构/部门": colOrg, "所属机构": colOrg, "所属部门": colOrg, "机构": colOrg, "部门": colOrg, "科室": colOrg,
	"所属科室": colOrg, "organisation": colOrg, "organization": colOrg, "department": colOrg,
	"责任人": colOwner, "负责人": colOwner, "管理员": colOwner, "使用人": colOwner,
	"位置": colLocation, "存放位置": colLocation, "安装位置": colLocation, "地点": colLocation, "物理位置": colLocation,
	"网络区域": colZone, "区域": colZone, "网络": colZone, "network_zone": colZone,
	"等保级别": colMLPS, "等保等级": colMLPS, "等级保护级别": colMLPS, "mlps": colMLPS, "mlps_level": colMLPS,
	"ip地址": colIP, "ip_address": colIP,
	"mac地址": colMAC, "mac_address": colMAC, "物理地址": colMAC,
	"厂商": colVendor, "供应商": colVendor, "生产厂商": colVendor, "品牌": colVendor,
	"型号": colModel, "规格型号": colModel,
	"序列号": colSerial, "sn": colSerial, "serial_number": colSerial,
	"生命周期": colLifecycle, "状态": colLifecycle, "生命周期状态": colLifecycle, "status": colLifecycle,
	"采购日期": colProcuredOn, "购置日期": colProcuredOn,
	"启用日期": colInServiceOn, "上线日期": colInServiceOn, "投用日期": colInServiceOn,
	"退役日期": colRetiredOn, "报废日期": colRetiredOn, "下线日期": colRetiredOn,
	"标签": colTags, "tag": colTags,
	"备注": colNotes, "说明": colNotes, "note": colNotes,
}

// enumAliases maps the Chinese (and a few English) spellings of each enum value.
var (
	kindAliases = map[string]string{
		"服务器": KindServer, "主机": KindServer, "虚拟机": KindServer,
		"工作站": KindWorkstation, "终端": KindWorkstation, "电脑": KindWorkstation, "办公电脑": KindWorkstation, "pc": KindWorkstation,
		"网络设备": KindNetwork, "网络": KindNetwork, "安全设备": KindNetwork, "network_device": KindNetwork,
		"医疗设备": KindMedicalDevice, "医疗器械": KindMedicalDevice, "medical": KindMedicalDevice,
		"业务系统": KindBusinessSystem, "信息系统": KindBusinessSystem, "应用系统": KindBusinessSystem, "system": KindBusinessSystem,
		"互联网应用": KindInternetApp, "互联网": KindInternetApp, "internet_application": KindInternetApp, "app": KindInternetApp,
		"软件": KindSoftware, "软件产品": KindSoftware, "software_product": KindSoftware,
	}
	zoneAliases = map[string]string{
		"内网": ZoneInternal, "办公网": ZoneInternal, "业务内网": ZoneInternal,
		"外网": ZoneExternal, "互联网": ZoneExternal, "internet": ZoneExternal,
		"隔离区": ZoneDMZ, "非军事区": ZoneDMZ,
		"医疗设备网": ZoneMedical, "医疗网": ZoneMedical, "设备网": ZoneMedical, "医疗设备网络": ZoneMedical, "medical_device": ZoneMedical,
	}
	lifecycleAliases = map[string]string{
		"规划": LifecyclePlanned, "规划中": LifecyclePlanned, "计划": LifecyclePlanned,
		"已采购": LifecycleProcured, "采购": LifecycleProcured, "待上线": LifecycleProcured,
		"在用": LifecycleInService, "使用中": LifecycleInService, "运行": LifecycleInService, "运行中": LifecycleInService, "在线": LifecycleInService, "active": LifecycleInService,
		"维护": LifecycleMaintenance, "维护中": LifecycleMaintenance, "维修": LifecycleMaintenance, "维修中": LifecycleMaintenance,
		"已退役": LifecycleRetired, "退役": LifecycleRetired, "报废": LifecycleRetired, "已报废": LifecycleRetired, "下线": LifecycleRetired,
	}
)

// normEnum maps a CSV enum value to its stored spelling; unknown values are returned
// lowercased so that Validate names them in its problem.
func normEnum(v string, aliases map[string]string) string {
	k := enumKey(v)
	if s, ok := aliases[k]; ok {
		return s
	}
	return k
}

var chineseLevels = map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}

// ParseMLPS parses an MLPS level written as 3, 三级, 第三级, 等保三级, L3 or 三级等保; ""
// (or 无, 未定级) is 0.
func ParseMLPS(v string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	switch s {
	case "", "0", "无", "未定级", "none", "-":
		return 0, nil
	}
	s = strings.TrimPrefix(s, "等保")
	s = strings.TrimPrefix(s, "等级保护")
	s = strings.TrimSuffix(s, "等保")
	s = strings.TrimPrefix(s, "第")
	s = strings.TrimSuffix(s, "级")
	s = strings.TrimPrefix(s, "level")
	s = strings.TrimPrefix(s, "l")
	s = strings.TrimSpace(s)
	if n, ok := chineseLevels[s]; ok {
		return n, nil
	}
	return 0, problem.Invalid("mlps_level", "MLPS level must be 1 to 4 (e.g. 3 or 三级)").WithMsg("asset.error.msg.mlps_level_csv")
}

// ImportOptions controls Import.
type ImportOptions struct {
	DefaultOrgID int64 `json:"default_org_id"` // organisation of rows with an empty org column
	DryRun       bool  `json:"dry_run"`        // check everything, write nothing
	Update       bool  `json:"update"`         // update assets whose (org, code) exists instead of rejecting the row
	// Progress, when set, is called after each batch of rows has been written (but not
	// yet committed), with the number of valid rows handled so far.
	Progress func(written int) `json:"-"`
}

// RowError is one rejected row (or, on line 1, a problem with the header).
type RowError struct {
	Line    int    `json:"line"` // line of the file where the record starts (the header is line 1)
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"` // English
	// Msg says Message as a catalogue key with its arguments, so that the import page
	// shows it in the reader's language. Like Message, it never quotes the file.
	Msg *i18n.Message `json:"msg,omitempty"`
	// Positions are the 1-based positions in the header of the columns an
	// unknown_column error is about.
	Positions []int `json:"positions,omitempty"`
	// Columns are the names (see Columns) of the columns a missing_column or
	// duplicate_column error is about.
	Columns []string `json:"columns,omitempty"`
}

// ImportReport is the outcome of Import. Rows counts the data rows read (blank rows
// excluded); every row is either created, updated or rejected.
type ImportReport struct {
	Encoding string     `json:"encoding"`
	Rows     int        `json:"rows"`
	Created  int        `json:"created"`
	Updated  int        `json:"updated"`
	Rejected int        `json:"rejected"`
	Errors   []RowError `json:"errors"`
}

// importRow is a parsed, validated data row waiting to be written.
type importRow struct {
	line    int
	in      Input
	present uint32 // bit i set: column i is in the file
}

var errDryRun = errors.New("asset: dry run")

// Import reads a CSV file of assets (UTF-8 with or without BOM, UTF-16 with or without
// BOM, or GBK/GB18030) and creates (or, with opt.Update, updates) one asset per valid row in a's
// scope. Invalid rows are reported and skipped; the others are written, each with its
// trail entry, in a single transaction: an import whose writing fails or is interrupted
// leaves nothing behind, so the same file can be imported again. Problems with the
// header reject the whole file.
func (s *Service) Import(ctx context.Context, a actor.Actor, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rep := ImportReport{Errors: []RowError{}}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return rep, fmt.Errorf("asset: import: read: %w", err)
	}
	if len(data) > MaxImportBytes {
		return rep, problem.Invalid("file", "the file is larger than %d MiB", MaxImportBytes>>20).WithMsg("error.msg.file_too_large", MaxImportBytes>>20)
	}
	text, enc, err := decodeCSV(data)
	if err != nil {
		return rep, err
	}
	rep.Encoding = enc
	data = nil

	if opt.DefaultOrgID != 0 {
		if _, err := orgFor(ctx, s.db, a, opt.DefaultOrgID); err != nil {
			return rep, err
		}
	}
	orgs, err := s.loadOrgs(ctx, a)
	if err != nil {
		return rep, err
	}

	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = sniffComma(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = true

	cols, ok := readHeader(cr, &rep)
	if !ok {
		return rep, nil
	}
	rows, err := parseRows(cr, cols, orgs, opt, &rep)
	if err != nil {
		return rep, err
	}
	err = s.writeRows(ctx, a, rows, orgs, opt, &rep)
	sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].Line < rep.Errors[j].Line })
	if err == nil && !opt.DryRun && rep.Created+rep.Updated >= bulkAnalyze {
		s.optimize(ctx)
	}
	return rep, err
}

// decodeCSV detects the encoding of data (see package textenc) and returns it as UTF-8
// text without a byte-order mark.
func decodeCSV(data []byte) (string, string, error) {
	t, err := textenc.Decode(data)
	switch {
	case errors.Is(err, textenc.ErrBinary):
		return "", "", problem.Invalid("file", "the file is not text: save it as CSV").WithCode("not_text")
	case errors.Is(err, textenc.ErrOddUTF16):
		return "", "", problem.Invalid("file", "the file is not valid UTF-16 text").WithCode("bad_encoding")
	case errors.Is(err, textenc.ErrInvalidUTF8):
		return "", "", problem.Invalid("file", "the file is not valid UTF-8 text").WithCode("bad_encoding")
	case err != nil:
		return "", "", problem.Invalid("file", "the file is neither UTF-8 nor GBK text").WithCode("bad_encoding")
	}
	return string(t.Bytes), string(t.Encoding), nil
}

// sniffComma picks the delimiter used most in the first line: comma, semicolon or tab.
func sniffComma(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, n := ',', strings.Count(line, ",")
	for _, c := range []rune{';', '\t'} {
		if k := strings.Count(line, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

// readHeader maps the header's fields to columns (-1 for empty, ignored headers). It
// records header problems in rep and reports whether the file may be imported.
func readHeader(cr *csv.Reader, rep *ImportReport) ([]int, bool) {
	rec, err := cr.Read()
	if err == io.EOF {
		rep.Errors = append(rep.Errors, RowError{Line: 1, Code: "missing_header", Message: "the file is empty: a header row is required",
			Msg: msg("asset.import.msg.missing_header")})
		return nil, false
	}
	if err != nil {
		rep.Errors = append(rep.Errors, RowError{Line: errLine(err, 1), Code: "malformed", Message: "the header row is not valid CSV: " + csvMessage(err),
			Msg: msg("asset.import.msg.malformed_header", csvMessage(err))})
		return nil, false
	}
	line, _ := cr.FieldPos(0)
	cols := make([]int, len(rec))
	seen := make([]bool, numColumns)
	var unknown []int
	var dup []string
	for i, h := range rec {
		if strings.TrimSpace(h) == "" {
			cols[i] = -1
			continue
		}
		// Columns are named by position or by their accepted name, never by the header's
		// own text: a file whose first row is data would have it quoted back.
		c, ok := headerIndex[headerKey(h)]
		if !ok {
			unknown = append(unknown, i+1)
			continue
		}
		if seen[c] {
			dup = append(dup, Columns[c])
		}
		seen[c] = true
		cols[i] = c
	}
	if len(unknown) > 0 {
		pos := make([]string, len(unknown))
		for i, p := range unknown {
			pos[i] = strconv.Itoa(p)
		}
		rep.Errors = append(rep.Errors, RowError{Line: line, Code: "unknown_column", Positions: unknown,
			Message: "unknown column(s) at position " + strings.Join(pos, ", ") + "; accepted columns are " + strings.Join(Header(i18n.EN), ", ") +
				" (or " + strings.Join(Columns, ", ") + ")",
			Msg: msg("asset.import.msg.unknown_column", strings.Join(pos, ", "))})
	}
	if len(dup) > 0 {
		rep.Errors = append(rep.Errors, RowError{Line: line, Code: "duplicate_column", Columns: dup,
			Message: "column(s) given twice: " + strings.Join(dup, ", "), Msg: msg("asset.import.error.duplicate_column", strings.Join(dup, ", "))})
	}
	var missing []string
	for _, c := range requiredColumns {
		if !seen[c] {
			missing = append(missing, Columns[c])
		}
	}
	if len(missing) > 0 {
		rep.Errors = append(rep.Errors, RowError{Line: line, Field: missing[0], Code: "missing_column", Columns: missing,
			Message: "required column(s) missing: " + strings.Join(missing, ", "), Msg: msg("asset.import.error.missing_column", strings.Join(missing, ", "))})
	}
	return cols, len(rep.Errors) == 0
}

// quoteShort quotes a header for a message, cut to 40 characters and made valid UTF-8.
func quoteShort(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return strconv.Quote(s)
}

func errLine(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.StartLine
	}
	return def
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "unreadable record"
}

// parseRows reads, validates and de-duplicates every data row. Bad rows go to rep.
func parseRows(cr *csv.Reader, cols []int, orgs *orgIndex, opt ImportOptions, rep *ImportReport) ([]importRow, error) {
	var present uint32
	for _, c := range cols {
		if c >= 0 {
			present |= 1 << c
		}
	}
	var rows []importRow
	seen := map[string]int{} // org id + code → line of the first occurrence
	reject := func(line int, field, code, message string, m *i18n.Message) {
		rep.Rejected++
		rep.Errors = append(rep.Errors, RowError{Line: line, Field: field, Code: code, Message: message, Msg: m})
	}
	var vals [numColumns]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, fmt.Errorf("asset: import: read CSV: %w", err)
		}
		if err == nil && blank(rec) {
			continue
		}
		rep.Rows++
		if rep.Rows > MaxImportRows {
			return nil, problem.Invalid("file", "the file has more than %d rows; split it", MaxImportRows).WithMsg("asset.error.msg.too_many_rows", MaxImportRows)
		}
		if err != nil {
			reject(pe.StartLine, "", "malformed", "the row is not valid CSV: "+pe.Err.Error(), msg("asset.import.msg.malformed_row", pe.Err.Error()))
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			reject(line, "", "field_count", fmt.Sprintf("the row has %d fields but the header has %d", len(rec), len(cols)),
				msg("asset.import.msg.field_count", len(rec), len(cols)))
			continue
		}
		vals = [numColumns]string{}
		tooLong := ""
		for i, v := range rec {
			c := cols[i]
			if c < 0 {
				continue
			}
			if len(v) > MaxFieldBytes {
				tooLong = Columns[c]
				break
			}
			vals[c] = unescapeFormula(v)
		}
		if tooLong != "" {
			reject(line, tooLong, "too_long", tooLong+" is longer than 1 MiB", msg("asset.import.msg.too_long"))
			continue
		}
		in, bad := rowInput(vals, orgs, opt)
		if bad != nil {
			reject(line, bad.Field, bad.Code, bad.Message, bad.Msg)
			continue
		}
		key := strconv.FormatInt(in.OrgID, 10) + "\x00" + in.Code
		if first, dup := seen[key]; dup {
			reject(line, "code", "duplicate_in_file", fmt.Sprintf("the code is already used on line %d", first), msg("asset.import.msg.duplicate_in_file", first))
			continue
		}
		seen[key] = line
		rows = append(rows, importRow{line: line, in: in, present: present})
	}
	return rows, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// formulaRisk reports whether a spreadsheet could run cell v as a formula, looking past
// leading apostrophes so that escaping can be undone exactly.
func formulaRisk(v string) bool {
	v = strings.TrimLeft(v, "'")
	return v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0]))
}

// escapeFormula stops a spreadsheet from running a cell as a formula (CSV injection) by
// prefixing an apostrophe.
func escapeFormula(v string) string {
	if formulaRisk(v) {
		return "'" + v
	}
	return v
}

// unescapeFormula undoes escapeFormula (and the same protection typed by hand).
func unescapeFormula(v string) string {
	if len(v) >= 2 && v[0] == '\'' && formulaRisk(v[1:]) {
		return v[1:]
	}
	return v
}

// rowInput turns one row's values into a validated Input; bad (Field, Code, Message and
// Msg set) is nil on success.
func rowInput(v [numColumns]string, orgs *orgIndex, opt ImportOptions) (in Input, bad *RowError) {
	in = Input{
		Code: v[colCode], Name: v[colName], Kind: normEnum(v[colKind], kindAliases), Subtype: v[colSubtype],
		Owner: v[colOwner], Location: v[colLocation], Zone: normEnum(v[colZone], zoneAliases),
		IP: v[colIP], MAC: v[colMAC], Vendor: v[colVendor], Model: v[colModel], Serial: v[colSerial],
		Lifecycle: normEnum(v[colLifecycle], lifecycleAliases), ProcuredOn: v[colProcuredOn],
		InServiceOn: v[colInServiceOn], RetiredOn: v[colRetiredOn], Tags: SplitTags(v[colTags]), Notes: v[colNotes],
	}
	var err error
	if in.MLPSLevel, err = ParseMLPS(v[colMLPS]); err != nil {
		return in, problemRow("mlps_level", err)
	}
	if name := strings.TrimSpace(v[colOrg]); name != "" {
		o, bad := orgs.resolve(name)
		if bad != nil {
			return in, bad
		}
		in.OrgID = o.ID
	} else if opt.DefaultOrgID != 0 {
		in.OrgID = opt.DefaultOrgID
	} else {
		return in, &RowError{Field: "org", Code: "invalid", Message: "org is required (no default organisation was chosen)", Msg: msg("asset.import.msg.org_required")}
	}
	if err := in.Validate(); err != nil {
		return in, problemRow("", err)
	}
	return in, nil
}

// problemRow is the row error for err, a problem of field (its own field when it names one).
func problemRow(field string, err error) *RowError {
	p, ok := problem.As(err)
	if !ok {
		return &RowError{Field: field, Code: "invalid", Message: "the row is not valid", Msg: msg("asset.import.msg.row_invalid")}
	}
	if p.Field != "" {
		field = p.Field
	}
	return &RowError{Field: field, Code: p.Code, Message: p.Message, Msg: p.Msg}
}

// msg is a *i18n.Message for RowError.Msg.
func msg(key string, args ...any) *i18n.Message {
	m := i18n.M(key, args...)
	return &m
}

// orgIndex finds the organisations in the importer's scope by code or name.
type orgIndex struct {
	byID   map[int64]orgRef
	byCode map[string][]orgRef // lowercased code
	byName map[string][]orgRef
}

func (s *Service) loadOrgs(ctx context.Context, a actor.Actor) (*orgIndex, error) {
	cond, arg := a.SeesSQL("path")
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, name, code, path FROM orgs WHERE `+cond, arg)
	if err != nil {
		return nil, fmt.Errorf("asset: load organisations: %w", err)
	}
	defer rows.Close()
	ix := &orgIndex{byID: map[int64]orgRef{}, byCode: map[string][]orgRef{}, byName: map[string][]orgRef{}}
	for rows.Next() {
		var o orgRef
		if err := rows.Scan(&o.ID, &o.Kind, &o.Name, &o.Code, &o.Path); err != nil {
			return nil, fmt.Errorf("asset: load organisations: %w", err)
		}
		if !holdsAssets(o.Kind) {
			continue
		}
		ix.byID[o.ID] = o
		if c := strings.ToLower(strings.TrimSpace(o.Code)); c != "" {
			ix.byCode[c] = append(ix.byCode[c], o)
		}
		n := strings.TrimSpace(o.Name)
		ix.byName[n] = append(ix.byName[n], o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("asset: load organisations: %w", err)
	}
	return ix, nil
}

// resolve finds the organisation with code (case-insensitive) or name v.
func (ix *orgIndex) resolve(v string) (orgRef, *RowError) {
	for _, cands := range [][]orgRef{ix.byCode[strings.ToLower(v)], ix.byName[v]} {
		switch len(cands) {
		case 0:
			continue
		case 1:
			return cands[0], nil
		default:
			return orgRef{}, &RowError{Field: "org", Code: "ambiguous_org", Message: fmt.Sprintf("the name matches %d organisations; use a unique code", len(cands)),
				Msg: msg("asset.import.msg.ambiguous_org", len(cands))}
		}
	}
	return orgRef{}, &RowError{Field: "org", Code: "unknown_org", Message: "no hospital or department of that code or name in your organisation",
		Msg: msg("asset.import.msg.unknown_org")}
}

// exportName is the org column value Export writes: the code when it is unique, else the name.
func (ix *orgIndex) exportName(id int64) string {
	o := ix.byID[id]
	if c := strings.ToLower(strings.TrimSpace(o.Code)); c != "" && len(ix.byCode[c]) == 1 {
		return o.Code
	}
	return o.Name
}

// writeRows writes rows in one transaction, so that an import that fails or is
// interrupted (a crash, a kill, a lost connection) leaves none of the file behind and
// can simply be run again. Rows go to the database in batches of BatchSize inside that
// transaction; a dry run rolls it back.
func (s *Service) writeRows(ctx context.Context, a actor.Actor, rows []importRow, orgs *orgIndex, opt ImportOptions, rep *ImportReport) error {
	var created, updated int
	var rowErrs []RowError
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		created, updated, rowErrs = 0, 0, nil
		for start := 0; start < len(rows); start += BatchSize {
			batch := rows[start:min(start+BatchSize, len(rows))]
			items := make([]pending, len(batch))
			for i, r := range batch {
				items[i] = pending{orgs.byID[r.in.OrgID], r.in}
			}
			xs, err := s.insert(ctx, tx, a, items, "csv import")
			if err != nil {
				return err
			}
			for i, r := range batch {
				if xs[i].ID != 0 {
					created++
					continue
				}
				o := items[i].o
				if !opt.Update {
					rowErrs = append(rowErrs, RowError{Line: r.line, Field: "code", Code: "duplicate_code",
						Message: fmt.Sprintf("an asset with this code already exists in %s", quoteShort(o.Name)),
						Msg:     msg("asset.import.msg.duplicate_code")})
					continue
				}
				perr, err := s.importUpdate(ctx, tx, a, o, r)
				if err != nil {
					return err
				}
				if perr != nil {
					rowErrs = append(rowErrs, RowError{Line: r.line, Field: perr.Field, Code: perr.Code, Message: perr.Message, Msg: perr.Msg})
					continue
				}
				updated++
			}
			if opt.Progress != nil {
				opt.Progress(start + len(batch))
			}
		}
		if opt.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return err
	}
	rep.Created += created
	rep.Updated += updated
	rep.Rejected += len(rowErrs)
	rep.Errors = append(rep.Errors, rowErrs...)
	return nil
}

// importUpdate overwrites the existing asset with r's code in o with the columns present
// in the file. A problem with the row is returned as perr.
func (s *Service) importUpdate(ctx context.Context, tx *store.Tx, a actor.Actor, o orgRef, r importRow) (perr *problem.Error, err error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM assets WHERE org_id = ? AND code = ?`, o.ID, r.in.Code).Scan(&id); err != nil {
		return nil, fmt.Errorf("asset: import: find %q: %w", r.in.Code, err)
	}
	before, err := get(ctx, tx, a, id, lockSuffix(tx))
	if err != nil {
		return nil, err
	}
	in := merge(InputOf(before), r.in, r.present)
	in.Version = 0
	out := func(err error) (*problem.Error, error) {
		if p, ok := problem.As(err); ok {
			return p, nil
		}
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return out(err)
	}
	_, err = s.update(ctx, tx, a, "asset.update", before, o, in, "csv import")
	if err != nil {
		return out(err)
	}
	return nil, nil
}

// merge overlays the columns of src present in the file on dst.
func merge(dst, src Input, present uint32) Input {
	has := func(c int) bool { return present&(1<<c) != 0 }
	pairs := []struct {
		col      int
		dst, src *string
	}{
		{colName, &dst.Name, &src.Name}, {colKind, &dst.Kind, &src.Kind}, {colSubtype, &dst.Subtype, &src.Subtype},
		{colOwner, &dst.Owner, &src.Owner}, {colLocation, &dst.Location, &src.Location}, {colZone, &dst.Zone, &src.Zone},
		{colIP, &dst.IP, &src.IP}, {colMAC, &dst.MAC, &src.MAC}, {colVendor, &dst.Vendor, &src.Vendor},
		{colModel, &dst.Model, &src.Model}, {colSerial, &dst.Serial, &src.Serial},
		{colLifecycle, &dst.Lifecycle, &src.Lifecycle}, {colProcuredOn, &dst.ProcuredOn, &src.ProcuredOn},
		{colInServiceOn, &dst.InServiceOn, &src.InServiceOn}, {colRetiredOn, &dst.RetiredOn, &src.RetiredOn},
		{colNotes, &dst.Notes, &src.Notes},
	}
	for _, p := range pairs {
		if has(p.col) {
			*p.dst = *p.src
		}
	}
	if has(colMLPS) {
		dst.MLPSLevel = src.MLPSLevel
	}
	if has(colTags) {
		dst.Tags = src.Tags
	}
	return dst
}

// Export writes every asset in a's scope matching q (paging ignored) as CSV with the
// columns Import reads, UTF-8 with a byte-order mark so that Excel opens it correctly.
// With lang "" the header has the column names and kinds, zones, lifecycles and MLPS
// levels their stored codes; with a language of the catalogue, both are the labels the UI
// shows in that language (which Import reads back).
// Cells that a spreadsheet would run as a formula are prefixed with an apostrophe, which
// Import removes again.
func (s *Service) Export(ctx context.Context, a actor.Actor, w io.Writer, q Query, lang string) error {
	where, args, order, err := s.where(ctx, a, q)
	if err != nil {
		return err
	}
	orgs, err := s.loadOrgs(ctx, a)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return fmt.Errorf("asset: export: %w", err)
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write(Header(lang)); err != nil {
		return fmt.Errorf("asset: export: %w", err)
	}
	value := func(prefix, v string) string { return v }
	if lang != "" {
		value = func(prefix, v string) string { return catalogue.T(lang, prefix+v) }
	}
	rec := make([]string, numColumns)
	err = s.each(ctx, `SELECT `+columns+fromAssets+where+` ORDER BY `+order, args, func(x Asset) error {
		mlps := ""
		if x.MLPSLevel > 0 {
			mlps = value("mlps.", strconv.Itoa(x.MLPSLevel))
		}
		rec[colCode], rec[colName], rec[colKind], rec[colSubtype] = x.Code, x.Name, value("kind.", x.Kind), x.Subtype
		rec[colOrg], rec[colOwner], rec[colLocation], rec[colZone] = orgs.exportName(x.OrgID), x.Owner, x.Location, value("zone.", x.Zone)
		rec[colMLPS], rec[colIP], rec[colMAC], rec[colVendor] = mlps, x.IP, x.MAC, x.Vendor
		rec[colModel], rec[colSerial], rec[colLifecycle] = x.Model, x.Serial, value("lifecycle.", x.Lifecycle)
		rec[colProcuredOn], rec[colInServiceOn], rec[colRetiredOn] = x.ProcuredOn, x.InServiceOn, x.RetiredOn
		rec[colTags], rec[colNotes] = strings.Join(x.Tags, ";"), x.Notes
		for i := range rec {
			rec[i] = escapeFormula(rec[i])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("asset: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("asset: export: %w", err)
	}
	return nil
}
