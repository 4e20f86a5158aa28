package detect

import "testing"

func fixtureExplainer(t *testing.T) Explainer {
	t.Fatal("package explain has not landed")
	return nil
}
