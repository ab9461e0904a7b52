package account

import (
	"errors"
	"testing"
	"time"
)

// failures returns n failed logins, one every 10 seconds from start.
func failures(n int, start time.Time) []Event {
	var es []Event
	for i := range n {
		es = append(es, failed(start.Add(time.Duration(i)*10*time.Second)))
	}
	return es
}

func TestLogin(t *testing.T) {
	reg, ver := registered(), verified(t0)
	last5 := at(40 * time.Second) // the 5th of failures(5, t0)
	tests := []struct {
		name       string
		given      []Event
		passwordOK bool
		now        time.Time
		wantEvents []Event
		wantErr    error
		wantWait   time.Duration
	}{
		{
			name: "verified account logs in", given: []Event{reg, ver},
			passwordOK: true, now: t0, wantEvents: []Event{loggedIn("s1", t0)},
		},
		{
			// Until the address is verified the password may be a
			// stranger's: nobody logs in, and the refusal is a failed
			// login like any other (counted, delayed alike), so that
			// register-then-login tells no new address from a taken one.
			name: "unverified account: the right password fails like a wrong one", given: []Event{reg},
			passwordOK: true, now: t0, wantEvents: []Event{failed(t0)}, wantErr: ErrInvalidCredentials,
		},
		{
			name: "unverified account: a wrong password fails as usual", given: []Event{reg},
			passwordOK: false, now: t0, wantEvents: []Event{failed(t0)}, wantErr: ErrInvalidCredentials,
		},
		{
			name: "wrong password", given: []Event{reg},
			passwordOK: false, now: t0, wantEvents: []Event{failed(t0)}, wantErr: ErrInvalidCredentials,
		},
		{
			name: "4 failures: no delay", given: cat([]Event{reg, ver}, failures(4, t0)),
			passwordOK: true, now: at(31 * time.Second), wantEvents: []Event{loggedIn("s1", at(31*time.Second))},
		},
		{
			name: "5 failures: 1s delay, password not checked", given: cat([]Event{reg, ver}, failures(5, t0)),
			passwordOK: true, now: last5.Add(400 * time.Millisecond), wantErr: ErrLoginDelayed, wantWait: 600 * time.Millisecond,
		},
		{
			name: "5 failures: a wrong password in the window records nothing", given: cat([]Event{reg, ver}, failures(5, t0)),
			passwordOK: false, now: last5, wantErr: ErrLoginDelayed, wantWait: time.Second,
		},
		{
			name: "5 failures: after the delay", given: cat([]Event{reg, ver}, failures(5, t0)),
			passwordOK: true, now: last5.Add(time.Second), wantEvents: []Event{loggedIn("s1", last5.Add(time.Second))},
		},
		{
			name: "5 failures: another failure after the delay", given: cat([]Event{reg, ver}, failures(5, t0)),
			passwordOK: false, now: last5.Add(time.Second), wantEvents: []Event{failed(last5.Add(time.Second))}, wantErr: ErrInvalidCredentials,
		},
		{
			name: "success resets the count", given: cat([]Event{reg, ver}, failures(5, t0), []Event{loggedIn("s0", at(time.Minute))}, failures(4, at(2*time.Minute))),
			passwordOK: true, now: at(2*time.Minute + 30*time.Second), wantEvents: []Event{loggedIn("s1", at(2*time.Minute+30*time.Second))},
		},
		{
			name: "a password reset resets the count", given: cat([]Event{reg, ver}, failures(9, t0),
				[]Event{issued(resetPassword, "123456", t0), PasswordResetCompleted{AccountID: testID, PasswordHash: "h", At: at(90 * time.Second)}}),
			passwordOK: true, now: at(90 * time.Second), wantEvents: []Event{loggedIn("s1", at(90*time.Second))},
		},
		{name: "not registered", passwordOK: true, now: t0, wantErr: ErrNotRegistered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := given(tt.given...).Login(tt.passwordOK, "s1", tt.now)
			then(t, got, err, tt.wantEvents, tt.wantErr)
			if tt.wantWait > 0 {
				var re *RetryAfterError
				if !errors.As(err, &re) || re.Wait != tt.wantWait {
					t.Fatalf("error = %#v, want *RetryAfterError{Wait: %s}", err, tt.wantWait)
				}
			}
		})
	}
	_, err := given(reg, ver).Login(true, "", t0)
	then(t, nil, err, nil, ErrInvalidArgument)
}

// TestLoginFromKnownDevice: a device that logged in before is not held
// back by the delays others' failures caused; its own failures still count.
func TestLoginFromKnownDevice(t *testing.T) {
	reg := registered()
	delayed := cat([]Event{reg, verified(t0)}, failures(9, t0)) // 16 s from the last failure
	now := at(81 * time.Second)                                 // 1 s after the 9th
	if given(delayed...).LoginRetryAfter(now) == 0 {
		t.Fatal("the account is not delayed: the test proves nothing")
	}
	got, err := given(delayed...).LoginFromKnownDevice(true, "s1", now)
	then(t, got, err, []Event{loggedIn("s1", now)}, nil)
	got, err = given(delayed...).LoginFromKnownDevice(false, "s1", now)
	then(t, got, err, []Event{failed(now)}, ErrInvalidCredentials)
	_, err = given().LoginFromKnownDevice(true, "s1", now)
	then(t, nil, err, nil, ErrNotRegistered)
}

func TestLoginDelayGrowth(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {4, 0}, {5, time.Second}, {6, 2 * time.Second}, {7, 4 * time.Second}, {8, 8 * time.Second},
		{14, 512 * time.Second}, {15, 15 * time.Minute}, {40, 15 * time.Minute}, {500, 15 * time.Minute},
	}
	for _, tt := range tests {
		var history []Event
		history = append(history, registered())
		for range tt.failures {
			history = append(history, failed(t0)) // all at t0: the delay is from the last
		}
		a := given(history...)
		if got := a.LoginRetryAfter(t0); got != tt.want {
			t.Errorf("after %d failures: LoginRetryAfter = %s, want %s", tt.failures, got, tt.want)
		}
		// No permanent lock: once the delay is over, the attempt goes ahead.
		if got := a.LoginRetryAfter(t0.Add(tt.want)); got != 0 {
			t.Errorf("after %d failures and the delay: %s left, want 0", tt.failures, got)
		}
	}
}

func TestLogoutAndRehash(t *testing.T) {
	a := given(registered(), loggedIn("s1", t0))
	got, err := a.Logout("s1", at(time.Minute))
	then(t, got, err, []Event{LoggedOut{AccountID: testID, SessionID: "s1", At: at(time.Minute)}}, nil)
	_, err = a.Logout("s2", at(time.Minute))
	then(t, nil, err, nil, ErrUnknownSession)
	_, err = given(registered(), loggedIn("s1", t0), LoggedOut{AccountID: testID, SessionID: "s1"}).Logout("s1", t0)
	then(t, nil, err, nil, ErrUnknownSession)

	got, err = a.RehashPassword("$argon2id$strong", t0)
	then(t, got, err, []Event{PasswordRehashed{AccountID: testID, PasswordHash: "$argon2id$strong", At: t0}}, nil)
	_, err = a.RehashPassword("", t0)
	then(t, nil, err, nil, ErrInvalidArgument)
}
