package account

import (
	"testing"
	"time"
)

func TestCanDownload(t *testing.T) {
	reg := registered()
	ver := verified(at(time.Minute))
	if err := given(reg, ver).CanDownload(); err != nil {
		t.Fatalf("CanDownload on a verified account: %v", err)
	}
	then(t, nil, given(reg).CanDownload(), nil, ErrNotVerified)
}

func TestEmailClaim(t *testing.T) {
	const other = "11111111-1111-1111-1111-111111111111"
	claimed := EmailClaimed{AccountID: testID, At: t0}
	tests := []struct {
		name       string
		given      []Event
		id         string
		wantEvents []Event
		wantErr    error
	}{
		{"free address", nil, testID, []Event{claimed}, nil},
		{"retried by the same account: no event", []Event{claimed}, testID, nil, nil},
		{"taken by another account", []Event{claimed}, other, nil, ErrEmailTaken},
		{"bad id", nil, "x", nil, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := EmailClaimFromHistory(tt.given)
			got, err := c.Claim(tt.id, t0)
			then(t, got, err, tt.wantEvents, tt.wantErr)
			if got, want := c.Version(), len(tt.given); got != want {
				t.Fatalf("Version = %d, want %d", got, want)
			}
		})
	}
	if got := EmailClaimFromHistory([]Event{&claimed}).ClaimedBy(); got != testID {
		t.Fatalf("ClaimedBy = %q, want %q", got, testID)
	}
}
