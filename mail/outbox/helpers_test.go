package outbox

import (
	"errors"
	"net"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
