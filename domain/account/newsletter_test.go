package account

import (
	"testing"
	"time"
)

func TestNewsletter(t *testing.T) {
	plain := registered()
	withFlag := registered()
	withFlag.Newsletter = true
	sub := NewsletterSubscribed{AccountID: testID, At: at(time.Minute)}
	unsub := NewsletterUnsubscribed{AccountID: testID, At: at(time.Minute)}
	tests := []struct {
		name       string
		given      []Event
		subscribe  bool
		wantEvents []Event
		wantErr    error
	}{
		{"subscribe", []Event{plain}, true, []Event{sub}, nil},
		{"subscribe twice: no event", []Event{plain, sub}, true, nil, nil},
		{"subscribed at registration: no event", []Event{withFlag}, true, nil, nil},
		{"unsubscribe", []Event{withFlag}, false, []Event{unsub}, nil},
		{"unsubscribe twice: no event", []Event{withFlag, unsub}, false, nil, nil},
		{"unsubscribe never subscribed: no event", []Event{plain}, false, nil, nil},
		{"resubscribe", []Event{plain, sub, unsub}, true, []Event{sub}, nil},
		{"not registered", nil, true, nil, ErrNotRegistered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := given(tt.given...)
			got, err := a.SetNewsletter(tt.subscribe, at(time.Minute))
			then(t, got, err, tt.wantEvents, tt.wantErr)
			if tt.wantErr == nil && len(tt.wantEvents) == 0 && got != nil {
				t.Fatalf("idempotent call returned %#v, want nil", got)
			}
			// Subscribe and Unsubscribe decide the same.
			var direct []Event
			if tt.subscribe {
				direct, err = a.Subscribe(at(time.Minute))
			} else {
				direct, err = a.Unsubscribe(at(time.Minute))
			}
			then(t, direct, err, tt.wantEvents, tt.wantErr)
		})
	}
}
