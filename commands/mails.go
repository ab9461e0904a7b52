package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/mail"
)

// The texts of the account emails, after the portal's account page.

func codeMail(to account.Email, purpose account.Purpose, code account.Code, ttl time.Duration) mail.Message {
	subject, intro := "Your NATO Multimedia verification code", "Enter this code to verify your account:"
	if purpose == account.PurposeResetPassword {
		subject, intro = "Your NATO Multimedia password reset code", "Enter this code to reset your password:"
	}
	return mail.Message{
		To:      to.String(),
		Subject: subject,
		Text: fmt.Sprintf("%s\n\n    %s\n\nThis code will expire in %d minutes.\n\n"+
			"Didn't ask for it? You can ignore this email; nothing changes without the code.\n",
			intro, code.Reveal(), int(ttl/time.Minute)),
	}
}

func alreadyRegisteredMail(to account.Email) mail.Message {
	return mail.Message{
		To:      to.String(),
		Subject: "You already have a NATO Multimedia account",
		Text: "Someone, perhaps you, tried to create an account with this address, which already has one.\n\n" +
			"Log in, or reset your password if you have forgotten it.\n\n" +
			"If you have not confirmed this address yet, ask for a new verification code (\"Send new code\") " +
			"and enter it together with the password you want: nobody can log in before that.\n",
	}
}

func passwordChangedMail(to account.Email, at time.Time) mail.Message {
	return mail.Message{
		To:      to.String(),
		Subject: "Your NATO Multimedia password has been updated",
		Text: fmt.Sprintf("Your password was changed on %s UTC and every session was logged out.\n\n"+
			"If this was not you, reset your password now and contact us.\n", at.UTC().Format("2 January 2006 at 15:04")),
	}
}

// noticeTTL is how long a notice is worth delivering.
const noticeTTL = 24 * time.Hour

// mailFunc makes the mail a decision sends; update calls it only when the
// decision succeeded with events, at the time now the events carry.
type mailFunc func(now time.Time) mail.Envelope

// codeMailFor is the mail of a code issued by the decision; code is read
// when the mail is made, after the decision set it.
func (h *Accounts) codeMailFor(email account.Email, purpose account.Purpose, code *account.Code) mailFunc {
	return func(now time.Time) mail.Envelope {
		kind := mail.KindVerificationCode
		if purpose == account.PurposeResetPassword {
			kind = mail.KindResetCode
		}
		return mail.Envelope{Message: codeMail(email, purpose, *code, h.policy.CodeTTL), Kind: kind, ExpiresAt: now.Add(h.policy.CodeTTL)}
	}
}

// passwordChangedMailFor is the notice of a password reset.
func passwordChangedMailFor(email account.Email) mailFunc {
	return func(now time.Time) mail.Envelope {
		return mail.Envelope{Message: passwordChangedMail(email, now), Kind: mail.KindPasswordChanged, ExpiresAt: now.Add(noticeTTL)}
	}
}

// queueNotice queues a mail that reports no stored change (ready at once).
func (h *Accounts) queueNotice(ctx context.Context, env mail.Envelope) error {
	if _, err := h.outbox.Enqueue(ctx, env); err != nil {
		return fmt.Errorf("queue a %s mail: %w: %w", env.Kind, ErrUnavailable, err)
	}
	return nil
}

// queueMails queues the mails of a decision, unconfirmed, tied to the last
// of its events (they are appended atomically), before the append.
func (h *Accounts) queueMails(ctx context.Context, mails []mailFunc, now time.Time, ref mail.EventRef) ([]string, error) {
	ids := make([]string, 0, len(mails))
	for _, f := range mails {
		env := f(now)
		env.After = &ref
		id, err := h.outbox.Enqueue(ctx, env)
		if err != nil {
			h.settleMails(ctx, ids, false)
			return nil, fmt.Errorf("queue a %s mail: %w: %w", env.Kind, ErrUnavailable, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// settleMails confirms (the append succeeded) or discards (it was refused)
// queued mails. It outlives the request's cancellation, briefly: a mail
// left unconfirmed is still settled by the outbox's relay, which looks for
// its event, only later.
func (h *Accounts) settleMails(ctx context.Context, ids []string, confirm bool) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, id := range ids {
		var err error
		if confirm {
			err = h.outbox.Confirm(ctx, id)
		} else {
			err = h.outbox.Discard(ctx, id)
		}
		if err != nil {
			slog.WarnContext(ctx, "mail not settled: the outbox relay will settle it from the event store", "mail_id", id, "confirm", confirm, "error", err)
		}
	}
}

// mailFaults are test hooks (set through export_test.go): a non-nil error
// from one ends the command at that point, leaving the database as a
// crash there would.
type mailFaults struct {
	afterQueue  func() error
	afterAppend func() error
}

func (f mailFaults) check(hook func() error) error {
	if hook == nil {
		return nil
	}
	return hook()
}
