package apk

import (
	"math"
	"strings"
	"testing"
)

// TestSDKRanges: v3 signers must cover every SDK from 28 (or minSdk) up, handing over
// to the v3.1 signers where those start.
func TestSDKRanges(t *testing.T) {
	const top = math.MaxInt32
	r := func(ranges ...[2]int) *schemeResult {
		res := &schemeResult{}
		for _, x := range ranges {
			res.signers = append(res.signers, signerResult{minSDK: x[0], maxSDK: x[1]})
		}
		return res
	}
	for _, c := range []struct {
		name    string
		v3, v31 *schemeResult
		minSDK  int
		v3Err   string
		v31Err  string
	}{
		{"one signer for all", r([2]int{24, top}), nil, 23, "", ""},
		{"from 28", r([2]int{28, top}), nil, 21, "", ""},
		{"starts too late", r([2]int{30, top}), nil, 23, "SDK 28 to 29", ""},
		{"app minSdk above the signer's start", r([2]int{30, top}), nil, 31, "", ""},
		{"stops early", r([2]int{24, 33}), nil, 23, "SDK 34 to 2147483647", ""},
		{"two signers in a row", r([2]int{24, 30}, [2]int{31, top}), nil, 23, "", ""},
		{"a gap", r([2]int{24, 30}, [2]int{33, top}), nil, 23, "SDK 31 to 32", ""},
		{"handed over to v3.1", r([2]int{24, 32}), r([2]int{33, top}), 23, "", ""},
		{"dev release overlap", r([2]int{24, 10000}), r([2]int{10000, top}), 23, "", ""},
		{"gap before v3.1", r([2]int{24, 30}), r([2]int{33, top}), 23, "SDK 31 to 32", ""},
		{"v3.1 stops early", r([2]int{24, 32}), r([2]int{33, 40}), 23, "", "SDK 41 and later"},
	} {
		t.Run(c.name, func(t *testing.T) {
			by := map[string]*schemeResult{SchemeV3: c.v3}
			if c.v31 != nil {
				by[SchemeV31] = c.v31
			}
			checkSDKRanges(by, c.minSDK)
			for _, x := range []struct {
				res  *schemeResult
				want string
			}{{c.v3, c.v3Err}, {c.v31, c.v31Err}} {
				if x.res == nil {
					continue
				}
				switch {
				case x.want == "" && x.res.err != nil:
					t.Errorf("unexpected error %v", x.res.err)
				case x.want != "" && (x.res.err == nil || !strings.Contains(x.res.err.Error(), x.want)):
					t.Errorf("error %v, want one containing %q", x.res.err, x.want)
				}
			}
		})
	}
}
