package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/vuln"
)

// data holds the demo's real public data: OSV advisories (golang/vulndb and
// pypa/advisory-database, CC-BY-4.0) and CycloneDX SBOMs (CycloneDX/bom-examples, CC0);
// see data/README.md.
//
//go:embed data
var data embed.FS

// laterAdvisory is held back from the first vulnerability import and imported afterwards,
// so that the demo shows the alert a newly published advisory raises.
const laterAdvisory = "PYSEC-2023-221"

// seedSupply fills the software supply chain of the first hospital: vendors, products
// and versions with real SBOMs, the OSV advisories that hit them, a risk decision, gate
// results, a verified and a tampered delivery, and an alert from a later advisory.
func seedSupply(ctx context.Context, d Deps, byCode map[string]org.Node) error {
	if d.Supply == nil || d.Vulns == nil {
		return nil
	}
	sys := actor.System()
	h1 := byCode["DEMO-H1"]
	dir, err := os.MkdirTemp("", "medguard-demo-osv-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	later := filepath.Join(dir, "later")
	if err := extract(filepath.Join(dir, "osv"), later); err != nil {
		return err
	}
	if _, err := d.Vulns.Import(ctx, filepath.Join(dir, "osv"), vuln.ImportOptions{Source: "demo-osv"}); err != nil {
		return fmt.Errorf("demo: vulnerability import: %w", err)
	}

	vendors := map[string]supply.Vendor{}
	for _, v := range []supply.VendorInput{
		{Name: "东软集团股份有限公司 (示例)", ContactName: "张工", ContactPhone: "024-0000-0001", ContactEmail: "security@vendor-a.example", Approved: true},
		{Name: "卫宁健康科技集团 (示例)", ContactName: "李经理", ContactPhone: "021-0000-0002", ContactEmail: "psirt@vendor-b.example"},
		{Name: "某某信息技术有限公司 (示例)", ContactName: "王工", ContactEmail: "dev@vendor-c.example", Approved: true},
	} {
		v.OrgID = h1.ID
		created, err := d.Supply.CreateVendor(ctx, sys, v)
		if err != nil {
			return fmt.Errorf("demo: vendor: %w", err)
		}
		vendors[v.Name] = created
	}
	vendorA := vendors["东软集团股份有限公司 (示例)"]
	if _, err := d.Supply.AddContract(ctx, sys, vendorA.ID, supply.Contract{Title: "邮件安全网关采购及维保合同",
		Number: "HT-2025-031", StartsOn: "2025-01-01", EndsOn: "2027-12-31"}); err != nil {
		return fmt.Errorf("demo: contract: %w", err)
	}

	// Assets that run the software: the first servers of the information department.
	page, err := d.Assets.List(ctx, sys, asset.Query{OrgID: byCode["DEMO-H1-IT"].ID, Kind: "server", PerPage: 4})
	if err != nil {
		return fmt.Errorf("demo: assets: %w", err)
	}
	var servers []int64
	for _, x := range page.Items {
		servers = append(servers, x.ID)
	}
	pick := func(i int) []int64 {
		if i < len(servers) {
			return []int64{servers[i]}
		}
		return nil
	}

	bridge, err := d.Supply.CreateProduct(ctx, sys, supply.ProductInput{OrgID: h1.ID, VendorID: vendorA.ID,
		Name: "邮件安全网关 Mail Bridge", Source: "purchased", Description: "院内邮件加密网关（Go 语言）"})
	if err != nil {
		return fmt.Errorf("demo: product: %w", err)
	}
	inet, err := d.Supply.CreateProduct(ctx, sys, supply.ProductInput{OrgID: h1.ID, Name: "互联网医院患者服务接口",
		Source: "self_built", Description: "互联网医院 App 的后端接口（Python/Flask）"})
	if err != nil {
		return fmt.Errorf("demo: product: %w", err)
	}
	type release struct {
		product supply.Product
		version string
		file    string
		assets  []int64
	}
	versions := map[string]supply.Version{}
	for _, r := range []release{
		{bridge, "1.6.3", "proton-bridge-v1.6.3.bom.json", pick(0)},
		{bridge, "1.8.0", "proton-bridge-v1.8.0.bom.json", pick(1)},
		{inet, "2.3.0", "inet-hospital-2.3.0.spdx.json", pick(2)},
	} {
		v, err := d.Supply.CreateVersion(ctx, sys, r.product.ID, supply.VersionInput{Version: r.version, AssetIDs: r.assets})
		if err != nil {
			return fmt.Errorf("demo: version: %w", err)
		}
		doc, err := data.ReadFile("data/sbom/" + r.file)
		if err != nil {
			return err
		}
		if _, err := d.Supply.ImportSBOM(ctx, sys, v.ID, r.file, doc); err != nil {
			return fmt.Errorf("demo: import %s: %w", r.file, err)
		}
		versions[r.file] = v
	}

	// A security officer accepts one risk for 90 days; the decision carries over to 1.8.0.
	fp, err := d.Supply.Findings(ctx, sys, supply.FindingQuery{VersionID: versions["proton-bridge-v1.6.3.bom.json"].ID, Limit: 1})
	if err == nil && len(fp.Items) > 0 {
		exp := time.Now().UTC().Add(90 * 24 * time.Hour)
		if _, err := d.Supply.Decide(ctx, sys, fp.Items[0].ID, supply.Decision{State: supply.StateAccepted,
			Reason: "仅内网访问，已加 WAF 规则；厂商承诺 Q1 升级", ExpiresAt: &exp}); err != nil {
			return fmt.Errorf("demo: decision: %w", err)
		}
	}

	// Deliveries of Mail Bridge 1.8.0: one signed with the vendor's SM2 key and intact,
	// one whose package was altered on the way.
	if err := demoDeliveries(ctx, d, vendorA, versions["proton-bridge-v1.8.0.bom.json"]); err != nil {
		return err
	}
	for _, g := range []struct {
		file, gate string
	}{
		{"proton-bridge-v1.6.3.bom.json", "procurement"},
		{"proton-bridge-v1.8.0.bom.json", "update"},
		{"inet-hospital-2.3.0.spdx.json", "go-live"},
	} {
		if _, err := d.Supply.EvaluateGate(ctx, sys, versions[g.file].ID, g.gate); err != nil {
			return fmt.Errorf("demo: gate: %w", err)
		}
	}

	// A new advisory arrives: re-matching raises an alert naming product, assets, vendor.
	res, err := d.Vulns.Import(ctx, later, vuln.ImportOptions{Source: laterAdvisory + ".json"})
	if err != nil {
		return fmt.Errorf("demo: later advisory: %w", err)
	}
	if _, err := d.Supply.Rematch(ctx, sys, res.Changed); err != nil {
		return fmt.Errorf("demo: rematch: %w", err)
	}
	return nil
}

// extract copies the embedded advisories to dir, the held-back one to laterDir.
func extract(dir, laterDir string) error {
	return fs.WalkDir(data, "data/osv", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := data.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p[len("data/osv/"):]))
		if filepath.Base(p) == laterAdvisory+".json" {
			dst = filepath.Join(laterDir, laterAdvisory+".json")
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
}

// demoDeliveries records two deliveries of version v from vendor: a signed, intact one
// and one with an altered artifact.
func demoDeliveries(ctx context.Context, d Deps, vendor supply.Vendor, v supply.Version) error {
	sys := actor.System()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(20261123), Subject: pkix.Name{CommonName: "交付签名 " + vendor.Name,
		Organization: []string{vendor.Name}}, NotBefore: time.Now().AddDate(0, -1, 0), NotAfter: time.Now().AddDate(2, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature}
	certDER, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("demo: certificate: %w", err)
	}
	fp, err := delivery.Fingerprint(string(pemCert(certDER)))
	if err != nil {
		return fmt.Errorf("demo: fingerprint: %w", err)
	}
	if _, err := d.Supply.AddVendorKey(ctx, sys, vendor.ID, fp, "SM2 交付签名证书"); err != nil {
		return fmt.Errorf("demo: vendor key: %w", err)
	}
	server := bytes.Repeat([]byte("mail-bridge server build 1.8.0\n"), 4096)
	sbomDoc, _ := data.ReadFile("data/sbom/proton-bridge-v1.8.0.bom.json")
	files := func(server []byte) []delivery.File {
		return []delivery.File{
			{Name: "mail-bridge-1.8.0-linux-amd64.tar.gz", Open: opener(server)},
			{Name: "sbom/mail-bridge-1.8.0.cdx.json", Open: opener(sbomDoc)},
		}
	}
	for i, received := range [][]byte{server, append(append([]byte{}, server...), []byte("#injected\n")...)} {
		m, err := delivery.Build(vendor.Name, "邮件安全网关 Mail Bridge", v.Version, fmt.Sprintf("MB-1.8.0-%d", i+1),
			time.Now().UTC().Add(-time.Duration(2-i)*time.Hour), files(server))
		if err != nil {
			return fmt.Errorf("demo: manifest: %w", err)
		}
		if err := delivery.SignSM2(m, key, certDER); err != nil {
			return fmt.Errorf("demo: sign manifest: %w", err)
		}
		doc, err := m.Marshal()
		if err != nil {
			return err
		}
		if _, err := d.Supply.VerifyDelivery(ctx, sys, supply.DeliveryInput{VersionID: v.ID, Manifest: doc,
			Files: files(received), RequireSignature: true}); err != nil {
			return fmt.Errorf("demo: verify delivery: %w", err)
		}
	}
	return nil
}

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
