// Package actor describes who is acting on the platform — a signed-in person, an API
// token's owner or the system itself — and which part of the organisation tree they may
// see. Domain services take an Actor so that every write is attributed in the trail and
// every read is limited to the actor's subtree: Sees for one path, SeesSQL (scope.go) as
// the one SQL condition every listing uses. Both fail closed.
package actor

import "strings"

// Actor is the identity and scope of whoever makes a request.
type Actor struct {
	UserID   int64  // 0 for the system
	Username string // "system" for the system
	Role     string
	OrgID    int64  // the node the actor belongs to
	OrgPath  string // materialised path of that node, e.g. "/1/4/"; "/" sees everything
	IP       string // client address, "" for the CLI
}

// System is the actor for changes made by the platform itself or by the local CLI.
func System() Actor {
	return Actor{Username: "system", Role: "system", OrgPath: "/"}
}

// CLI is the actor for a change made from the command line by the local operator.
func CLI() Actor {
	return Actor{Username: "cli", Role: "system", OrgPath: "/"}
}

// Sees reports whether a record in the node with materialised path p is within the
// actor's scope (the actor's own node or below).
func (a Actor) Sees(p string) bool {
	if a.OrgPath == "" {
		return false
	}
	return strings.HasPrefix(p, a.OrgPath)
}
