package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOneMailboxOneSpelling is issue 10's item 4: `<x@…>`, `"x"@…`,
// `"\x"@…` and `Name <x@…>` each registered a new account and each mailed
// x@… (net/mail unwraps them). Now each is refused with 400 invalid_email
// naming why, on every endpoint that takes an address, and x gets exactly
// the one mail of its own registration.
func TestOneMailboxOneSpelling(t *testing.T) {
	e := newTestEnv(t)
	x := uniqueEmail("spelling")
	local, domain, _ := strings.Cut(x, "@")
	for _, c := range []struct{ in, reason, says string }{
		{"<" + x + ">", "angle_brackets", "angle brackets"},
		{`"` + local + `"@` + domain, "quoted_local_part", "quote"},
		{`"\` + local + `"@` + domain, "quoted_local_part", "quote"},
		{"Name <" + x + ">", "display_name", "name before it"},
		{local + "(work)@" + domain, "comment", "comment"},
	} {
		for _, path := range []string{"/api/accounts", "/api/password-resets", "/api/accounts/verification-code"} {
			rec := doRequest(t, e.server, http.MethodPost, path, "", map[string]any{"email": c.in, "password": strongPassword})
			if path != "/api/accounts" {
				rec = doRequest(t, e.server, http.MethodPost, path, "", map[string]any{"email": c.in})
			}
			wantStatus(t, rec, http.StatusBadRequest)
			got := errorOf(t, rec)
			if got.Code != "invalid_email" || got.Details["reason"] != c.reason || got.Details["field"] != "email" || !strings.Contains(got.Message, c.says) {
				t.Errorf("%s %s: %+v, want invalid_email, reason %s, saying %q", path, c.in, got, c.reason, c.says)
			}
			if strings.Contains(got.Message, domain) {
				t.Errorf("the message repeats the address: %q", got.Message)
			}
		}
	}
	register(t, e, x)
	e.codeFromMail(t, x, "verification code")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	time.Sleep(200 * time.Millisecond) // a mail the refusals queued would be in by now
	msgs, err := e.mailpit.Search(ctx, `to:"`+x+`"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 { // codeFromMail deleted the one mail of the registration
		t.Errorf("%d more mails to %s: other spellings reached the mailbox", len(msgs), x)
	}
}
