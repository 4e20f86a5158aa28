package web

import (
	"os"
	"testing"

	"github.com/medguard/medguard/internal/auth"
)

// TestMain makes the users' password hashes cheap: every test starts a server and
// creates and logs in its users, and hashing with the OWASP parameters was 28 % of the
// package's CPU. internal/auth tests the real parameters.
func TestMain(m *testing.M) {
	auth.UseCheapHashesInTests()
	os.Exit(m.Run())
}
