package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Options tunes a Store. The zero value gives the defaults.
type Options struct {
	// Logger receives the adapter's and the client's messages (default
	// slog.Default()). The client's chatter goes out at debug level.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before a dropped subscription
	// subscribes again (defaults 50ms and 5s); the wait doubles on each
	// failure in a row.
	MinBackoff, MaxBackoff time.Duration
	// ReadPageSize is how many events ReadAll and Head ask for at once while
	// they skip system and foreign events (default 256).
	ReadPageSize int
	// MaxAppendBytes is the node's MaxAppendSize (default
	// eventstore.MaxAppendBytes, the server's default of 1 MiB). A larger
	// append is refused before it is sent, with ErrInvalidArgument naming
	// its size: appends are atomic, so the adapter never splits one.
	MaxAppendBytes int
	// StreamPrefixes are the stream families the service owns (for the
	// portal: streams.Prefixes in domain/streams). When set, ReadAll, Head
	// and Subscribe see only streams with one of these prefixes, and
	// Subscribe asks the server to filter by them; when empty, every stream
	// that does not begin with "$". Either way events whose data is not
	// JSON (another application's) are skipped.
	StreamPrefixes []string
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.ReadPageSize <= 0 {
		o.ReadPageSize = 256
	}
	if o.MaxAppendBytes <= 0 {
		o.MaxAppendBytes = eventstore.MaxAppendBytes
	}
	o.StreamPrefixes = slices.Clone(o.StreamPrefixes)
	return o
}

// Store implements eventstore.Store on an EventStoreDB / KurrentDB node or
// cluster. Create it with Open and release it with Close.
type Store struct {
	cfg  kdb.Configuration
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	client *kdb.Client
	closed bool
}

var _ eventstore.Store = (*Store)(nil)

// Open parses a connection string (esdb://, esdb+discover:// or
// kurrentdb://, which is read as esdb://) and returns a Store. The client
// connects on first use, so Open does not fail when the server is down.
func Open(connectionString string, opts Options) (*Store, error) {
	if rest, ok := strings.CutPrefix(connectionString, "kurrentdb://"); ok {
		connectionString = "esdb://" + rest
	} else if rest, ok := strings.CutPrefix(connectionString, "kurrentdb+discover://"); ok {
		connectionString = "esdb+discover://" + rest
	}
	cfg, err := kdb.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("esdb: connection string: %w", err)
	}
	opts = opts.withDefaults()
	s := &Store{opts: opts, log: opts.Logger}
	cfg.Logger = s.clientLog
	s.cfg = *cfg
	client, err := s.newClient()
	if err != nil {
		return nil, err
	}
	s.client = client
	return s, nil
}

func (s *Store) newClient() (*kdb.Client, error) {
	cfg := s.cfg
	client, err := kdb.NewClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("esdb: new client: %w", err)
	}
	return client, nil
}

// clientLog sends the client library's log lines to slog. The client reports
// every cancelled call and dropped subscription as an error, which the
// adapter handles itself, so they go out at debug level.
func (s *Store) clientLog(level kdb.LogLevel, format string, args ...any) {
	// The client passes its arguments as one slice through applyLogger.
	if len(args) == 1 {
		if inner, ok := args[0].([]any); ok {
			args = inner
		}
	}
	msg := "esdb client: " + fmt.Sprintf(format, args...)
	if level == kdb.LogWarn {
		s.log.Info(msg)
		return
	}
	s.log.Debug(msg)
}

// Close releases the client and its connection. Calls after Close fail with
// ErrUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

// current returns the client in use.
func (s *Store) current() (*kdb.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Message: "event store is closed"}
	}
	return s.client, nil
}

// renew replaces a client that gave up: after a failed discovery the client
// closes itself for good and answers every later call with
// ErrorCodeConnectionClosed.
func (s *Store) renew(old *kdb.Client, err error) {
	var e *kdb.Error
	if !errors.As(err, &e) || e.Code() != kdb.ErrorCodeConnectionClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != old {
		return
	}
	fresh, nerr := s.newClient()
	if nerr != nil {
		s.log.Warn("esdb: cannot renew the client", "error", nerr)
		return
	}
	s.log.Info("esdb: connection closed by the client library; starting a new client")
	s.client = fresh
	_ = old.Close()
}

// unavailable wraps a client error; a cancelled context stays recognisable
// through errors.Is(err, context.Canceled).
func unavailable(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Message: what, Err: err}
}

func cancelled(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Message: what, Err: err}
	}
	return nil
}

func toRevision(e eventstore.ExpectedVersion) kdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return kdb.NoStream{}
	case e.IsStreamExists():
		return kdb.StreamExists{}
	}
	if v, ok := e.Exact(); ok {
		return kdb.StreamRevision{Value: v}
	}
	return kdb.Any{}
}

// maxLeaderRetries bounds the immediate retries of a call that met a
// follower: the client reconnects to the leader the follower named, and a
// follower refuses before writing anything, so the retry is safe.
const maxLeaderRetries = 3

// onLeader runs call with the current client and, after a follower's
// not-leader answer, again (the client has reconnected to the leader), up
// to maxLeaderRetries times. It renews a client that gave up. Errors are
// the client's, or the port's when the store is closed.
func onLeader[T any](ctx context.Context, s *Store, call func(*kdb.Client) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		client, err := s.current()
		if err != nil {
			var zero T
			return zero, err
		}
		out, err := call(client)
		if err == nil {
			return out, nil
		}
		s.renew(client, err)
		if !isNotLeader(err) || attempt >= maxLeaderRetries || ctx.Err() != nil {
			return out, err
		}
		s.log.Info("esdb: a follower answered; retrying on the leader", "attempt", attempt+1)
	}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	size := eventstore.AppendSize(events)
	if size > s.opts.MaxAppendBytes {
		return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidArgument, Stream: stream,
			Message: fmt.Sprintf("append of %d events to %q is %d bytes, over the event store's maximum append size of %d bytes "+
				"(EventStoreDB MaxAppendSize); an append is atomic, so split it only where the caller allows", len(events), stream, size, s.opts.MaxAppendBytes)}
	}
	what := fmt.Sprintf("append %d events (%d bytes) to %q", len(events), size, stream)
	data := make([]kdb.EventData, len(events))
	for i, e := range events {
		if isSystemType(e.Type) {
			return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidEvent, Stream: stream,
				Message: fmt.Sprintf("event %d (type %q) of stream %q: a type beginning with '$' is an EventStoreDB system event", i, e.Type, stream)}
		}
		meta := []byte(e.Metadata)
		if len(meta) == 0 {
			meta = []byte("{}")
		}
		data[i] = kdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: kdb.ContentTypeJson, Data: e.Data, Metadata: meta}
	}
	if strings.HasPrefix(stream, "$") {
		return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidStream, Stream: stream,
			Message: fmt.Sprintf("stream %q: a name beginning with '$' is an EventStoreDB system stream", stream)}
	}
	if err := cancelled(ctx, what); err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := onLeader(ctx, s, func(client *kdb.Client) (*kdb.WriteResult, error) {
		return client.AppendToStream(ctx, stream, kdb.AppendToStreamOptions{ExpectedRevision: toRevision(expected)}, data...)
	})
	if err != nil {
		var e *kdb.Error
		switch {
		case eventstore.CodeOf(err) != "":
			return eventstore.AppendResult{}, err // the store is closed
		case errors.As(err, &e) && e.Code() == kdb.ErrorCodeWrongExpectedVersion:
			return eventstore.AppendResult{}, s.conflict(ctx, stream, expected, err)
		}
		return eventstore.AppendResult{}, classify(ctx, opAppend, what, stream, err)
	}
	out := eventstore.AppendResult{
		NextExpectedVersion: res.NextExpectedVersion,
		Position:            eventstore.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition},
	}
	if out.Position.IsZero() {
		// A repeated append is answered without a position by older
		// servers: take the original one from the stream.
		recs, err := s.ReadStream(ctx, stream, out.NextExpectedVersion, 1)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if len(recs) == 1 {
			out.Position = recs[0].Position
		}
	}
	return out, nil
}

// conflict turns the client's wrong-expected-version error into the port's,
// with cause kept as its Err. The stream's current revision comes from the
// client's message, or from the stream when the message does not carry it.
func (s *Store) conflict(ctx context.Context, stream string, expected eventstore.ExpectedVersion, cause error) error {
	var e *kdb.Error
	actual, ok := int64(0), false
	if errors.As(cause, &e) {
		actual, ok = actualRevision(e)
	}
	if !ok {
		var err error
		if actual, err = s.lastRevision(ctx, stream); err != nil {
			return fmt.Errorf("%w (after the server refused the append to %q: %w)", err, stream, cause)
		}
	}
	return wrongVersion(stream, expected, actual, cause)
}

// wevPattern reads the current revision out of the client's message; the
// client keeps the server's structured answer only in this text.
var wevPattern = regexp.MustCompile(`but got '([^']*)'`)

func actualRevision(e *kdb.Error) (int64, bool) {
	if e.Err() == nil {
		return 0, false
	}
	m := wevPattern.FindStringSubmatch(e.Err().Error())
	if m == nil {
		return 0, false
	}
	if m[1] == "no_stream" {
		return eventstore.NoStreamVersion, true
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	return v, err == nil && v >= 0
}

// lastRevision reads the stream's last revision, or NoStreamVersion.
func (s *Store) lastRevision(ctx context.Context, stream string) (int64, error) {
	client, err := s.current()
	if err != nil {
		return 0, err
	}
	rs, err := client.ReadStream(ctx, stream, kdb.ReadStreamOptions{Direction: kdb.Backwards, From: kdb.End{}}, 1)
	if err != nil {
		s.renew(client, err)
		return 0, classify(ctx, opRead, fmt.Sprintf("read the revision of %q", stream), stream, err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if err != nil {
		var e *kdb.Error
		if errors.Is(err, io.EOF) || (errors.As(err, &e) && e.Code() == kdb.ErrorCodeResourceNotFound) {
			return eventstore.NoStreamVersion, nil
		}
		return 0, classify(ctx, opRead, fmt.Sprintf("read the revision of %q", stream), stream, err)
	}
	return int64(ev.OriginalEvent().EventNumber), nil
}

func wrongVersion(stream string, expected eventstore.ExpectedVersion, actual int64, cause error) error {
	cur := "no stream"
	if actual >= 0 {
		cur = "version " + strconv.FormatInt(actual, 10)
	}
	return &eventstore.Error{Code: eventstore.ErrorCodeWrongExpectedVersion, Stream: stream,
		Expected: expected, Actual: actual, Err: cause,
		Message: fmt.Sprintf("append to %q: expected %s, stream is at %s", stream, expected, cur)}
}

func isSystemType(t string) bool { return strings.HasPrefix(t, "$") }

// foreign reports an event of $all the service did not write, which the
// port never shows: the server's own ($-streams, $-types such as a
// tombstone's $streamDeleted), a server-side projection's results (in
// $-streams, with ordinary types), another application's (outside
// StreamPrefixes when they are set), and anything whose data or metadata
// is not JSON, which the service never writes.
func (s *Store) foreign(ev *kdb.ResolvedEvent) bool {
	e := ev.OriginalEvent()
	if strings.HasPrefix(e.StreamID, "$") || isSystemType(e.EventType) {
		return true
	}
	if len(s.opts.StreamPrefixes) > 0 && !slices.ContainsFunc(s.opts.StreamPrefixes, func(p string) bool {
		return strings.HasPrefix(e.StreamID, p)
	}) {
		return true
	}
	if e.ContentType != "application/json" || !json.Valid(e.Data) {
		return true
	}
	return len(e.UserMetadata) > 0 && !json.Valid(e.UserMetadata)
}

// subscriptionFilter is the server-side half of foreign: by stream prefix
// when the service's prefixes are known, else every stream not beginning
// with "$".
func (s *Store) subscriptionFilter() *kdb.SubscriptionFilter {
	if len(s.opts.StreamPrefixes) > 0 {
		return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Prefixes: s.opts.StreamPrefixes}
	}
	return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Regex: `^[^$]`}
}

func checkLimit(limit int) error {
	if limit < 1 {
		return &eventstore.Error{Code: eventstore.ErrorCodeInvalidArgument,
			Message: fmt.Sprintf("limit must be at least 1, got %d", limit)}
	}
	return nil
}

func toRecorded(ev *kdb.ResolvedEvent) eventstore.RecordedEvent {
	e := ev.OriginalEvent()
	return eventstore.RecordedEvent{
		ID:         e.EventID,
		StreamID:   e.StreamID,
		Version:    e.EventNumber,
		Type:       e.EventType,
		Data:       json.RawMessage(e.Data),
		Metadata:   json.RawMessage(e.UserMetadata),
		Position:   eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare},
		RecordedAt: e.CreatedDate,
	}
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(stream); err != nil {
		return nil, err
	}
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("read stream %q", stream)
	if err := cancelled(ctx, what); err != nil {
		return nil, err
	}
	out, err := onLeader(ctx, s, func(client *kdb.Client) ([]eventstore.RecordedEvent, error) {
		return readStreamOnce(ctx, client, stream, from, limit)
	})
	switch {
	case err == nil:
		return out, nil
	case eventstore.CodeOf(err) != "":
		return nil, err
	}
	return nil, classify(ctx, opRead, what, stream, err)
}

// readStreamOnce reads a stream; a soft-deleted or unknown stream reads as
// no events, as the server answers StreamNotFound for both.
func readStreamOnce(ctx context.Context, client *kdb.Client, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	rs, err := client.ReadStream(ctx, stream, kdb.ReadStreamOptions{Direction: kdb.Forwards, From: kdb.Revision(from)}, uint64(limit))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make([]eventstore.RecordedEvent, 0, min(limit, 256))
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var e *kdb.Error
			if errors.As(err, &e) && e.Code() == kdb.ErrorCodeResourceNotFound {
				return out, nil
			}
			return nil, err
		}
		out = append(out, toRecorded(ev))
	}
}

// readAllPage reads up to count events of $all from a position (inclusive,
// as the server reads) in one direction, system events included.
func (s *Store) readAllPage(ctx context.Context, from kdb.AllPosition, dir kdb.Direction, count int) ([]*kdb.ResolvedEvent, error) {
	what := "read $all"
	if p, ok := from.(kdb.Position); ok {
		what = fmt.Sprintf("read $all from %d-%d", p.Commit, p.Prepare)
	}
	out, err := onLeader(ctx, s, func(client *kdb.Client) ([]*kdb.ResolvedEvent, error) {
		return readAllOnce(ctx, client, from, dir, count)
	})
	switch {
	case err == nil:
		return out, nil
	case eventstore.CodeOf(err) != "":
		return nil, err
	}
	return nil, classify(ctx, opRead, what, "", err)
}

func readAllOnce(ctx context.Context, client *kdb.Client, from kdb.AllPosition, dir kdb.Direction, count int) ([]*kdb.ResolvedEvent, error) {
	rs, err := client.ReadAll(ctx, kdb.ReadAllOptions{Direction: dir, From: from}, uint64(count))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*kdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
}

func allPosition(p eventstore.Position) kdb.AllPosition {
	if p.IsZero() {
		return kdb.Start{}
	}
	return kdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func positionOf(ev *kdb.ResolvedEvent) eventstore.Position {
	p := ev.OriginalEvent().Position
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// ReadAll implements eventstore.Store. The server reads $all from a
// position inclusively and with its own system events; both are skipped here.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	if err := cancelled(ctx, "read all"); err != nil {
		return nil, err
	}
	page := max(min(limit+1, 4096), s.opts.ReadPageSize)
	out := make([]eventstore.RecordedEvent, 0, min(limit, 1024))
	from := after
	for {
		evs, err := s.readAllPage(ctx, allPosition(from), kdb.Forwards, page)
		if err != nil {
			return nil, err
		}
		progressed := false
		for _, ev := range evs {
			pos := positionOf(ev)
			if !from.Less(pos) && !(from.IsZero() && pos.IsZero()) {
				continue // the event at the position read from, or before it
			}
			from, progressed = pos, true
			if s.foreign(ev) {
				continue
			}
			out = append(out, toRecorded(ev))
			if len(out) == limit {
				return out, nil
			}
		}
		if len(evs) < page || !progressed {
			return out, nil
		}
	}
}

// Head implements eventstore.Store: the position of the newest event that
// is not a system event, read backwards from the end of $all.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := cancelled(ctx, "read head"); err != nil {
		return eventstore.Position{}, err
	}
	var from kdb.AllPosition = kdb.End{}
	var before *eventstore.Position
	page := min(s.opts.ReadPageSize, 64)
	for {
		evs, err := s.readAllPage(ctx, from, kdb.Backwards, page)
		if err != nil {
			return eventstore.Position{}, err
		}
		progressed := false
		for _, ev := range evs {
			pos := positionOf(ev)
			if before != nil && !pos.Less(*before) {
				continue // the event at the position read from
			}
			progressed = true
			if !s.foreign(ev) {
				return pos, nil
			}
			p := pos
			before, from = &p, kdb.Position{Commit: p.Commit, Prepare: p.Prepare}
		}
		if len(evs) < page || !progressed {
			return eventstore.Start, nil
		}
	}
}
