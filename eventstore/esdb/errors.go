package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// op is the kind of call an error came from: the same server answer means
// different things for an append and for a read.
type op int

const (
	opAppend op = iota + 1
	opRead
	opSubscribe
)

// classify turns a client error into the port's error, keeping it as the
// cause. What the server said is read from the client's error code and,
// where the client leaves that unknown, from the gRPC status it wraps
// (RpcExceptions.cs in the server):
//
//   - stream-deleted (FailedPrecondition): ErrStreamDeleted;
//   - PermissionDenied, Unauthenticated: ErrPermissionDenied;
//   - Aborted "Operation timed out": on an append ErrOutcomeUnknown (the
//     server may have written it), on a read ErrUnavailable;
//   - InvalidArgument: "invalid position" is ErrInvalidPosition, the
//     maximum append size is ErrInvalidArgument naming it, anything else
//     ErrInvalidArgument;
//   - not-leader, Unavailable, a lost connection: ErrUnavailable.
func classify(ctx context.Context, o op, what, stream string, err error) error {
	if ctx.Err() != nil {
		return unavailable(ctx, what, err)
	}
	code := kdb.ErrorCodeUnknown
	var ke *kdb.Error
	if errors.As(err, &ke) {
		code = ke.Code()
	}
	grpcCode, grpcMsg := codes.Unknown, ""
	if st, ok := grpcStatus(err); ok {
		grpcCode, grpcMsg = st.Code(), st.Message()
	}
	fail := func(c eventstore.ErrorCode, msg string) error {
		return &eventstore.Error{Code: c, Stream: stream, Message: msg, Err: err}
	}
	switch {
	case code == kdb.ErrorCodeStreamDeleted || (grpcCode == codes.FailedPrecondition && strings.Contains(grpcMsg, "is deleted")):
		return fail(eventstore.ErrorCodeStreamDeleted, fmt.Sprintf("%s: the stream is deleted for good (tombstoned, or soft-deleted and expected to exist)", what))
	case code == kdb.ErrorCodeAccessDenied || code == kdb.ErrorCodeUnauthenticated ||
		grpcCode == codes.PermissionDenied || grpcCode == codes.Unauthenticated:
		return fail(eventstore.ErrorCodePermissionDenied, fmt.Sprintf("%s: the server refused the credentials (check the connection string's user and the stream ACLs)", what))
	case code == kdb.ErrorAborted || grpcCode == codes.Aborted:
		if o == opAppend {
			return fail(eventstore.ErrorCodeOutcomeUnknown, fmt.Sprintf("%s: the server timed the append out; it may or may not be stored "+
				"(append the same events with the same expected version again to find out)", what))
		}
		return fail(eventstore.ErrorCodeUnavailable, fmt.Sprintf("%s: the server timed out", what))
	case grpcCode == codes.InvalidArgument && strings.Contains(strings.ToLower(grpcMsg), "invalid position"):
		return fail(eventstore.ErrorCodeInvalidPosition, fmt.Sprintf("%s: the server has no event at this $all position "+
			"(a checkpoint from another event store, or from a pre-v20 node?): %s", what, grpcMsg))
	case grpcCode == codes.InvalidArgument && strings.Contains(grpcMsg, "Maximum Append Size"):
		return fail(eventstore.ErrorCodeInvalidArgument, fmt.Sprintf("%s: over the server's maximum append size: %s "+
			"(set Options.MaxAppendBytes to the node's MaxAppendSize)", what, grpcMsg))
	case grpcCode == codes.InvalidArgument:
		return fail(eventstore.ErrorCodeInvalidArgument, fmt.Sprintf("%s: the server refused the request: %s", what, grpcMsg))
	case code == kdb.ErrorCodeNotLeader:
		return fail(eventstore.ErrorCodeUnavailable, fmt.Sprintf("%s: the node is not the leader; the client reconnects to the leader", what))
	}
	return unavailable(ctx, what, err)
}

// grpcStatus finds the gRPC status in err's chain: the client keeps it
// inside its own error, and subscriptions hand it out bare.
func grpcStatus(err error) (*status.Status, bool) {
	var s interface{ GRPCStatus() *status.Status }
	if errors.As(err, &s) {
		return s.GRPCStatus(), true
	}
	return nil, false
}

// isNotLeader reports a follower's refusal, after which the client has
// reconnected to the leader.
func isNotLeader(err error) bool {
	var e *kdb.Error
	return errors.As(err, &e) && e.Code() == kdb.ErrorCodeNotLeader
}

// permanent tells subscription failures that subscribing again cannot
// mend, as the port error to return.
func permanent(ctx context.Context, after eventstore.Position, err error) (error, bool) {
	what := "subscribe to $all after " + after.String()
	if eventstore.CodeOf(err) == eventstore.ErrorCodeUnavailable {
		return err, true // only the closed store answers with a port error here
	}
	var e *kdb.Error
	if errors.As(err, &e) && e.Code() == kdb.ErrorCodeUnsupportedFeature {
		return unavailable(ctx, what, err), true
	}
	mapped := classify(ctx, opSubscribe, what, "", err)
	switch eventstore.CodeOf(mapped) {
	case eventstore.ErrorCodeInvalidPosition, eventstore.ErrorCodeInvalidArgument, eventstore.ErrorCodePermissionDenied:
		return mapped, true
	}
	return nil, false
}
