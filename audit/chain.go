package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Metadata keys the chain adds to every event.
const (
	PrevHashKey = "prev_hash"
	HashKey     = "hash"
)

// GenesisHash is the prev_hash of the first event of every stream.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain separates these hashes from any other SHA-256 use; a new chain
// format gets a new prefix.
const hashDomain = "multimedia-audit-chain/v1"

// HashEvent computes an event's chain hash: SHA-256 over the previous hash,
// the stream, the version, the type and the canonical JSON of the data and
// of the metadata without the hash fields, each length-prefixed so that no
// two different inputs share bytes. It returns the hex digest.
func HashEvent(prevHash, stream string, version uint64, eventType string, data, metadata []byte) (string, error) {
	cd, err := Canonical(data)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	cm, err := canonicalMetadata(metadata)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(hashDomain))
	field([]byte(prevHash))
	field([]byte(stream))
	field([]byte(strconv.FormatUint(version, 10)))
	field([]byte(eventType))
	field(cd)
	field(cm)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalMetadata is the canonical JSON of metadata without the hash
// fields; empty metadata counts as {}.
func canonicalMetadata(metadata []byte) ([]byte, error) {
	m, err := metadataObject(metadata)
	if err != nil {
		return nil, err
	}
	delete(m, PrevHashKey)
	delete(m, HashKey)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return Canonical(b)
}

// metadataObject decodes metadata as a JSON object (empty means {}).
func metadataObject(metadata []byte) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(metadata) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(metadata, &m); err != nil {
		return nil, fmt.Errorf("metadata is not a JSON object: %w", err)
	}
	if m == nil { // the document was null
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// chainFields reads prev_hash and hash from stored metadata; empty strings
// when absent.
func chainFields(metadata []byte) (prev, hash string) {
	var f struct {
		Prev string `json:"prev_hash"`
		Hash string `json:"hash"`
	}
	_ = json.Unmarshal(metadata, &f) // absent or malformed fields read as ""; Verify reports them
	return f.Prev, f.Hash
}

// ChainOptions tunes NewChainedStoreWithOptions. The zero value is valid.
type ChainOptions struct {
	// MaxRetries bounds the re-reads of an append with expected version Any
	// or StreamExists that lost a race, with a random growing pause between
	// them (default 32).
	MaxRetries int
}

// chainedStore is the decorator; see NewChainedStore.
type chainedStore struct {
	inner eventstore.Store
	opts  ChainOptions

	mu   sync.Mutex
	last map[string]uint64 // a version known to exist per stream: where to start reading for the tail
}

// maxTailCache bounds the per-stream cache of known versions.
const maxTailCache = 50_000

// NewChainedStore returns inner with every appended event chained to the
// previous event of its stream (prev_hash and hash in its metadata). Appends
// with Any or StreamExists read the stream's last event and append with the
// exact version, retrying a bounded number of times when another writer
// wins, so concurrent appends cannot fork a chain; a repeat of a batch
// found stored in the stream's tail writes nothing and answers the original
// result, as the port requires of a re-append. Reads and subscriptions pass
// through unchanged.
func NewChainedStore(inner eventstore.Store) eventstore.Store {
	return NewChainedStoreWithOptions(inner, ChainOptions{})
}

// NewChainedStoreWithOptions is NewChainedStore with options.
func NewChainedStoreWithOptions(inner eventstore.Store, opts ChainOptions) eventstore.Store {
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 32
	}
	return &chainedStore{inner: inner, opts: opts, last: map[string]uint64{}}
}

// Unwrap implements eventstore.Decorator, so that optional capabilities of
// the inner store (eventstore.Counter) are found through the chain.
func (c *chainedStore) Unwrap() eventstore.Store { return c.inner }

var _ eventstore.Decorator = (*chainedStore)(nil)

// Unchained returns the store under a chained store, or s itself. Import
// writes through it so that the exported hashes are stored as they were.
func Unchained(s eventstore.Store) eventstore.Store {
	if c, ok := s.(*chainedStore); ok {
		return c.inner
	}
	return s
}

// Append implements eventstore.Store.
func (c *chainedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	metas := make([]map[string]json.RawMessage, len(events))
	for i, e := range events {
		m, err := metadataObject(e.Metadata)
		if err != nil {
			return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidEvent, Stream: stream,
				Message: fmt.Sprintf("event %d (type %q) of stream %q: %v", i, e.Type, stream, err)}
		}
		metas[i] = m
	}
	retrying := expected.IsAny() || expected.IsStreamExists()
	for attempt := 0; ; attempt++ {
		prevVersion, prevHash, stored, err := c.tail(ctx, stream, expected, events)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if stored != nil {
			// A re-append of a batch already in the stream: the original
			// result, nothing written.
			return *stored, nil
		}
		innerExpected := eventstore.NoStream
		if prevVersion >= 0 {
			innerExpected = eventstore.Exact(uint64(prevVersion))
		} else if expected.IsStreamExists() {
			return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeWrongExpectedVersion, Stream: stream,
				Expected: expected, Actual: eventstore.NoStreamVersion,
				Message: fmt.Sprintf("append to %q: expected stream exists, stream is at no stream", stream)}
		}
		chained, err := chain(stream, prevVersion, prevHash, events, metas)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		res, err := c.inner.Append(ctx, stream, innerExpected, chained...)
		switch {
		case err == nil:
			c.remember(stream, res.NextExpectedVersion)
			return res, nil
		case retrying && errors.Is(err, eventstore.ErrWrongExpectedVersion) && attempt < c.opts.MaxRetries:
			if err := eventstore.Backoff(ctx, attempt, 6); err != nil {
				return eventstore.AppendResult{}, err
			}
			continue
		case retrying && errors.Is(err, eventstore.ErrWrongExpectedVersion):
			return eventstore.AppendResult{}, fmt.Errorf("audit: append to %q lost %d races for the stream's tail: %w", stream, attempt+1, err)
		default:
			var ee *eventstore.Error
			if errors.As(err, &ee) && ee.Code == eventstore.ErrorCodeWrongExpectedVersion {
				// Report the caller's condition, not the one the chain used.
				cp := *ee
				cp.Expected = expected
				return eventstore.AppendResult{}, &cp
			}
			return eventstore.AppendResult{}, err
		}
	}
}

// chain returns copies of events with prev_hash and hash set, as if they
// followed the event prevVersion whose hash is prevHash.
func chain(stream string, prevVersion int64, prevHash string, events []eventstore.EventData, metas []map[string]json.RawMessage) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, len(events))
	for i, e := range events {
		m := make(map[string]json.RawMessage, len(metas[i])+2)
		for k, v := range metas[i] {
			m[k] = v
		}
		delete(m, HashKey)
		m[PrevHashKey] = json.RawMessage(strconv.Quote(prevHash))
		md, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		version := uint64(prevVersion + 1 + int64(i))
		h, err := HashEvent(prevHash, stream, version, e.Type, e.Data, md)
		if err != nil {
			return nil, &eventstore.Error{Code: eventstore.ErrorCodeInvalidEvent, Stream: stream,
				Message: fmt.Sprintf("event %d (type %q) of stream %q: %v", i, e.Type, stream, err)}
		}
		m[HashKey] = json.RawMessage(strconv.Quote(h))
		if md, err = json.Marshal(m); err != nil {
			return nil, err
		}
		e.Metadata = md
		out[i] = e
		prevHash = h
	}
	return out, nil
}

// tail returns the version and hash of the event the append will follow:
// -1 and GenesisHash for a new stream.
//
// For Any and StreamExists it also looks for the batch in the part of the
// stream it reads, because the exact version the chain appends with changes
// what the inner store treats as a repeated append: EventStoreDB recognises
// the same ids as a no-op only right after the expected version, and would
// store them again after the tail. When the batch is found stored whole and
// in order, stored is the result of the original append (the version and
// position of the batch's last event, as the adapters answer a repeated
// append); when only part of it is found, the error is ErrDuplicateEvent.
// The part read is the whole stream the first time this process appends to
// it, later the events from the version it last knew of on, moved back by
// the batch's length so that a retry of this process's last append to the
// stream is always seen. On Postgres the inner store also recognises a
// batch stored earlier in the stream; on EventStoreDB such a batch is
// written again. Appends with NoStream or an exact version are left to the
// inner store's own rule.
func (c *chainedStore) tail(ctx context.Context, stream string, expected eventstore.ExpectedVersion, batch []eventstore.EventData) (int64, string, *eventstore.AppendResult, error) {
	if expected.IsNoStream() {
		return eventstore.NoStreamVersion, GenesisHash, nil, nil
	}
	if v, ok := expected.Exact(); ok {
		page, err := c.inner.ReadStream(ctx, stream, v, 1)
		if err != nil {
			return 0, "", nil, err
		}
		if len(page) == 0 || page[0].Version != v {
			// The inner store reports the mismatch with the stream's real version.
			return int64(v), GenesisHash, nil, nil
		}
		_, h := chainFields(page[0].Metadata)
		return int64(v), h, nil, nil
	}
	c.mu.Lock()
	from := c.last[stream]
	c.mu.Unlock()
	from -= min(from, uint64(len(batch)-1))
	found := newBatchMatch(batch)
	const page = 500
	var last *eventstore.RecordedEvent
	for e, err := range eventstore.StreamEvents(ctx, c.inner, stream, from, page) {
		if err != nil {
			return 0, "", nil, err
		}
		found.see(&e)
		last = &e
	}
	if last == nil {
		if from > 0 { // the cache said the stream had events; it is gone (a test reset): start over
			c.forget(stream)
			return c.tail(ctx, stream, expected, batch)
		}
		return eventstore.NoStreamVersion, GenesisHash, nil, nil
	}
	if stored, err := found.result(stream); stored != nil || err != nil {
		return 0, "", stored, err
	}
	_, h := chainFields(last.Metadata)
	return int64(last.Version), h, nil, nil
}

// batchMatch finds the events of a batch among stored events.
type batchMatch struct {
	index map[uuid.UUID]int // batch position by id
	at    []*eventstore.RecordedEvent
	any   bool
}

func newBatchMatch(batch []eventstore.EventData) *batchMatch {
	m := &batchMatch{index: make(map[uuid.UUID]int, len(batch)), at: make([]*eventstore.RecordedEvent, len(batch))}
	for i, e := range batch {
		m.index[e.ID] = i
	}
	return m
}

// see notes a stored event whose id is one of the batch's; the first
// occurrence of an id counts.
func (m *batchMatch) see(e *eventstore.RecordedEvent) {
	if i, ok := m.index[e.ID]; ok && m.at[i] == nil {
		m.at[i], m.any = e, true
	}
}

// result returns the original append's result when the whole batch is
// stored in order, ErrDuplicateEvent when only some of its ids are, and
// neither when none is.
func (m *batchMatch) result(stream string) (*eventstore.AppendResult, error) {
	if !m.any {
		return nil, nil
	}
	first := m.at[0]
	for i, e := range m.at {
		if e == nil || first == nil || e.Version != first.Version+uint64(i) {
			id, where := m.firstStored()
			return nil, &eventstore.Error{Code: eventstore.ErrorCodeDuplicateEvent, Stream: stream,
				Message: fmt.Sprintf("append to %q: event id %s is already stored at version %d, and the batch is not a repeat of stored events", stream, id, where)}
		}
	}
	last := m.at[len(m.at)-1]
	return &eventstore.AppendResult{NextExpectedVersion: last.Version, Position: last.Position}, nil
}

// firstStored returns the id and version of the first batch event found stored.
func (m *batchMatch) firstStored() (uuid.UUID, uint64) {
	for _, e := range m.at {
		if e != nil {
			return e.ID, e.Version
		}
	}
	return uuid.Nil, 0
}

func (c *chainedStore) remember(stream string, version uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.last) >= maxTailCache {
		clear(c.last)
	}
	c.last[stream] = version
}

func (c *chainedStore) forget(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.last, stream)
}

// ReadStream implements eventstore.Store.
func (c *chainedStore) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	return c.inner.ReadStream(ctx, stream, from, limit)
}

// ReadAll implements eventstore.Store.
func (c *chainedStore) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return c.inner.ReadAll(ctx, after, limit)
}

// Subscribe implements eventstore.Store.
func (c *chainedStore) Subscribe(ctx context.Context, after eventstore.Position, opts eventstore.SubscribeOptions, handle eventstore.Handler) error {
	return c.inner.Subscribe(ctx, after, opts, handle)
}

// Head implements eventstore.Store.
func (c *chainedStore) Head(ctx context.Context) (eventstore.Position, error) {
	return c.inner.Head(ctx)
}
