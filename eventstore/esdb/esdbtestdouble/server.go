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
}

// New starts a node on 127.0.0.1 at a free port, with a few system events
// already in $all, as a fresh KurrentDB node has.
func New() (*Server, error) {
	s := &Server{log: newEventLog(), dropped: make(chan struct{})}
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
func (s *Server) Restart() error {
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
