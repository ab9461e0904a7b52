package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// TestStatusOfEveryCode checks the code-to-status table row by row
// against the statuses the API has always answered (and the OpenAPI
// document lists), and that every code apperr declares has a row.
func TestStatusOfEveryCode(t *testing.T) {
	want := map[apperr.Code]int{
		apperr.Internal: 500, apperr.Unavailable: 503, apperr.Busy: 503, apperr.NotConsistentYet: 503, apperr.ProjectionStopped: 503,

		apperr.InvalidArgument: 400, apperr.InvalidParameter: 400, apperr.InvalidPosition: 400, apperr.InvalidCursor: 400,
		apperr.InvalidLimit: 400, apperr.InvalidDate: 400, apperr.InvalidInterval: 400, apperr.InvertedRange: 400,
		apperr.RangeTooLong: 400, apperr.InvalidVideoID: 400, apperr.UnknownVideo: 400, apperr.UnexpectedParameter: 400,
		apperr.InvalidTag: 400, apperr.InvalidJSON: 400, apperr.InvalidUTF8: 400, apperr.UnreadableBody: 400,
		apperr.BodyTooLarge: 400, apperr.WrongType: 400, apperr.UnknownField: 400, apperr.MissingField: 400,
		apperr.PasswordTooLong: 400, apperr.UnsupportedMediaType: 415, apperr.MethodNotAllowed: 405,

		apperr.InvalidEmail: 400, apperr.WeakPassword: 422, apperr.InvalidCode: 400, apperr.TooManyAttempts: 429,
		apperr.InvalidCredentials: 401, apperr.LoginDelayed: 429, apperr.AccountNotVerified: 403,
		apperr.WrongPassword: 403, apperr.AccountErased: 401,

		apperr.Unauthenticated: 401, apperr.CSRFFailed: 403, apperr.EditingDisabled: 403, apperr.AuditDisabled: 403,
		apperr.StatsDisabled: 403, apperr.NotAnAnalyst: 403, apperr.RateLimited: 429,

		apperr.NotFound: 404, apperr.AccountNotFound: 404, apperr.VideoNotFound: 404, apperr.VideoWithdrawn: 404,
		apperr.ArticleNotFound: 404, apperr.ArticleWithdrawn: 404,

		apperr.InvalidVideo: 400, apperr.InvalidArticle: 400, apperr.UnknownFormat: 400, apperr.AlreadyPublished: 409,
		apperr.Conflict: 409,
	}
	for _, code := range apperr.Codes() {
		t.Run(string(code), func(t *testing.T) {
			w, ok := want[code]
			if !ok {
				t.Fatalf("no expected status for %s in this test: add the row", code)
			}
			got, ok := statusOf[code]
			if !ok {
				t.Fatalf("statusOf has no row for %s", code)
			}
			if got != w {
				t.Errorf("status of %s = %d, want %d", code, got, w)
			}
			if status, e := reply(apperr.New(code, "m")); status != w || e.Code != code {
				t.Errorf("reply(%s) = %d %s, want %d %s", code, status, e.Code, w, code)
			}
		})
	}
	if len(statusOf) != len(apperr.Codes()) {
		t.Errorf("statusOf has %d rows for %d codes: a row for a code apperr does not declare", len(statusOf), len(apperr.Codes()))
	}
}

// TestReplyMessages: a 4xx tells the client the error's own words; a 5xx
// that was not built for the client says nothing of the cause; one built
// for the client (a request the instance cannot serve) keeps its words.
func TestReplyMessages(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:5432: connection refused (user secret_user)")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   apperr.Code
		wantMsg    string
		wantRetry  time.Duration
	}{
		{"command conflict", fmt.Errorf("account 1: %w", commands.ErrConflict), http.StatusConflict, apperr.Conflict,
			"account 1: too many concurrent changes, try again", 0},
		{"store down in a command", fmt.Errorf("load: %w: %w", commands.ErrUnavailable, cause), http.StatusServiceUnavailable,
			apperr.Unavailable, unavailableMessage, 0},
		{"event store down in a query", &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Err: cause}, http.StatusServiceUnavailable,
			apperr.Unavailable, unavailableMessage, 0},
		{"EventStoreDB refuses the service's credentials", &eventstore.Error{Code: eventstore.ErrorCodePermissionDenied, Err: cause},
			http.StatusServiceUnavailable, apperr.Unavailable, unavailableMessage, 0},
		{"EventStoreDB stream deleted", fmt.Errorf("read: %w", &eventstore.Error{Code: eventstore.ErrorCodeStreamDeleted, Stream: "account-1"}),
			http.StatusNotFound, apperr.NotFound, "what this request is about was deleted", 0},
		{"a bug", cause, http.StatusInternalServerError, apperr.Internal, internalMessage, 0},
		{"built for the client", apperr.New(apperr.Unavailable, "profiles are not served by this instance"), http.StatusServiceUnavailable,
			apperr.Unavailable, "profiles are not served by this instance", 0},
		{"wrong code", fmt.Errorf("verify: %w", account.ErrWrongCode), http.StatusBadRequest, apperr.InvalidCode,
			"the code is wrong or has expired; check it or ask for a new one", 0},
		{"login delayed", &account.RetryAfterError{Wait: 1500 * time.Millisecond}, http.StatusTooManyRequests, apperr.LoginDelayed,
			"too many failed logins, retry later (retry after 1.5s)", 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := reply(tt.err)
			if status != tt.wantStatus || e.Code != tt.wantCode || e.Message != tt.wantMsg || e.RetryAfter != tt.wantRetry {
				t.Errorf("reply = %d %s %q retry %v, want %d %s %q retry %v", status, e.Code, e.Message, e.RetryAfter,
					tt.wantStatus, tt.wantCode, tt.wantMsg, tt.wantRetry)
			}
		})
	}
}
