package dlp

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// TestRegionsCover2023Divisions checks that every province, city and county code of
// the 2023 division list kept in data/admin-divisions is a valid region of a resident
// ID (a county created or renamed after 2019 included), and that codes retired before
// 2019 stay valid: IDs issued under them remain in use.
func TestRegionsCover2023Divisions(t *testing.T) {
	t.Parallel()
	n := 0
	for _, f := range []struct{ name, pad string }{{"provinces.csv", "0000"}, {"cities.csv", "00"}, {"areas.csv", ""}} {
		r, err := os.Open(filepath.Join("data", "admin-divisions", f.name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(r).ReadAll()
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, row := range rows[1:] {
			n++
			if code := row[0] + f.pad; !validRegion([]byte(code)) {
				t.Errorf("%s: %s (%s) is not a valid region", f.name, code, row[1])
			}
		}
	}
	if n < 3000 {
		t.Fatalf("only %d codes in the 2023 division list", n)
	}
	// Retired before 2019: 崇文区, 宣武区 (Beijing, 2010), 闸北区 (Shanghai, 2015).
	for _, code := range []string{"110103", "110104", "310108"} {
		if !validRegion([]byte(code)) {
			t.Errorf("retired code %s is no longer valid", code)
		}
	}
}
