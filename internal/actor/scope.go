package actor

import "strings"

// This file is the one place that turns "which organisations does this actor see" into
// SQL. Every query that lists or loads records of an organisation goes through SeesSQL
// (or SubtreeSQL for a subtree the caller has already checked, or ContainsSQL for the
// ancestors of a node); TestTenancyPredicateIsTheOnlyOne fails when another file writes
// its own path LIKE.
//
// Organisation paths are materialised ("/1/4/9/"), so a subtree is one prefix match:
// path LIKE '/1/4/%' ESCAPE '\'. The pattern escapes LIKE's wildcards, and the escape
// character is written as the literal '\', which both engines read as one backslash
// (PostgreSQL with standard_conforming_strings, its default since 9.1); store.Rebind
// leaves quoted text alone, so the backslash and the placeholder survive the rewrite to
// $n on PostgreSQL.

// SeesSQL is Sees as an SQL condition: it returns the condition that the organisation
// path in column col (for example "o.path") lies in a's subtree, and the one argument it
// binds. It fails closed like Sees: an actor without an organisation path sees nothing
// (the condition is false), never every organisation. A platform-wide actor ("/") sees
// every path.
func (a Actor) SeesSQL(col string) (string, any) {
	return SubtreeSQL(col, a.OrgPath)
}

// SubtreeSQL returns the condition that the organisation path in column col is root or
// lies below it, and its one argument. An empty root matches nothing. Callers use it to
// narrow a listing to a node the actor has been checked to see (org.Visible), or to act
// on a subtree on the platform's own behalf.
func SubtreeSQL(col, root string) (string, any) {
	if root == "" {
		// False, but with the placeholder of the usual condition, so that callers bind
		// the same arguments whatever the actor: a scope is one condition, one argument.
		return `(1=0 AND ` + col + ` LIKE ? ESCAPE '\')`, ""
	}
	return col + ` LIKE ? ESCAPE '\'`, EscapeLike(root) + "%"
}

// ContainsSQL returns the condition that the node whose path is in column outer contains
// the path given by the SQL expression inner: it is that node or one of its ancestors.
// It is org.Contains in SQL and binds nothing. It compares a prefix rather than using
// LIKE, so that no character of a path can act as a wildcard; an empty outer path
// contains nothing.
func ContainsSQL(outer, inner string) string {
	return `(` + outer + ` <> '' AND SUBSTR(` + inner + `, 1, LENGTH(` + outer + `)) = ` + outer + `)`
}

// EscapeLike escapes LIKE wildcards in s using backslash; queries must say ESCAPE '\'.
// It is for text searches; organisation paths go through SeesSQL and SubtreeSQL.
func EscapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
