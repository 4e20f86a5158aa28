package cli

import "github.com/medguard/medguard/internal/org"

func orgInputDefault() org.Input {
	return org.Input{Kind: org.KindHospital, Name: "Hospital"}
}
