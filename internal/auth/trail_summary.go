package auth

import (
	"time"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/trail"
)

// The summaries of the trail entries auth writes, as catalogue messages: each says what
// the English summary beside it says, in the reader's language.

// scopeWord is a token scope as a translated word.
func scopeWord(scope string) i18n.Message { return i18n.M("token.scope." + scope) }

// roleWord is a role as a translated word.
func roleWord(role string) i18n.Message { return i18n.M("role." + role) }

// revokeReasonMsg is why revokeTokensTx revoked a user's tokens: one of the reasons its
// callers give, else the English text as it is.
func revokeReasonMsg(why string) any {
	switch why {
	case "password reset":
		return i18n.M("trail.summary.token.why_password_reset")
	case "forced password change":
		return i18n.M("trail.summary.token.why_forced_change")
	}
	return why
}

// passwordResetMsg: an administrator's reset (the user must change it) or a scripted one.
func passwordResetMsg(username string, mustChange bool) *i18n.Message {
	if mustChange {
		return trail.Msg("trail.summary.user.password_reset", username)
	}
	return trail.Msg("trail.summary.user.password_reset_scripted", username)
}

// enableMsg: an account disabled or enabled again.
func enableMsg(username string, disabled bool) *i18n.Message {
	if disabled {
		return trail.Msg("trail.summary.user.disable", username)
	}
	return trail.Msg("trail.summary.user.enable", username)
}

// mfaHowMsg: the second factor a session was completed with.
func mfaHowMsg(how string) *i18n.Message {
	if how == "recovery code" {
		return trail.Msg("trail.summary.auth.mfa_recovery_code")
	}
	return trail.Msg("trail.summary.auth.mfa_authenticator")
}

// loginMsg: a password sign-in, with MFA still to come or not.
func loginMsg(mfaPending bool) *i18n.Message {
	if mfaPending {
		return trail.Msg("trail.summary.auth.login_mfa_pending")
	}
	return trail.Msg("trail.summary.auth.login_password")
}

// passwordFailureMsg is a failed password sign-in: a wrong password, or the right one for
// a disabled account.
func passwordFailureMsg(disabled bool, wait time.Duration) *i18n.Message {
	if disabled {
		return failureMsg(i18n.M("trail.summary.auth.account_disabled"), wait)
	}
	return failureMsg(i18n.M("trail.summary.auth.wrong_password"), wait)
}

// unknownUserMsg is a sign-in with a name no account has.
func unknownUserMsg(wait time.Duration) *i18n.Message {
	return failureMsg(i18n.M("trail.summary.auth.unknown_user"), wait)
}

// wrongCodeMsg is a failed second-factor check.
func wrongCodeMsg(wait time.Duration) *i18n.Message {
	return failureMsg(i18n.M("trail.summary.auth.wrong_code"), wait)
}

// failureMsg is a failed check, with the delay the next attempt waits for when there is one.
func failureMsg(reason i18n.Message, wait time.Duration) *i18n.Message {
	if wait > 0 {
		return trail.Msg("trail.summary.auth.failed_delayed", reason, wait.String())
	}
	return trail.Msg("trail.summary.auth.failed", reason)
}
