package apperr

// The codes. Each is a value of the API's error "code"; httpapi's status
// table has a row for every one (its test checks Codes against it).
const (
	// Internal: a bug or an unexpected failure; the message is logged, not shown.
	Internal Code = "internal"
	// Unavailable: a store the service needs cannot serve now; try again.
	Unavailable Code = "unavailable"
	// Busy: too many password hashes (or data exports) are running; try
	// again shortly.
	Busy Code = "busy"
	// NotConsistentYet: a read model has not reached the write it was asked to reflect.
	NotConsistentYet Code = "not_consistent_yet"
	// ProjectionStopped: a read model is stopped at an event it cannot apply.
	ProjectionStopped Code = "projection_stopped"

	// InvalidArgument: a malformed value a command or query was given.
	InvalidArgument Code = "invalid_argument"
	// InvalidParameter: a malformed query or path parameter.
	InvalidParameter Code = "invalid_parameter"
	// InvalidPosition: a consistent_with token this server did not issue.
	InvalidPosition Code = "invalid_position"
	// InvalidCursor: a paging cursor this API did not return.
	InvalidCursor Code = "invalid_cursor"
	// InvalidLimit: a page size out of range.
	InvalidLimit Code = "invalid_limit"
	// InvalidDate, InvalidInterval, InvertedRange, RangeTooLong: a bad statistics range.
	InvalidDate     Code = "invalid_date"
	InvalidInterval Code = "invalid_interval"
	InvertedRange   Code = "inverted_range"
	RangeTooLong    Code = "range_too_long"
	// InvalidVideoID, UnknownVideo, UnexpectedParameter: a bad statistics filter.
	InvalidVideoID      Code = "invalid_video_id"
	UnknownVideo        Code = "unknown_video"
	UnexpectedParameter Code = "unexpected_parameter"
	// InvalidTag: a malformed tag filter.
	InvalidTag Code = "invalid_tag"
	// Request bodies: not JSON, the wrong JSON, too large.
	InvalidJSON     Code = "invalid_json"
	InvalidUTF8     Code = "invalid_utf8"
	UnreadableBody  Code = "unreadable_body"
	BodyTooLarge    Code = "body_too_large"
	WrongType       Code = "wrong_type"
	UnknownField    Code = "unknown_field"
	MissingField    Code = "missing_field"
	PasswordTooLong Code = "password_too_long"
	// UnsupportedMediaType: a body that is not application/json.
	UnsupportedMediaType Code = "unsupported_media_type"
	// MethodNotAllowed: a known path with another method.
	MethodNotAllowed Code = "method_not_allowed"

	// Accounts.
	InvalidEmail       Code = "invalid_email"
	WeakPassword       Code = "weak_password"
	InvalidCode        Code = "invalid_code"
	TooManyAttempts    Code = "too_many_attempts"
	InvalidCredentials Code = "invalid_credentials"
	LoginDelayed       Code = "login_delayed"
	AccountNotVerified Code = "account_not_verified"
	// WrongPassword: a password that must confirm an action (erasing the
	// account) is not the account's.
	WrongPassword Code = "wrong_password"
	// AccountErased: the account was erased; nothing can be done with it.
	AccountErased Code = "account_erased"

	// Who may ask.
	Unauthenticated Code = "unauthenticated"
	CSRFFailed      Code = "csrf_failed"
	EditingDisabled Code = "editing_disabled"
	AuditDisabled   Code = "audit_disabled"
	StatsDisabled   Code = "stats_disabled"
	NotAnAnalyst    Code = "not_an_analyst"
	RateLimited     Code = "rate_limited"

	// Things that are not there.
	NotFound         Code = "not_found"
	AccountNotFound  Code = "account_not_found"
	VideoNotFound    Code = "video_not_found"
	VideoWithdrawn   Code = "video_withdrawn"
	ArticleNotFound  Code = "article_not_found"
	ArticleWithdrawn Code = "article_withdrawn"

	// Content.
	InvalidVideo     Code = "invalid_video"
	InvalidArticle   Code = "invalid_article"
	UnknownFormat    Code = "unknown_format"
	AlreadyPublished Code = "already_published"

	// Conflict: the thing kept changing under the command; try again.
	Conflict Code = "conflict"
)

// Codes returns every code above, for tables that must cover them all.
func Codes() []Code {
	return []Code{
		Internal, Unavailable, Busy, NotConsistentYet, ProjectionStopped,
		InvalidArgument, InvalidParameter, InvalidPosition, InvalidCursor, InvalidLimit,
		InvalidDate, InvalidInterval, InvertedRange, RangeTooLong,
		InvalidVideoID, UnknownVideo, UnexpectedParameter, InvalidTag,
		InvalidJSON, InvalidUTF8, UnreadableBody, BodyTooLarge, WrongType, UnknownField, MissingField, PasswordTooLong,
		UnsupportedMediaType, MethodNotAllowed,
		InvalidEmail, WeakPassword, InvalidCode, TooManyAttempts, InvalidCredentials, LoginDelayed, AccountNotVerified, WrongPassword, AccountErased,
		Unauthenticated, CSRFFailed, EditingDisabled, AuditDisabled, StatsDisabled, NotAnAnalyst, RateLimited,
		NotFound, AccountNotFound, VideoNotFound, VideoWithdrawn, ArticleNotFound, ArticleWithdrawn,
		InvalidVideo, InvalidArticle, UnknownFormat, AlreadyPublished,
		Conflict,
	}
}
