package events

// PkeyOf is pkeyOf, for the tests of migration 0040.
var PkeyOf = pkeyOf

// PartShift is partShift, for tests that span parts.
const PartShift = partShift
