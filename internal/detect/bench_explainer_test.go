package detect

import (
	"testing"

	"github.com/medguard/medguard/internal/explain"
)

func benchExplainer(b *testing.B) Explainer { return explain.New(nil, explain.Options{}) }
