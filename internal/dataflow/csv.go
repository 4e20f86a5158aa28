package dataflow

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/textenc"
	"github.com/medguard/medguard/internal/trail"
)

// The limits of an imported register.
const (
	MaxImportBytes = 5 << 20
	MaxImportRows  = 5000
)

// Columns are the columns of an imported register, by their English names; each also
// has a Chinese header (columnAliases). name, recipient, recipient_kind, categories,
// purpose, legal_basis and source_assets are required. categories is
// "category:level" pairs separated by ";" (personal:3;health:4, or 个人属性数据:3；健康状况数据:4);
// source_assets the codes of the hospital's assets separated by ";". Coded values are
// their ids or their Chinese or English names.
var Columns = []string{"name", "recipient", "recipient_kind", "categories", "purpose", "legal_basis", "agreement_ref",
	"agreement_signed", "agreement_expires", "deidentification", "deidentification_note", "transfer", "frequency",
	"volume", "retention", "source_assets", "status"}

var requiredColumns = []string{"name", "recipient", "recipient_kind", "categories", "purpose", "legal_basis", "source_assets"}

var columnAliases = map[string]string{"名称": "name", "数据共享名称": "name", "接收方": "recipient", "接收方类型": "recipient_kind",
	"数据类别": "categories", "数据类别及级别": "categories", "用途": "purpose", "共享目的": "purpose", "法律依据": "legal_basis",
	"协议编号": "agreement_ref", "协议签订日期": "agreement_signed", "签订日期": "agreement_signed", "协议到期日期": "agreement_expires",
	"到期日期": "agreement_expires", "去标识化": "deidentification", "去标识化方法": "deidentification_note", "传输保护": "transfer",
	"频率": "frequency", "数据量": "volume", "保存期限": "retention", "来源系统": "source_assets", "状态": "status"}

// RowError is one wrong line of an imported register (line 1 is the header).
type RowError struct {
	Line    int           `json:"line"`
	Field   string        `json:"field"`
	Message string        `json:"message"` // English; never quotes the file
	Msg     *i18n.Message `json:"msg,omitempty"`
}

// Row is a parsed line of a register: the flow's input and the codes of its source
// systems, resolved to assets when imported.
type Row struct {
	Line       int
	Input      Input
	AssetCodes []string
}

// ImportReport is the outcome of Import: the file's encoding, the lines read, the flows
// created and the wrong lines. An import with a wrong line creates nothing.
type ImportReport struct {
	Encoding string     `json:"encoding"`
	Rows     int        `json:"rows"`
	Created  int        `json:"created"`
	IDs      []int64    `json:"ids"`
	Errors   []RowError `json:"errors"`
}

// coded maps the names a coded value may be written with (id, Chinese and English
// catalogue names, lower-cased) to its id.
type coded map[string]string

func newCoded(cat *i18n.Catalog, prefix string, ids []string) coded {
	c := coded{}
	for _, id := range ids {
		c[strings.ToLower(id)] = id
		for _, lang := range i18n.Languages {
			if k := prefix + id; cat.Has(lang, k) {
				c[strings.ToLower(cat.T(lang, k))] = id
			}
		}
	}
	return c
}

// Parser reads registers; it knows the names of the coded values in both languages.
type Parser struct {
	kinds, categories, bases, deidents, transfers, statuses coded
}

// NewParser returns a parser with the coded values of cat.
func NewParser(cat *i18n.Catalog) *Parser {
	return &Parser{kinds: newCoded(cat, "dataflow.kind.", RecipientKinds), categories: newCoded(cat, "dataflow.category.", Categories),
		bases: newCoded(cat, "dataflow.basis.", LegalBases), deidents: newCoded(cat, "dataflow.deident.", Deidents),
		transfers: newCoded(cat, "dataflow.transfer.", Transfers),
		statuses:  newCoded(cat, "dataflow.status.", []string{StatusActive, StatusSuspended})}
}

// value is the id of a coded value v, or v itself (for the check to refuse) when unknown.
func (c coded) value(v string) string {
	v = strings.TrimSpace(v)
	if id, ok := c[strings.ToLower(v)]; ok {
		return id
	}
	return v
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '；' || r == '|' || r == '、' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseCSV reads a register in CSV (UTF-8 with or without BOM, UTF-16, GBK/GB18030) with
// a header row, and returns its lines and the wrong ones, each checked as Create would
// (but for its source systems, resolved by Import). The error is for a file that is not
// a register at all: not text, not CSV, no usable header, too many lines.
func (p *Parser) ParseCSV(data []byte) (rows []Row, bad []RowError, enc string, err error) {
	if len(data) > MaxImportBytes {
		return nil, nil, "", problem.Invalid("file", "is larger than %d bytes", MaxImportBytes).WithMsg("dataflow.error.too_large", MaxImportBytes>>20)
	}
	txt, err := textenc.Decode(data)
	if err != nil {
		return nil, nil, "", problem.Invalid("file", "is not a CSV register in UTF-8 or GBK").WithMsg("dataflow.error.csv").WithErr(err)
	}
	cr := csv.NewReader(bytes.NewReader(txt.Bytes))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return nil, nil, "", problem.Invalid("file", "has no header row").WithMsg("dataflow.error.csv").WithErr(err)
	}
	cols := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		name := strings.ToLower(h)
		if alias, ok := columnAliases[h]; ok {
			name = alias
		}
		if slices.Contains(Columns, name) {
			if _, dup := cols[name]; !dup {
				cols[name] = i
			}
		}
	}
	for _, c := range requiredColumns {
		if _, ok := cols[c]; !ok {
			return nil, nil, "", problem.Invalid("file", "the header has no column %s", c).WithMsg("dataflow.error.csv_header", c)
		}
	}
	for {
		line := 0
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			m := i18n.M("dataflow.error.csv")
			bad = append(bad, RowError{Line: line, Field: "file", Message: "the line is not valid CSV", Msg: &m})
			break
		}
		line, _ = cr.FieldPos(0)
		if len(rows)+len(bad) >= MaxImportRows {
			return nil, nil, "", problem.Invalid("file", "has more than %d lines", MaxImportRows).WithMsg("dataflow.error.csv_too_many", MaxImportRows)
		}
		get := func(c string) string {
			if i, ok := cols[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		blank := true
		for _, v := range rec {
			if strings.TrimSpace(v) != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		row, rerr := p.row(line, get)
		if rerr != nil {
			bad = append(bad, *rerr)
			continue
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 && len(bad) == 0 {
		return nil, nil, "", problem.Invalid("file", "has no flows").WithMsg("dataflow.error.csv_empty")
	}
	return rows, bad, string(txt.Encoding), nil
}

// row reads one line.
func (p *Parser) row(line int, get func(string) string) (Row, *RowError) {
	fail := func(err error) (Row, *RowError) {
		re := RowError{Line: line, Field: "file", Message: "the line is wrong"}
		if pr, ok := problem.As(err); ok {
			re.Field, re.Message, re.Msg = pr.Field, pr.Message, pr.Msg
		}
		switch re.Field { // the check's field names as the file's columns
		case "source_asset_ids":
			re.Field = "source_assets"
		case "recipient_name":
			re.Field = "recipient"
		}
		return Row{}, &re
	}
	in := Input{Name: get("name"), RecipientName: get("recipient"), RecipientKind: p.kinds.value(get("recipient_kind")),
		Purpose: get("purpose"), LegalBasis: p.bases.value(get("legal_basis")), AgreementRef: get("agreement_ref"),
		AgreementSigned: get("agreement_signed"), AgreementExpires: get("agreement_expires"),
		Deident: p.deidents.value(get("deidentification")), DeidentNote: get("deidentification_note"),
		Transfer: p.transfers.value(get("transfer")), Frequency: get("frequency"), Volume: get("volume"),
		Retention: get("retention"), Status: p.statuses.value(get("status"))}
	for _, pair := range splitList(get("categories")) {
		i := strings.LastIndexAny(pair, ":：")
		if i < 0 {
			return fail(problem.Invalid("categories", "write each category as category:level").WithMsg("dataflow.error.level"))
		}
		_, w := decodeLast(pair[i:])
		lvl, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(pair[i+w:], "第")))
		if err != nil {
			lvl, err = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(pair[i+w:]), "第"), "级"))
		}
		if err != nil {
			return fail(problem.Invalid("categories", "a level is from 1 to 5").WithMsg("dataflow.error.level"))
		}
		in.Categories = append(in.Categories, Category{Category: p.categories.value(pair[:i]), Level: lvl})
	}
	codes := splitList(get("source_assets"))
	in.SourceAssetIDs = make([]int64, len(codes)) // placeholders: the check needs as many ids as codes
	for i := range in.SourceAssetIDs {
		in.SourceAssetIDs[i] = int64(i + 1)
	}
	if _, err := check(in); err != nil {
		return fail(err)
	}
	in.SourceAssetIDs = nil
	return Row{Line: line, Input: in, AssetCodes: codes}, nil
}

// decodeLast returns the separator at the start of s and its width in bytes.
func decodeLast(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

// Import reads a register (see ParseCSV) into organisation orgID: each line's source
// systems are the codes of the organisation's assets. When every line is right, all
// flows are created in one transaction (with one trail entry each and one for the
// import); when one is wrong nothing is created and the report lists the wrong lines.
// Deficient flows raise their risks afterwards (in lang).
func (s *Service) Import(ctx context.Context, a actor.Actor, orgID int64, name string, data []byte, lang string) (ImportReport, error) {
	if _, err := org.Visible(ctx, s.db, a, orgID); err != nil { // before reading a stranger's file
		return ImportReport{}, err
	}
	cat, err := i18n.Load()
	if err != nil {
		return ImportReport{}, fmt.Errorf("dataflow: %w", err)
	}
	rows, bad, enc, err := NewParser(cat).ParseCSV(data)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Encoding: enc, Rows: len(rows) + len(bad), Errors: bad, IDs: []int64{}}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := org.Visible(ctx, tx, a, orgID); err != nil {
			return err
		}
		cond, arg := a.SeesSQL("o.path")
		codes := map[string]int64{}
		list, err := store.Collect(ctx, tx, func(sc store.Scanner) ([2]string, error) {
			var id, code string
			err := sc.Scan(&id, &code)
			return [2]string{id, code}, err
		}, `SELECT s.id, s.code FROM assets s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = ? AND `+cond, orgID, arg)
		if err != nil {
			return fmt.Errorf("dataflow: assets of %d: %w", orgID, err)
		}
		for _, x := range list {
			id, _ := strconv.ParseInt(x[0], 10, 64)
			codes[strings.ToLower(x[1])] = id
		}
		var flows []Flow
		for _, r := range rows {
			in := r.Input
			in.OrgID = orgID
			for _, c := range r.AssetCodes {
				id, ok := codes[strings.ToLower(c)]
				if !ok {
					m := i18n.M("dataflow.error.asset_code", c)
					rep.Errors = append(rep.Errors, RowError{Line: r.Line, Field: "source_assets",
						Message: "no asset of this hospital has this code", Msg: &m})
					break
				}
				in.SourceAssetIDs = append(in.SourceAssetIDs, id)
			}
			f, err := check(in)
			if err != nil {
				continue // reported above: an unknown code
			}
			flows = append(flows, f)
		}
		if len(rep.Errors) > 0 {
			slices.SortStableFunc(rep.Errors, func(x, y RowError) int { return x.Line - y.Line })
			return nil
		}
		for _, f := range flows {
			id, err := s.create(ctx, tx, a, f)
			if err != nil {
				return err
			}
			rep.IDs = append(rep.IDs, id)
		}
		rep.Created = len(flows)
		name = safeName(name)
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "dataflow.import", ObjectType: "org", ObjectID: itoa(orgID), OrgID: orgID,
			Summary: fmt.Sprintf("%d data flows imported from %s", rep.Created, name),
			Msg:     trail.Msg("trail.summary.dataflow.import", rep.Created, name), After: map[string]any{"ids": rep.IDs, "encoding": enc}})
		return err
	})
	if err != nil {
		return ImportReport{}, err
	}
	for _, id := range rep.IDs {
		if _, err := s.saved(ctx, a, id, lang); err != nil {
			return rep, err
		}
	}
	return rep, nil
}
