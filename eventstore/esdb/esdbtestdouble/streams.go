package esdbtestdouble

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type streamsService struct {
	streams.UnimplementedStreamsServer
	srv *Server
}

// Append reads the options, then the proposed events, then answers once.
func (s *streamsService) Append(call streams.Streams_AppendServer) error {
	first, err := call.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "append: the first message must carry the options")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return status.Error(codes.InvalidArgument, "append: empty stream name")
	}
	var exp expectation
	switch r := opts.ExpectedStreamRevision.(type) {
	case *streams.AppendReq_Options_Revision:
		exp = expectation{kind: expectRevision, revision: r.Revision}
	case *streams.AppendReq_Options_NoStream:
		exp = expectation{kind: expectNoStream}
	case *streams.AppendReq_Options_StreamExists:
		exp = expectation{kind: expectExists}
	default:
		exp = expectation{kind: expectAny}
	}
	s.srv.conditions[exp.kind].Add(1)
	var events []proposed
	size, limit := 0, int(s.srv.maxAppendSize.Load())
	for {
		msg, err := call.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		m := msg.GetProposedMessage()
		if m == nil {
			return status.Error(codes.InvalidArgument, "append: options sent twice")
		}
		id, ok := fromProtoUUID(m.GetId())
		if !ok {
			return status.Error(codes.InvalidArgument, "append: bad event id")
		}
		p := proposed{
			id: id, eventType: m.GetMetadata()["type"], contentType: m.GetMetadata()["content-type"],
			data: m.GetData(), metadata: m.GetCustomMetadata(),
		}
		// Like the server, refuse as soon as the running total passes the
		// limit, while the client may still be sending: it then sees its
		// stream end (EOF) rather than this status.
		if size += p.size(); size > limit {
			call.SetTrailer(metadata.Pairs("exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(limit)))
			return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", limit)
		}
		events = append(events, p)
	}
	if err := call.Context().Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	fault := s.srv.nextFault(OnAppend)
	switch fault {
	case 0, FaultTimeout:
	default:
		return s.srv.faultError(fault, call.SetTrailer)
	}
	out := s.srv.log.appendEvents(stream, exp, events)
	if fault == FaultTimeout {
		return s.srv.faultError(fault, call.SetTrailer)
	}
	if out.deleted {
		return streamDeleted(stream, call.SetTrailer)
	}
	if !out.ok {
		return call.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{
			WrongExpectedVersion: wrongExpectedVersion(exp, out.current)}})
	}
	ok := &streams.AppendResp_Success{}
	if out.current < 0 {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(out.current)}
	}
	// A repeated append is answered with the position of its last event,
	// as the server looks it up (IndexWriter.CheckCommit); older servers
	// answered without one, which the adapter copes with too.
	ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
		CommitPosition: out.commit, PreparePosition: out.prepare}}
	return call.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}})
}

func wrongExpectedVersion(exp expectation, current int64) *streams.AppendResp_WrongExpectedVersion {
	w := &streams.AppendResp_WrongExpectedVersion{}
	if current < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	switch exp.kind {
	case expectRevision:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
	case expectNoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	}
	return w
}

// Read serves stream reads, $all reads and $all subscriptions.
func (s *streamsService) Read(req *streams.ReadReq, call streams.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "read: no options")
	}
	filter, err := compileFilter(opts.GetFilter())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	asString := opts.GetUuidOption().GetString_() != nil
	backwards := opts.GetReadDirection() == streams.ReadReq_Options_Backwards
	count := uint64(1<<63 - 1)
	subscribe := opts.GetSubscription() != nil
	if !subscribe {
		count = opts.GetCount()
	}
	send := func(r *record) error {
		return call.Send(&streams.ReadResp{Content: &streams.ReadResp_Event{Event: toReadEvent(r, asString)}})
	}
	if !subscribe {
		if f := s.srv.nextFault(OnRead); f != 0 {
			return s.srv.faultError(f, call.SetTrailer)
		}
	}

	if so := opts.GetStream(); so != nil {
		if subscribe {
			return status.Error(codes.Unimplemented, "the test double has no stream subscriptions")
		}
		name := string(so.GetStreamIdentifier().GetStreamName())
		recs, tombstoned := s.srv.log.readable(name)
		if tombstoned {
			return streamDeleted(name, call.SetTrailer)
		}
		if len(recs) == 0 {
			return call.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
				StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)}}}})
		}
		// recs are the visible events: revisions from recs[0].revision on.
		first, last := recs[0].revision, recs[len(recs)-1].revision
		var sent uint64
		if backwards {
			from := last
			if r, ok := so.RevisionOption.(*streams.ReadReq_Options_StreamOptions_Revision); ok && r.Revision < last {
				from = r.Revision
			}
			for rev := int64(from); rev >= int64(first) && sent < count; rev-- {
				if err := send(recs[uint64(rev)-first]); err != nil {
					return err
				}
				sent++
			}
			return nil
		}
		from := first
		switch r := so.RevisionOption.(type) {
		case *streams.ReadReq_Options_StreamOptions_Revision:
			from = max(r.Revision, first)
		case *streams.ReadReq_Options_StreamOptions_End:
			from = last + 1
		}
		for rev := from; rev <= last && sent < count; rev++ {
			if err := send(recs[rev-first]); err != nil {
				return err
			}
			sent++
		}
		return nil
	}

	ao := opts.GetAll()
	if ao == nil {
		return status.Error(codes.InvalidArgument, "read: neither a stream nor $all")
	}
	if p, ok := ao.AllOption.(*streams.ReadReq_Options_AllOptions_Position); ok &&
		!s.srv.log.validPosition(p.Position.GetCommitPosition(), p.Position.GetPreparePosition()) {
		if subscribe {
			// The server confirms the subscription, then fails it when its
			// first read meets the position.
			if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{
				Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}); err != nil {
				return err
			}
		}
		return status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
	}
	all, _ := s.srv.log.snapshot()
	if subscribe {
		start := 0
		switch p := ao.AllOption.(type) {
		case *streams.ReadReq_Options_AllOptions_Position:
			start = firstAfter(all, p.Position.GetCommitPosition(), p.Position.GetPreparePosition())
		case *streams.ReadReq_Options_AllOptions_End:
			start = len(all)
		}
		return s.subscribe(call, start, filter, asString)
	}
	var sent uint64
	if backwards {
		from := len(all) - 1
		if p, ok := ao.AllOption.(*streams.ReadReq_Options_AllOptions_Position); ok {
			from = firstAtOrAfter(all, p.Position.GetCommitPosition(), p.Position.GetPreparePosition()) - 1
		} else if _, ok := ao.AllOption.(*streams.ReadReq_Options_AllOptions_Start); ok {
			from = -1
		}
		for i := from; i >= 0 && sent < count; i-- {
			if !filter.match(all[i]) {
				continue
			}
			if err := send(all[i]); err != nil {
				return err
			}
			sent++
		}
		return nil
	}
	from := 0
	switch p := ao.AllOption.(type) {
	case *streams.ReadReq_Options_AllOptions_Position:
		from = firstAtOrAfter(all, p.Position.GetCommitPosition(), p.Position.GetPreparePosition())
	case *streams.ReadReq_Options_AllOptions_End:
		from = len(all)
	}
	for i := from; i < len(all) && sent < count; i++ {
		if !filter.match(all[i]) {
			continue
		}
		if err := send(all[i]); err != nil {
			return err
		}
		sent++
	}
	return nil
}

// subscribe confirms, catches up from all[start:], says it caught up, then
// follows live writes until the call ends or the node drops subscriptions.
func (s *streamsService) subscribe(call streams.Streams_ReadServer, start int, filter *filter, asString bool) error {
	ctx := call.Context()
	dropped := s.srv.dropSignal()
	if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}
	if f := s.srv.nextFault(OnSubscribe); f != 0 {
		return s.srv.faultError(f, call.SetTrailer)
	}
	cursor, caughtUp := start, false
	for {
		all, changed := s.srv.log.snapshot()
		skipped := false
		for ; cursor < len(all); cursor++ {
			r := all[cursor]
			if !filter.match(r) {
				skipped = true
				continue
			}
			if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Event{Event: toReadEvent(r, asString)}}); err != nil {
				return err
			}
		}
		if skipped && filter != nil && cursor > 0 {
			last := all[cursor-1]
			if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
				CommitPosition: last.commit, PreparePosition: last.prepare}}}); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-dropped:
			return status.Error(codes.Unavailable, "subscription dropped by the test double")
		}
	}
}

func toReadEvent(r *record, asString bool) *streams.ReadResp_ReadEvent {
	return &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               toProtoUUID(r.id, asString),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.prepare,
			CommitPosition:   r.commit,
			Metadata: map[string]string{
				"type":         r.eventType,
				"content-type": r.contentType,
				"created":      strconv.FormatInt(r.created, 10),
			},
			CustomMetadata: r.metadata,
			Data:           r.data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.commit},
	}
}

func toProtoUUID(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

func fromProtoUUID(u *shared.UUID) (uuid.UUID, bool) {
	if st := u.GetStructured(); st != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(st.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(st.GetLeastSignificantBits()))
		return id, true
	}
	id, err := uuid.Parse(u.GetString_())
	return id, err == nil
}

// filter is a server-side $all filter on event type or stream name, by
// regular expression or by prefixes. A nil filter matches everything.
type filter struct {
	onType   bool
	re       *regexp.Regexp
	prefixes []string
}

func compileFilter(f *streams.ReadReq_Options_FilterOptions) (*filter, error) {
	if f == nil {
		return nil, nil
	}
	out := &filter{}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	if e := f.GetEventType(); e != nil {
		out.onType, expr = true, e
	} else {
		expr = f.GetStreamIdentifier()
	}
	if expr == nil {
		return nil, errors.New("filter without an expression")
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, err
		}
		out.re = re
	}
	out.prefixes = expr.GetPrefix()
	return out, nil
}

func (f *filter) match(r *record) bool {
	if f == nil {
		return true
	}
	subject := r.stream
	if f.onType {
		subject = r.eventType
	}
	if f.re != nil {
		return f.re.MatchString(subject)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

// faultError is the status, with its trailers, a node answers for f.
func (s *Server) faultError(f Fault, setTrailer func(metadata.MD)) error {
	switch f {
	case FaultTimeout, FaultTimeoutBeforeWrite:
		return status.Error(codes.Aborted, "Operation timed out: Commit phase timeout.")
	case FaultNotLeader:
		host, port, _ := net.SplitHostPort(s.Addr())
		setTrailer(metadata.Pairs("exception", "not-leader", "leader-endpoint-host", host, "leader-endpoint-port", port))
		return status.Error(codes.NotFound, "Leader info available")
	case FaultAccessDenied:
		setTrailer(metadata.Pairs("exception", "access-denied"))
		return status.Error(codes.PermissionDenied, "Access Denied")
	case FaultInvalidArgument:
		return status.Error(codes.InvalidArgument, "'None' is not a valid EventStore.Client.Streams.AppendReq+Types+Options+ExpectedStreamRevisionOneofCase")
	}
	return status.Errorf(codes.Unknown, "unknown fault %d", f)
}

// streamDeleted is the server's answer for a deleted stream
// (RpcExceptions.StreamDeleted): the client reads the trailers.
func streamDeleted(stream string, setTrailer func(metadata.MD)) error {
	setTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", stream))
	return status.Errorf(codes.FailedPrecondition, "Event stream '%s' is deleted.", stream)
}
