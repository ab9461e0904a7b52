// Package mailpit is test support: a small client of Mailpit's HTTP API
// (https://mailpit.axllent.org), the local SMTP sink that `make test` and
// `make run` start on 127.0.0.1:1025 (SMTP) and 127.0.0.1:8025 (HTTP).
//
// Tests of any package use it to read back the mail the application sent:
//
//	mp := mailpit.Require(t) // TEST_MAILPIT_URL, default http://127.0.0.1:8025
//	msg, err := mp.WaitForMessage(ctx, "ada-1234@example.test", "Confirm")
//
// Give every test its own recipient (UniqueAddress) so that tests running in
// parallel, in this process or another, never read each other's mail.
//
// It may import the standard library only (testing included, for Require).
// Production code must not import it.
package mailpit
