package esdbtestdouble

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
)

// Server is one in-memory node. Start it with New and stop it with Close.
type Server struct {
	log *eventLog

	mu       sync.Mutex
	addr     string
	grpc     *grpc.Server
	served   chan struct{}
	closed   bool
	dropped  chan struct{} // closed to drop every live subscription
	inFlight atomic.Int64
	faults   map[Call][]Fault // queued failures, served first in, first out

	maxAppendSize atomic.Int64
	conditions    [4]atomic.Int64 // appends received per expected-revision kind
}

// AppendConditions counts the append requests the node received by their
// expected revision: "any", "no_stream", "stream_exists" and "revision".
// A test of a production path checks that only "no_stream" and "revision"
// arrive, the conditions a node checks
// against the stream itself rather than its bounded id cache.
func (s *Server) AppendConditions() map[string]int64 {
	return map[string]int64{
		"any": s.conditions[expectAny].Load(), "no_stream": s.conditions[expectNoStream].Load(),
		"stream_exists": s.conditions[expectExists].Load(), "revision": s.conditions[expectRevision].Load(),
	}
}

// DefaultMaxAppendSize is the server's default MaxAppendSize: 1 MiB, counted
// as data + metadata + twice the type's UTF-16 length per event.
const DefaultMaxAppendSize = 1024 * 1024

// Call names the requests a Fault can be injected into.
type Call int

// The calls a Fault can hit.
const (
	// OnAppend is an append request.
	OnAppend Call = iota + 1
	// OnRead is a stream read or a $all read (not a subscription).
	OnRead
	// OnSubscribe is a $all subscription, failed after its confirmation,
	// as the server fails a subscription that is already running.
	OnSubscribe
)

// Fault is a server failure the double can produce, with the status code,
// message and trailers a KurrentDB node sends (RpcExceptions.cs).
type Fault int

// The faults.
const (
	// FaultTimeout: Aborted "Operation timed out". On an append the events
	// ARE written first, as after a commit timeout on a real node: the
	// outcome is unknown to the client.
	FaultTimeout Fault = iota + 1
	// FaultTimeoutBeforeWrite: Aborted, nothing written (prepare timeout).
	FaultTimeoutBeforeWrite
	// FaultNotLeader: NotFound with the not-leader trailers naming this
	// node as the leader, as a follower answers a request that requires the
	// leader; the client reconnects to it.
	FaultNotLeader
	// FaultAccessDenied: PermissionDenied "Access Denied".
	FaultAccessDenied
	// FaultInvalidArgument: InvalidArgument, as for a request the server
	// cannot parse.
	FaultInvalidArgument
)

// FailNext makes the next call of kind on fail with f. Several queued
// faults of one kind hit the following calls in order.
func (s *Server) FailNext(on Call, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		s.faults = map[Call][]Fault{}
	}
	s.faults[on] = append(s.faults[on], f)
}

// nextFault takes the next queued fault of a call, or 0.
func (s *Server) nextFault(on Call) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[on]
	if len(q) == 0 {
		return 0
	}
	s.faults[on] = q[1:]
	return q[0]
}

// SetMaxAppendSize changes the append limit (default DefaultMaxAppendSize),
// as the server's MaxAppendSize option does.
func (s *Server) SetMaxAppendSize(n int) { s.maxAppendSize.Store(int64(n)) }

// SetIDCacheBytes changes the size of the node's cache of recent event ids
// (default DefaultIDCacheBytes), so a test can evict ids quickly.
func (s *Server) SetIDCacheBytes(n int) { s.log.setIDLimit(n) }

// DeleteStream soft-deletes a stream, as the client's DeleteStream does.
func (s *Server) DeleteStream(stream string) { s.log.softDelete(stream) }

// TombstoneStream deletes a stream for good, as the client's
// TombstoneStream does.
func (s *Server) TombstoneStream(stream string) { s.log.tombstone(stream) }

// AppendForeign writes an event the service did not write: another
// application's (any content type, data that need not be JSON) or a
// server-side projection's result in a $-stream with an ordinary type.
func (s *Server) AppendForeign(stream, eventType, contentType string, data []byte) {
	s.log.appendEvents(stream, expectation{kind: expectAny}, []proposed{{
		id: uuid.New(), eventType: eventType, contentType: contentType, data: data,
	}})
}

// New starts a node on 127.0.0.1 at a free port, with a few system events
// already in $all, as a fresh KurrentDB node has.
func New() (*Server, error) {
	s := &Server{log: newEventLog(), dropped: make(chan struct{})}
	s.maxAppendSize.Store(DefaultMaxAppendSize)
	s.log.appendSystem("$settings", "$settings")
	s.log.appendSystem("$scavenges", "$scavengeIndexInitialized")
	if err := s.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("esdb test double: listen on %s: %w", addr, err)
	}
	g := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			s.inFlight.Add(1)
			defer s.inFlight.Add(-1)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			s.inFlight.Add(1)
			defer s.inFlight.Add(-1)
			return h(srv, ss)
		}),
	)
	streams.RegisterStreamsServer(g, &streamsService{srv: s})
	serverfeatures.RegisterServerFeaturesServer(g, &featuresService{})
	served := make(chan struct{})
	s.addr = lis.Addr().String()
	s.grpc = g
	s.served = served
	go func() {
		defer close(served)
		_ = g.Serve(lis) // ends with Stop; nothing to report
	}()
	return nil
}

// Addr is the host:port the node listens on.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the connection string of the node for the client: insecure, single
// node, with short discovery so tests fail fast.
func (s *Server) URL() string {
	return "esdb://" + s.Addr() + "?tls=false&maxDiscoverAttempts=3&discoveryInterval=50"
}

// Close stops the node and ends every call at once.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.grpc.Stop()
	<-s.served
}

// Restart cuts every connection and call, as a node restart or a network
// failure does, and listens again on the same address with the same data.
// The cache of recent event ids starts empty, as on a real node.
func (s *Server) Restart() error {
	s.log.forgetIDs()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("esdb test double: restart after close")
	}
	addr := s.addr
	s.grpc.Stop()
	<-s.served
	return s.listen(addr)
}

// DropSubscriptions ends every live subscription with an error, as the
// server does to a slow consumer, while the connection stays up.
func (s *Server) DropSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.dropped)
	s.dropped = make(chan struct{})
}

func (s *Server) dropSignal() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// InFlight counts the calls the node is serving now (reads, appends,
// subscriptions), so a test can prove that cancelled calls end.
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// AppendSystemEvent writes an event of a $-type to a $-stream, as the server
// does for its own bookkeeping (statistics, settings, scavenges).
func (s *Server) AppendSystemEvent(stream, eventType string) {
	s.log.appendSystem(stream, eventType)
}

// Events returns how many events, system events included, the node holds.
func (s *Server) Events() int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return len(s.log.all)
}

type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods answers the client's connect-time question like a
// KurrentDB 24.10 node without batch append.
func (*featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const svc = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: "24.10.0",
		Methods: []*serverfeatures.SupportedMethod{
			{ServiceName: svc, MethodName: "read"},
			{ServiceName: svc, MethodName: "append"},
		},
	}, nil
}
