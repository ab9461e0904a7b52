package commands

import (
	"context"
	"fmt"
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
			"Log in, or reset your password if you have forgotten it.\n",
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

// send hands a message to the (non-blocking) mailer. A failure to queue is
// not the user's problem and must not reveal anything: it is returned for
// logging only by callers that care.
func (h *Accounts) send(ctx context.Context, msg mail.Message) error {
	return h.mailer.Send(ctx, msg)
}
