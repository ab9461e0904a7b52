package apperr

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/video"
)

// TestFrom: an *Error on the chain keeps its code and takes the chain's
// text; domain errors get the table's code and wording, with what
// WithDetail named; anything else is Internal, its cause kept.
func TestFrom(t *testing.T) {
	weak := account.CheckPassword("short", account.Email{})
	if weak == nil {
		t.Fatal("CheckPassword accepted a short password")
	}
	sentinel := New(Conflict, "kept changing")
	bug := errors.New("nil map")
	tests := []struct {
		name        string
		err         error
		wantCode    Code
		wantMessage string
		wantDetails map[string]any
	}{
		{"wrapped *Error", fmt.Errorf("account 7: %w", sentinel), Conflict, "account 7: kept changing", nil},
		{"Errorf", Errorf(NotFound, "no %s: %w", "thing", bug), NotFound, "no thing: nil map", nil},
		{"Errorf, two causes", Errorf(Conflict, "%w and %w", sentinel, bug), Conflict, "kept changing and nil map", nil},
		{"weak password, default field", weak, WeakPassword, "the password does not meet the password rule",
			map[string]any{"field": "password"}},
		{"weak password, field named", WithDetail(fmt.Errorf("reset: %w", weak), "field", "new_password"), WeakPassword,
			"the password does not meet the password rule", map[string]any{"field": "new_password"}},
		{"video not found, id named", WithDetail(video.ErrNotFound, "video_id", "v1"), VideoNotFound, "no video v1",
			map[string]any{"video_id": "v1"}},
		{"video not found, no id", fmt.Errorf("update: %w", video.ErrNotFound), VideoNotFound, "update: video not found", nil},
		{"unknown format", &video.UnknownFormatError{Format: "mp3", Available: []string{"mp4-1080p"}}, UnknownFormat,
			`field "format": this video has no format "mp3"; available: mp4-1080p`,
			map[string]any{"field": "format", "available": []string{"mp4-1080p"}}},
		{"unverified login reads as bad credentials", fmt.Errorf("%w: %w", account.ErrInvalidCredentials, account.ErrNotVerified),
			InvalidCredentials, "the email address or the password is wrong", nil},
		{"download without a format", fmt.Errorf("%w: video id and format are required", download.ErrInvalidArgument), InvalidArgument,
			"invalid argument: video id and format are required", nil},
		{"unknown", bug, Internal, "internal error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := From(tt.err)
			if got.Code != tt.wantCode || got.Message != tt.wantMessage {
				t.Errorf("From = %s %q, want %s %q", got.Code, got.Message, tt.wantCode, tt.wantMessage)
			}
			for k, v := range tt.wantDetails {
				if fmt.Sprint(got.Details[k]) != fmt.Sprint(v) {
					t.Errorf("detail %s = %v, want %v (all: %v)", k, got.Details[k], v, got.Details)
				}
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("From(err) does not wrap err")
			}
		})
	}
	if From(nil) != nil {
		t.Error("From(nil) != nil")
	}
}

// TestWithDetailsCopies: a sentinel given details stays as it was.
func TestWithDetailsCopies(t *testing.T) {
	s := New(InvalidCursor, "bad cursor")
	d := s.WithDetails(map[string]any{"parameter": "cursor"})
	if s.Details != nil || !maps.Equal(d.Details, map[string]any{"parameter": "cursor"}) {
		t.Fatalf("sentinel details %v, copy %v", s.Details, d.Details)
	}
}

// TestPublic: only an *Error at the top of the chain, without a cause, was
// built for the client.
func TestPublic(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{New(Unavailable, "not served here"), true},
		{Wrap(Unavailable, errors.New("dial"), "db down"), false},
		{fmt.Errorf("x: %w", New(Unavailable, "y")), false},
		{errors.New("plain"), false},
	} {
		if got := Public(tt.err); got != tt.want {
			t.Errorf("Public(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
