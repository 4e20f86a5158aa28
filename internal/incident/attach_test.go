package incident_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

var (
	pdf  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	png  = append([]byte("\x89PNG\r\n\x1a\n"), []byte("\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")...)
	elf  = append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...)
	html = []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	pcap = append([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00"), make([]byte, 16)...)
)

func office(t testing.TB, entries ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("<x/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSniff: the kinds taken by content, and what is refused.
func TestSniff(t *testing.T) {
	docx := office(t, "[Content_Types].xml", "word/document.xml")
	tests := []struct {
		name, file string
		data       []byte
		kind       string
		err        error
	}{
		{"pdf", "report.pdf", pdf, "pdf", nil},
		{"png", "screen.PNG", png, "png", nil},
		{"jpeg", "photo.jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "jpeg", nil},
		{"text", "his.log", []byte("2026-05-01 09:00 login failed\n"), "text", nil},
		{"gbk csv", "patients.csv", []byte("\xd0\xd5\xc3\xfb,\xbf\xc6\xca\xd2\n"), "csv", nil},
		{"csv named txt", "x.txt", []byte("a,b\n1,2\n"), "text", nil},
		{"docx", "plan.docx", docx, "docx", nil},
		{"xlsx", "list.xlsx", office(t, "[Content_Types].xml", "xl/workbook.xml"), "xlsx", nil},
		{"pcap", "capture.pcap", pcap, "pcap", nil},
		{"pcapng", "capture.pcapng", []byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"), "pcap", nil},
		{"html named pdf", "report.pdf", html, "", incident.ErrActive},
		{"html", "page.html", []byte("hello"), "", incident.ErrActive},
		{"svg named png", "x.png", []byte("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), "", incident.ErrActive},
		{"script in text", "notes.txt", []byte("see <script>alert(1)</script>"), "", incident.ErrActive},
		{"elf named png", "x.png", elf, "", incident.ErrExecutable},
		{"pe named pdf", "x.pdf", []byte("MZ\x90\x00\x03"), "", incident.ErrExecutable},
		{"shell script", "run.txt", []byte("#!/bin/sh\nrm -rf /\n"), "", incident.ErrExecutable},
		{"macros", "plan.docx", office(t, "[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "", incident.ErrExecutable},
		{"pdf named png", "x.png", pdf, "", incident.ErrDisguised},
		{"png named txt", "x.txt", png, "", incident.ErrDisguised},
		{"docx named xlsx", "x.xlsx", docx, "", incident.ErrDisguised},
		{"no extension", "report", pdf, "", incident.ErrDisguised},
		{"plain zip", "logs.zip", office(t, "a.log"), "", incident.ErrUnknownType},
		{"binary", "x.bin", []byte{0, 1, 2, 3, 0, 0, 0, 9}, "", incident.ErrUnknownType},
	}
	for _, tc := range tests {
		ft, err := incident.Sniff(tc.file, tc.data)
		if !errors.Is(err, tc.err) || ft.Kind != tc.kind {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, ft.Kind, err, tc.kind, tc.err)
		}
		if strings.Contains(ft.ContentType, "html") {
			t.Errorf("%s: served as %s", tc.name, ft.ContentType)
		}
	}
}

// FuzzSniff: Sniff never panics, never takes what it names active, and a type it takes
// is one served safely with an extension that agrees.
func FuzzSniff(f *testing.F) {
	for _, s := range [][]byte{pdf, png, elf, html, pcap, []byte("a,b\n"), office(f, "[Content_Types].xml", "word/a.xml")} {
		f.Add("file.pdf", s)
		f.Add("file.txt", s)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ft, err := incident.Sniff(name, data)
		if err != nil {
			return
		}
		if ft.ContentType == "" || strings.Contains(strings.ToLower(ft.ContentType), "html") ||
			strings.Contains(strings.ToLower(ft.ContentType), "xml+") || strings.Contains(strings.ToLower(ft.ContentType), "javascript") {
			t.Fatalf("%q taken as %q", name, ft.ContentType)
		}
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
			t.Fatalf("markup taken as %s", ft.Kind)
		}
	})
}

// TestAttachments: oversized and disguised files are refused; a good PDF and PNG are
// kept with their SHA-256 and come back as they were, with a safe type.
func TestAttachments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{MaxAttachment: 1024})
		in, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelGeneral))
		if err != nil {
			t.Fatal(err)
		}
		refused := []struct {
			name, file string
			data       []byte
			code       string
		}{
			{"oversized", "big.pdf", append(append([]byte{}, pdf...), make([]byte, 1024)...), "invalid"},
			{"html named pdf", "report.pdf", html, "invalid"},
			{"elf named png", "shot.png", elf, "invalid"},
			{"empty", "a.txt", nil, "invalid"},
		}
		for _, tc := range refused {
			_, err := w.inc.AddAttachment(ctx, w.secA, in.ID, tc.file, bytes.NewReader(tc.data))
			if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Field != "file" || pe.Msg == nil {
				t.Errorf("%s: %v, want an invalid file", tc.name, err)
			}
		}
		for _, good := range []struct {
			file, ctype string
			data        []byte
		}{{"../../etc/报告.pdf", "application/pdf", pdf}, {"screen.png", "image/png", png}} {
			at, err := w.inc.AddAttachment(ctx, w.secA, in.ID, good.file, bytes.NewReader(good.data))
			if err != nil {
				t.Fatalf("%s: %v", good.file, err)
			}
			sum := sha256.Sum256(good.data)
			if at.SHA256 != hex.EncodeToString(sum[:]) || at.Size != int64(len(good.data)) || strings.Contains(at.Name, "/") {
				t.Errorf("%s: %+v", good.file, at)
			}
			got, err := w.inc.Attachment(ctx, w.secA, in.ID, at.ID)
			if err != nil || !bytes.Equal(got.Content, good.data) || got.ContentType != good.ctype || got.SHA256 != at.SHA256 {
				t.Errorf("%s read back: %s %s %v", good.file, got.ContentType, got.SHA256, err)
			}
			if _, err := w.inc.Attachment(ctx, w.secB, in.ID, at.ID); problem.KindOf(err) != problem.KindNotFound {
				t.Errorf("another hospital downloads it: %v", err)
			}
		}
		full, _ := w.inc.Incident(ctx, w.secA, in.ID)
		if len(full.Attachments) != 2 || full.Attachments[0].Name != "报告.pdf" || full.Attachments[0].Content != nil {
			t.Errorf("attachments %+v", full.Attachments)
		}
		if last := full.Timeline[len(full.Timeline)-1]; last.Kind != incident.EntryEvidence {
			t.Errorf("last timeline entry %+v", last)
		}
		// An attachment of another incident is not found through this one.
		other, _ := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelGeneral))
		if _, err := w.inc.Attachment(ctx, w.secA, other.ID, full.Attachments[0].ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("through another incident: %v", err)
		}
	})
}
