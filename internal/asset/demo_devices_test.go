package asset

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// TestGenerateMedicalDevicesArePlausible: every generated medical device is one of the
// device types of demoDevices, made by one of its type's makers as one of that maker's
// models, located in one of its type's departments and filed under a department that
// fits it (or under a hospital): no CT scanner from an infusion-pump maker in the
// laboratory.
func TestGenerateMedicalDevicesArePlausible(t *testing.T) {
	orgs := []DemoOrg{
		{ID: 1, Kind: "hospital", Name: "第一医院"},
		{ID: 2, Kind: "department", Name: "信息科"},
		{ID: 3, Kind: "department", Name: "放射科"},
		{ID: 4, Kind: "department", Name: "检验科"},
		{ID: 5, Kind: "department", Name: "心血管内科"},
		{ID: 6, Kind: "department", Name: "重症医学科"},
		{ID: 7, Kind: "department", Name: "门诊部"},
		{ID: 8, Kind: "hospital", Name: "第二医院"},
		{ID: 9, Kind: "department", Name: "医学影像科"},
		{ID: 10, Kind: "department", Name: "互联网医院办公室"},
	}
	byID := map[int64]DemoOrg{}
	for _, o := range orgs {
		byID[o.ID] = o
	}
	devices := 0
	for _, in := range Generate(rand.New(rand.NewSource(20261123)), orgs, 3000) {
		if in.Kind != KindMedicalDevice {
			continue
		}
		devices++
		var dev *demoDevice
		for i := range demoDevices {
			if strings.HasPrefix(in.Name, demoDevices[i].name+" ") {
				dev = &demoDevices[i]
			}
		}
		if dev == nil {
			t.Fatalf("%s %q: not a known device type", in.Code, in.Name)
		}
		var models []string
		for _, m := range dev.makers {
			if m.name == in.Vendor {
				models = m.models
			}
		}
		if models == nil {
			t.Errorf("%s %q: maker %q does not make this type", in.Code, in.Name, in.Vendor)
		} else if !slices.Contains(models, in.Model) {
			t.Errorf("%s %q: %s makes no model %q of this type", in.Code, in.Name, in.Vendor, in.Model)
		}
		if in.Subtype != dev.subtype {
			t.Errorf("%s %q: subtype %q, want %q", in.Code, in.Name, in.Subtype, dev.subtype)
		}
		if !slices.Contains(dev.locations, in.Location) {
			t.Errorf("%s %q: located in %q, want one of %v", in.Code, in.Name, in.Location, dev.locations)
		}
		if o := byID[in.OrgID]; o.Kind == "department" && !slices.Contains(dev.departments, o.Name) {
			t.Errorf("%s %q: filed under department %q, want one of %v or a hospital", in.Code, in.Name, o.Name, dev.departments)
		}
	}
	if devices < 100 {
		t.Fatalf("only %d medical devices generated", devices)
	}
}
