package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// The attacks of issue 10 on the account commands, each walked over HTTP
// as the attacker did it.

const (
	attackerIP = "198.51.100.66"
	ownerIP    = "203.0.113.7"
)

// TestRegisteringSomeoneElsesAddressFirstGivesNoAccess (issue 10, item 2):
// the attacker registers X with their own password and logs in while X is
// unverified; the mailbox owner registers X, asks for a new code and
// verifies with their own password. The attacker's login is refused
// before verification; afterwards the attacker's password, any session and
// any device token from before verification (here one left from before
// this rule, written to the session store directly) all fail, and the
// owner's password logs in.
func TestRegisteringSomeoneElsesAddressFirstGivesNoAccess(t *testing.T) {
	policy := account.DefaultPolicy()
	policy.ResendMinInterval = 0 // the owner asks for the new code at once, not a minute after the attacker's
	e := newTestEnvWith(t, nil, policy)
	s := e.server
	x := uniqueEmail("takeover")
	const attackerPw, ownerPw = "Attacker-Secret-42!", "Owners-Own-Choice-77"

	// The attacker registers X and tries to log in while X is unverified.
	wantStatus(t, doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/accounts", "", map[string]any{"email": x, "password": attackerPw}), http.StatusAccepted)
	e.codeFromMail(t, x, "verification code") // lands in the owner's mailbox, unread by the attacker
	rec := doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/sessions", "", map[string]any{"email": x, "password": attackerPw})
	if rec.Code != http.StatusUnauthorized || errorOf(t, rec).Code != "invalid_credentials" {
		t.Fatalf("the attacker's login to the unverified account: %d %s, want 401 invalid_credentials", rec.Code, rec.Body.String())
	}
	// A wrong password and an unknown address still answer the one 401.
	for _, c := range []struct{ email, pw string }{{x, "Wrong-Guess-Pass-42!"}, {uniqueEmail("nobody"), attackerPw}} {
		rec := doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/sessions", "", map[string]any{"email": c.email, "password": c.pw})
		if rec.Code != http.StatusUnauthorized || errorOf(t, rec).Code != "invalid_credentials" {
			t.Fatalf("wrong password or unknown address: %d %s, want 401 invalid_credentials", rec.Code, rec.Body.String())
		}
	}
	// A session and a known device from before the rule (or from any
	// other way in) must not survive verification either.
	accountID := accountIDOf(t, e, x)
	legacySession, legacyDevice := "legacy-session-token-of-the-attacker-0001", "legacy-device-token-of-the-attacker-00001"
	store := sessions.New(e.pool)
	now := time.Now()
	if err := store.Create(ctxFor(t), commands.Session{ID: "0b7e8a4e-6c1d-4f5a-9a3e-2f1c0d9e8b7a", AccountID: accountID,
		TokenHash: commands.HashToken(legacySession), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := store.AddDevice(ctxFor(t), commands.Device{AccountID: accountID, TokenHash: commands.HashToken(legacyDevice),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	newsletter := func(token string) int {
		return doRequest(t, s, http.MethodPut, "/api/me/newsletter", token, map[string]any{"subscribed": true}).Code
	}
	if st := newsletter(legacySession); st != http.StatusOK { // it works before
		t.Fatalf("the legacy session before verification: %d, want 200", st)
	}

	// The owner registers X (taken: 202 and a notice), asks for a new code
	// and verifies with the password they chose.
	time.Sleep(10 * time.Millisecond) // the verification instant comes after the legacy rows
	wantStatus(t, doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/accounts", "", map[string]any{"email": x, "password": ownerPw}), http.StatusAccepted)
	wantStatus(t, doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/accounts/verification-code", "", map[string]any{"email": x}), http.StatusAccepted)
	code := e.codeFromMail(t, x, "verification code")
	rec = doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code, "password": ownerPw})
	wantStatus(t, rec, http.StatusOK)

	// The attacker's password, session and device token all fail.
	rec = doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/sessions", "", map[string]any{"email": x, "password": attackerPw})
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("the attacker's password after verification: %d %s, want 401", rec.Code, rec.Body.String())
	}
	if st := newsletter(legacySession); st != http.StatusUnauthorized {
		t.Errorf("the attacker's session after verification: %d, want 401", st)
	}
	known, err := store.UseDevice(ctxFor(t), accountID, commands.HashToken(legacyDevice), time.Now(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if known {
		t.Error("the attacker's device token still skips the login delays after verification")
	}
	// The owner logs in with the password they chose.
	login(t, s, x, ownerPw)
}

// accountIDOf reads the account id of addr from its email claim.
func accountIDOf(t *testing.T, e *testEnv, addr string) string {
	t.Helper()
	email, err := account.NormaliseEmail(addr)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.store.ReadStream(ctxFor(t), e.codes.ClaimStreamID(email), 0, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("claim of %s: %v (%d events)", addr, err, len(evs))
	}
	var claim account.EmailClaimed
	if err := json.Unmarshal(evs[0].Data, &claim); err != nil {
		t.Fatal(err)
	}
	return claim.AccountID
}

// TestVerifyNeedsAPassword: the password is required and must meet the
// rule; an unknown address answers a wrong code exactly like an account.
func TestVerifyNeedsAPassword(t *testing.T) {
	e := newTestEnv(t)
	s := e.server
	x := uniqueEmail("needspw")
	register(t, e, x)
	code := e.codeFromMail(t, x, "verification code")
	rec := doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code})
	if rec.Code != http.StatusBadRequest || errorOf(t, rec).Code != "missing_field" {
		t.Fatalf("verify without a password: %d %s, want 400 missing_field", rec.Code, rec.Body.String())
	}
	rec = doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code, "password": "short"})
	if rec.Code != http.StatusUnprocessableEntity || errorOf(t, rec).Code != "weak_password" {
		t.Fatalf("verify with a weak password: %d %s, want 422 weak_password", rec.Code, rec.Body.String())
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	real := doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": wrong, "password": strongPassword})
	phantom := doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": uniqueEmail("ghost"), "code": wrong, "password": strongPassword})
	if real.Code != phantom.Code || real.Body.String() != phantom.Body.String() || !sameHeaders(real.Header(), phantom.Header()) {
		t.Fatalf("wrong code: account %d %s %v; unknown address %d %s %v", real.Code, real.Body.String(), real.Header(),
			phantom.Code, phantom.Body.String(), phantom.Header())
	}
	wantStatus(t, doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code, "password": strongPassword}), http.StatusOK)
	login(t, s, x, strongPassword)
}

// sameHeaders compares the headers a caller sees, minus the per-request id.
func sameHeaders(a, b http.Header) bool {
	strip := func(h http.Header) http.Header {
		c := h.Clone()
		c.Del("X-Request-Id")
		c.Del("X-Correlation-Id")
		return c
	}
	x, _ := json.Marshal(strip(a))
	y, _ := json.Marshal(strip(b))
	return string(x) == string(y)
}

// TestStrangersCannotLockTheOwnerOut (issue 10, item 5): five wrong verify
// codes, a reset request and five wrong reset codes, all from a stranger,
// must not keep the owner's own fresh reset code from working, and the
// stranger's 429 says the real wait.
func TestStrangersCannotLockTheOwnerOut(t *testing.T) {
	policy := account.DefaultPolicy()
	policy.ResendMinInterval = 0 // the owner asks for a fresh code at once instead of a minute later
	e := newTestEnvWith(t, nil, policy)
	s := e.server
	x := uniqueEmail("lockout")
	register(t, e, x)
	code := e.codeFromMail(t, x, "verification code")
	wantStatus(t, doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code, "password": strongPassword}), http.StatusOK)

	post := func(ip, path string, body map[string]any) *httpResult {
		rec := doRequestFrom(t, s, ip, http.MethodPost, path, "", body)
		return &httpResult{rec.Code, rec.Header().Get("Retry-After"), rec.Body.String()}
	}
	for range 5 {
		if r := post(attackerIP, "/api/accounts/verify", map[string]any{"email": x, "code": "000000", "password": strongPassword}); r.status != http.StatusBadRequest {
			t.Fatalf("stranger's wrong verify code: %+v", r)
		}
	}
	wantStatus(t, doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/password-resets", "", map[string]any{"email": x}), http.StatusAccepted)
	strangersCode := e.codeFromMail(t, x, "reset code")
	wrong := "000000"
	if strangersCode == wrong {
		wrong = "111111"
	}
	for range 5 {
		if r := post(attackerIP, "/api/password-resets/confirm", map[string]any{"email": x, "code": wrong, "new_password": "Strangers-Pass-42!"}); r.status != http.StatusBadRequest {
			t.Fatalf("stranger's wrong reset code: %+v", r)
		}
	}
	// The stranger is stopped, and told the real wait: about an hour from
	// their first counted try, not a made-up 15 minutes.
	r := post(attackerIP, "/api/password-resets/confirm", map[string]any{"email": x, "code": wrong, "new_password": "Strangers-Pass-42!"})
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("stranger's 11th wrong code: %+v, want 429", r)
	}
	if wait, err := strconv.Atoi(r.retryAfter); err != nil || wait < 3000 || wait > 3600 {
		t.Errorf("Retry-After %q after ten wrong codes within seconds, want the real wait (about 3600 s)", r.retryAfter)
	}

	// The owner asks for a fresh reset code, from their own network, and it works.
	wantStatus(t, doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/password-resets", "", map[string]any{"email": x}), http.StatusAccepted)
	fresh := e.codeFromMail(t, x, "reset code")
	const newPw = "Owners-Fresh-Pass-77"
	if r := post(ownerIP, "/api/password-resets/confirm", map[string]any{"email": x, "code": fresh, "new_password": newPw}); r.status != http.StatusOK {
		t.Fatalf("the owner's fresh reset code after a stranger's failures: %+v, want 200", r)
	}
	// Sent again (a double click), it answers like the success.
	if r := post(ownerIP, "/api/password-resets/confirm", map[string]any{"email": x, "code": fresh, "new_password": newPw}); r.status != http.StatusOK {
		t.Fatalf("the same reset sent again: %+v, want 200", r)
	}
	login(t, s, x, newPw)
}

type httpResult struct {
	status     int
	retryAfter string
	body       string
}

// TestDoubleClickOnVerify (issue 10, item 5): twenty parallel submissions
// of the right verify code all answer 200; none burns the hourly budget.
// Sent again later it still answers 200 and records nothing; with another
// password it is a used code (400).
func TestDoubleClickOnVerify(t *testing.T) {
	// A slot for each submission: this is about the code rules, not the
	// hashing gate's 503s on a loaded machine.
	e := newTestEnv(t, func(c *Config) { c.PasswordGate = password.NewGate(20, time.Minute) })
	s := e.server
	x := uniqueEmail("dblclick")
	register(t, e, x)
	code := e.codeFromMail(t, x, "verification code")
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/accounts/verify", "", map[string]any{
				"email": x, "code": code, "password": strongPassword}).Code
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("submission %d: %d, want 200 (all: %v)", i, st, statuses)
			break
		}
	}
	accountID := accountIDOf(t, e, x)
	before := streamLength(t, e, accountID)
	wantStatus(t, doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code, "password": strongPassword}), http.StatusOK)
	if after := streamLength(t, e, accountID); after != before {
		t.Errorf("the repeated verify appended %d events, want none", after-before)
	}
	rec := doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": x, "code": code, "password": "Another-Pass-Word-42!"})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("the used code with another password: %d, want 400", rec.Code)
	}
	login(t, s, x, strongPassword)
}

func streamLength(t *testing.T, e *testEnv, accountID string) int {
	t.Helper()
	evs, err := e.store.ReadStream(context.Background(), account.StreamID(accountID), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestRegisterThenLoginTellsNothing (found by attacking the running
// binary): a stranger registers an address with a password of their own,
// then logs in with it. Were the address unknown, that created an
// unverified account whose right password was refused with 403
// account_not_verified; a taken address (verified or not) kept its owner's
// password and answered 401. Now every round answers alike, delays
// included, whichever the address was.
func TestRegisterThenLoginTellsNothing(t *testing.T) {
	e := newTestEnv(t)
	s := e.server
	const probePw = "Probers-Own-Pass-51!"
	verified, unverified, unknown := uniqueEmail("probe-verified"), uniqueEmail("probe-unverified"), uniqueEmail("probe-unknown")
	registerVerified(t, e, verified)
	wantStatus(t, doRequestFrom(t, s, ownerIP, http.MethodPost, "/api/accounts", "", map[string]any{"email": unverified, "password": "Owners-Own-Choice-77"}), http.StatusAccepted)

	type answer struct {
		status int
		code   string
	}
	answers := map[string][]answer{}
	for _, addr := range []string{verified, unverified, unknown} {
		wantStatus(t, doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/accounts", "", map[string]any{"email": addr, "password": probePw}), http.StatusAccepted)
		// Six rounds: the sixth meets the login delay that five failures start.
		for range 6 {
			rec := doRequestFrom(t, s, attackerIP, http.MethodPost, "/api/sessions", "", map[string]any{"email": addr, "password": probePw})
			answers[addr] = append(answers[addr], answer{rec.Code, errorOf(t, rec).Code})
		}
	}
	for _, addr := range []string{unverified, unknown} {
		if got, want := answers[addr], answers[verified]; !slices.Equal(got, want) {
			t.Errorf("register-then-login on %s answered %v; on a verified account %v", addr, got, want)
		}
	}
	if got := answers[unknown][0]; got.status != http.StatusUnauthorized || got.code != "invalid_credentials" {
		t.Errorf("the first login after registering an unknown address: %v, want 401 invalid_credentials", got)
	}
}
