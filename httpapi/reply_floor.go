package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ReplyFloors are the least times the public account endpoints take to
// answer, whatever the outcome. An address with an account and one
// without take different paths (a real account appends to the event
// store, a stand-in one writes one Postgres row; a taken address skips the
// account's append), which differed by 5 to 11 ms; held to a floor above
// the slowest path, every answer leaves at the same time and the
// difference is gone. A request that takes longer than its floor (an
// overloaded machine) is not delayed further, so keep the floors above
// what the endpoint takes under load: the timing benchmark
// (BenchmarkAccountTiming) measures both paths.
type ReplyFloors struct {
	// Off answers as soon as the answer is ready (tests, load tests).
	Off          bool
	Register     time.Duration
	ResendCode   time.Duration
	Verify       time.Duration
	Login        time.Duration
	ResetRequest time.Duration
	ResetConfirm time.Duration
}

// DefaultReplyFloors are above what each endpoint takes on a loaded
// two-core machine: the endpoints that hash a password with argon2id
// (register, verify, login, reset confirm) and those that only read and
// write a few rows (resend, reset request).
func DefaultReplyFloors() ReplyFloors {
	return ReplyFloors{
		Register: 400 * time.Millisecond, ResendCode: 150 * time.Millisecond, Verify: 400 * time.Millisecond,
		Login: 400 * time.Millisecond, ResetRequest: 150 * time.Millisecond, ResetConfirm: 400 * time.Millisecond,
	}
}

// Validate reports every negative floor.
func (f ReplyFloors) Validate() error {
	var problems []error
	for _, c := range []struct {
		name string
		d    time.Duration
	}{{"Register", f.Register}, {"ResendCode", f.ResendCode}, {"Verify", f.Verify}, {"Login", f.Login},
		{"ResetRequest", f.ResetRequest}, {"ResetConfirm", f.ResetConfirm}} {
		if c.d < 0 {
			problems = append(problems, fmt.Errorf("httpapi: ReplyFloors.%s is negative", c.name))
		}
	}
	return errors.Join(problems...)
}

// atLeast answers next's reply no earlier than floor after the request
// came in: the reply is held in memory, the wait is on the request's
// context (a caller that hangs up frees it), then status, headers and body
// go out together.
func atLeast(floor time.Duration, next http.HandlerFunc) http.HandlerFunc {
	if floor <= 0 {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		held := &heldReply{header: http.Header{}, status: http.StatusOK}
		next(held, r)
		if wait := floor - time.Since(start); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		for k, v := range held.header {
			w.Header()[k] = v
		}
		w.WriteHeader(held.status)
		_, _ = w.Write(held.body.Bytes())
	}
}

// heldReply is an http.ResponseWriter that keeps the reply for atLeast.
type heldReply struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (h *heldReply) Header() http.Header { return h.header }

func (h *heldReply) WriteHeader(status int) {
	if !h.wroteHeader {
		h.status, h.wroteHeader = status, true
	}
}

func (h *heldReply) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(p)
}
