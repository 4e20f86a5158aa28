package org

import "github.com/medguard/medguard/internal/i18n"

// kindWord is an organisation kind (region, hospital, department…) as a translated word,
// for the trail summaries org writes.
func kindWord(kind string) i18n.Message { return i18n.M("orgkind." + kind) }
