package licence_test

import (
	"testing"

	"github.com/medguard/medguard/internal/licence"
)

// BenchmarkEvaluate evaluates typical expressions under the default policy, through
// Policy.Evaluate and through a compiled Matcher.
func BenchmarkEvaluate(b *testing.B) {
	p := licence.DefaultPolicy()
	exprs := []string{"MIT", "Apache-2.0 OR GPL-2.0-only", "(MIT OR ISC) AND LGPL-2.1+", "GPL-2.0-only WITH Classpath-exception-2.0"}
	b.Run("policy", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p.Evaluate(exprs[i%len(exprs)])
		}
	})
	b.Run("matcher", func(b *testing.B) {
		m := p.Matcher()
		for i := 0; b.Loop(); i++ {
			m.Evaluate(exprs[i%len(exprs)])
		}
	})
}
