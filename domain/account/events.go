package account

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/multimedia-portal/multimedia/domain/download"
)

// Event is a fact recorded in an account or e-mail stream. Its type name is
// explicit and versioned so stored events stay readable when Go names change.
type Event interface {
	// EventType returns the stable, versioned type name stored with the event.
	EventType() string
}

// Stable event type names. They are stored with every event and must never
// change; a new shape gets a new version suffix.
const (
	AccountRegisteredType         = "AccountRegistered.v1"
	VerificationCodeIssuedType    = "VerificationCodeIssued.v1"
	VerificationCodeRejectedType  = "VerificationCodeRejected.v1"
	AccountVerifiedType           = "AccountVerified.v1"
	PasswordSetAtVerificationType = "PasswordSetAtVerification.v1"
	LoggedInType                  = "LoggedIn.v1"
	LoginFailedType               = "LoginFailed.v1"
	LoggedOutType                 = "LoggedOut.v1"
	PasswordResetCompletedType    = "PasswordResetCompleted.v1"
	PasswordRehashedType          = "PasswordRehashed.v1"
	NewsletterSubscribedType      = "NewsletterSubscribed.v1"
	NewsletterUnsubscribedType    = "NewsletterUnsubscribed.v1"
	// VideoDownloadedType is download.VideoDownloadedType: downloads
	// recorded before they got streams of their own are on account streams.
	VideoDownloadedType = download.VideoDownloadedType
	EmailClaimedType    = "EmailClaimed.v1"
	AccountErasedType   = "AccountErased.v1"
	EmailReleasedType   = "EmailReleased.v1"
)

// StreamID is the event stream of one account: "account-<id>".
func StreamID(accountID string) string { return "account-" + accountID }

// LegacyEmailStreamID is the claim stream name of stores written before
// 2026-11-30: "email-" + hex(sha256(normalised email)), an UNKEYED hash
// that anyone with a list of addresses can match. New claims use
// CodeHasher.ClaimStreamID (a keyed HMAC); commands still find these, and
// "multimedia privacy migrate" copies a store without them.
func LegacyEmailStreamID(normalisedEmail string) string {
	sum := sha256.Sum256([]byte(normalisedEmail))
	return "email-" + hex.EncodeToString(sum[:])
}

// AccountRegistered starts an account stream. PasswordHash is the encoded
// argon2id hash, never the password.
type AccountRegistered struct {
	AccountID    string    `json:"account_id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"password_hash"`
	Newsletter   bool      `json:"newsletter"`
	RegisteredAt time.Time `json:"registered_at"`
}

// VerificationCodeIssued records that a code was mailed. Only its HMAC is
// kept; a new code voids the previous one of the same purpose.
type VerificationCodeIssued struct {
	AccountID string    `json:"account_id"`
	Purpose   Purpose   `json:"purpose"`
	CodeHash  string    `json:"code_hash"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Client is a keyed tag of the network that asked for the code (as in
	// VerificationCodeRejected.Client), so that the hourly cap on codes
	// counts each client's requests apart: a stranger asking for codes
	// does not use up the owner's. Empty in events recorded before
	// 2026-11-30 and for the code a registration issues.
	Client string `json:"client,omitempty"`
}

// VerificationCodeRejected records a refused code attempt; wrong codes and
// tries on an expired code (RejectionReason.Counts) count towards the
// per-code and per-hour limits.
type VerificationCodeRejected struct {
	AccountID string          `json:"account_id"`
	Purpose   Purpose         `json:"purpose"`
	Reason    RejectionReason `json:"reason"`
	At        time.Time       `json:"at"`
	// Client is a keyed tag of the network the try came from (the
	// commands' client key: an HMAC of the IPv4 address or IPv6 /64, never
	// the address), so that the hourly limit counts each client's tries
	// apart and a stranger's tries do not use up the owner's. Empty in
	// events recorded before 2026-11-30 and for tries without a client.
	Client string `json:"client,omitempty"`
}

// AccountVerified records that the owner proved control of the address; it
// consumes the verify_email code.
type AccountVerified struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// PasswordSetAtVerification is appended with AccountVerified: whoever
// proved control of the address sets the password, replacing the one given
// at registration (which may be a stranger's who registered the address
// first), and every session and device from before ends.
type PasswordSetAtVerification struct {
	AccountID    string    `json:"account_id"`
	PasswordHash string    `json:"password_hash"`
	At           time.Time `json:"at"`
}

// LoggedIn records a successful login. SessionID is a random identifier of
// the session, distinct from the bearer token, which is never stored here.
type LoggedIn struct {
	AccountID string    `json:"account_id"`
	SessionID string    `json:"session_id"`
	At        time.Time `json:"at"`
}

// LoginFailed records a login with a wrong password; consecutive failures
// slow the next attempts down.
type LoginFailed struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// LoggedOut records the end of one session.
type LoggedOut struct {
	AccountID string    `json:"account_id"`
	SessionID string    `json:"session_id"`
	At        time.Time `json:"at"`
}

// PasswordResetCompleted records a new password set with a reset code; it
// consumes the code and ends every session.
type PasswordResetCompleted struct {
	AccountID    string    `json:"account_id"`
	PasswordHash string    `json:"password_hash"`
	At           time.Time `json:"at"`
}

// PasswordRehashed records a hash upgraded at login after the hashing
// parameters were raised; the password itself did not change.
type PasswordRehashed struct {
	AccountID    string    `json:"account_id"`
	PasswordHash string    `json:"password_hash"`
	At           time.Time `json:"at"`
}

// NewsletterSubscribed records a subscription to the newsletter.
type NewsletterSubscribed struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// NewsletterUnsubscribed records the end of a newsletter subscription.
type NewsletterUnsubscribed struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// VideoDownloaded is download.VideoDownloaded, kept in the account codec
// because downloads recorded before they got streams of their own
// (domain/download) are on account streams: they still decode here, and
// count in Version, but change nothing. New downloads are never appended
// to an account stream.
type VideoDownloaded = download.VideoDownloaded

// EmailClaimed is the only event of an "email-<hash>" stream: the address
// belongs to AccountID. Appending it with "no stream" as expected version
// makes the address unique.
type EmailClaimed struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// AccountErased ends an account at its owner's request: its data key is
// destroyed (so every personal field sealed under it reads Erased), its
// address is released, and it accepts no command any more. Its downloads
// stay in the statistics, linked to no person.
type AccountErased struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// EmailReleased frees an "email-<tag>" stream's address when its account is
// erased, so that the address can register again as a new account.
type EmailReleased struct {
	AccountID string    `json:"account_id"`
	At        time.Time `json:"at"`
}

// EventType implements Event.
func (AccountErased) EventType() string { return AccountErasedType }

// EventType implements Event.
func (EmailReleased) EventType() string { return EmailReleasedType }

// EventType implements Event.
func (AccountRegistered) EventType() string { return AccountRegisteredType }

// EventType implements Event.
func (VerificationCodeIssued) EventType() string { return VerificationCodeIssuedType }

// EventType implements Event.
func (VerificationCodeRejected) EventType() string { return VerificationCodeRejectedType }

// EventType implements Event.
func (AccountVerified) EventType() string { return AccountVerifiedType }

// EventType implements Event.
func (PasswordSetAtVerification) EventType() string { return PasswordSetAtVerificationType }

// EventType implements Event.
func (LoggedIn) EventType() string { return LoggedInType }

// EventType implements Event.
func (LoginFailed) EventType() string { return LoginFailedType }

// EventType implements Event.
func (LoggedOut) EventType() string { return LoggedOutType }

// EventType implements Event.
func (PasswordResetCompleted) EventType() string { return PasswordResetCompletedType }

// EventType implements Event.
func (PasswordRehashed) EventType() string { return PasswordRehashedType }

// EventType implements Event.
func (NewsletterSubscribed) EventType() string { return NewsletterSubscribedType }

// EventType implements Event.
func (NewsletterUnsubscribed) EventType() string { return NewsletterUnsubscribedType }

// EventType implements Event.
func (EmailClaimed) EventType() string { return EmailClaimedType }
