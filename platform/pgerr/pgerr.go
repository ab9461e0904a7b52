package pgerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multimedia-portal/multimedia/apperr"
)

// Unavailable reports errors that say the database cannot serve now, not
// that the query is wrong.
func Unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08 connection exception, 53 insufficient resources, 57 operator
		// intervention (shutdown, cannot connect now), 58 system error,
		// 3D000 the database does not exist (dropped).
		switch pgErr.Code[:min(2, len(pgErr.Code))] {
		case "08", "53", "57", "58":
			return true
		}
		return pgErr.Code == "3D000"
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// Mark returns err unchanged unless Unavailable(err); then it wraps it in
// an application error of code apperr.Unavailable (matched by
// errors.Is(err, ErrUnavailable)), so that the HTTP layer answers 503, as
// it does when the event store is down.
func Mark(err error) error {
	if err == nil || !Unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// ErrUnavailable is the read-model database failing to serve.
var ErrUnavailable = apperr.New(apperr.Unavailable, "read-model database unavailable")
