package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// Record is one line of an export: an event with everything Import needs
// to store it again (id, stream, version, type, data, metadata) and, for
// the reader, where and when it was recorded in the source store.
type Record struct {
	EventID    uuid.UUID           `json:"event_id"`
	Stream     string              `json:"stream"`
	Version    uint64              `json:"version"`
	Type       string              `json:"type"`
	Data       json.RawMessage     `json:"data"`
	Metadata   json.RawMessage     `json:"metadata"`
	Position   eventstore.Position `json:"position"`
	RecordedAt time.Time           `json:"recorded_at"`
}

// ExportResult tells what Export wrote.
type ExportResult struct {
	Events int64
	// Last is the position of the last event written; pass it as from to
	// export only what came after.
	Last eventstore.Position
}

const exportPage = 2000

// Export writes every event after from to w as JSON lines, in global
// order. It holds secrets (password and code hashes) as stored: the file
// is a backup, to be kept like the database. progress, if not nil, is
// called after every exportPage events and at the end.
func Export(ctx context.Context, store eventstore.Store, from eventstore.Position, w io.Writer, progress func(events int64, pos eventstore.Position)) (ExportResult, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	res := ExportResult{Last: from}
	for e, err := range eventstore.AllEvents(ctx, store, from, exportPage) {
		if err != nil {
			return res, fmt.Errorf("audit: export after %s: %w", res.Last, err)
		}
		md := e.Metadata
		if len(md) == 0 {
			md = json.RawMessage("{}")
		}
		if err := enc.Encode(Record{EventID: e.ID, Stream: e.StreamID, Version: e.Version, Type: e.Type,
			Data: e.Data, Metadata: md, Position: e.Position, RecordedAt: e.RecordedAt.UTC()}); err != nil {
			return res, fmt.Errorf("audit: export: write: %w", err)
		}
		res.Events++
		res.Last = e.Position
		if progress != nil && res.Events%exportPage == 0 {
			progress(res.Events, res.Last)
		}
	}
	if progress != nil && res.Events%exportPage != 0 {
		progress(res.Events, res.Last)
	}
	if err := bw.Flush(); err != nil {
		return res, fmt.Errorf("audit: export: write: %w", err)
	}
	return res, nil
}

// ErrNotEmpty: Import refuses a store that already holds events.
var ErrNotEmpty = apperr.New(apperr.Conflict, "audit: the target event store is not empty")

// ErrBadImport: the input is not a well-formed, intact export; the error
// names the line. Nothing was written.
var ErrBadImport = apperr.New(apperr.InvalidArgument, "audit: bad import")

// ImportOptions tunes Import. The zero value is valid.
type ImportOptions struct {
	// BatchSize caps the events of one append (default 500).
	BatchSize int
	// MaxBatchBytes caps the size of one append by eventstore.AppendSize
	// (default eventstore.MaxAppendBytes, EventStoreDB's default limit).
	MaxBatchBytes int
	// TempDir holds the spooled input while it is checked (default os.TempDir()).
	TempDir string
	// Progress, if set, is called after each append with the events written.
	Progress func(events int64)
}

// ImportResult tells what Import wrote.
type ImportResult struct {
	Events  int64
	Streams int
	Appends int
}

// Import loads an export into an empty store. It first reads the whole
// input, spooling it to a temporary file, and checks every line: valid
// JSON records, versions of each stream contiguous from 0, and each
// stream's hash chain intact; any problem is ErrBadImport naming the line,
// and nothing is written. Then it appends the events in the input's order,
// batching consecutive events of one stream, with their ids, types, data and
// metadata (hashes included) unchanged, through Unchained(store) so that the
// stored hashes are the exported ones. A batch holds at most BatchSize
// events and MaxBatchBytes bytes, so EventStoreDB's append limit is kept.
func Import(ctx context.Context, store eventstore.Store, r io.Reader, opts ImportOptions) (ImportResult, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = eventstore.MaxAppendBytes
	}
	raw := Unchained(store)
	if err := ensureEmpty(ctx, raw); err != nil {
		return ImportResult{}, err
	}
	spool, err := os.CreateTemp(opts.TempDir, "multimedia-import-*.jsonl")
	if err != nil {
		return ImportResult{}, fmt.Errorf("audit: import: spool file: %w", err)
	}
	defer func() {
		_ = spool.Close()
		_ = os.Remove(spool.Name())
	}()
	var res ImportResult
	states := map[string]*linkState{}
	ids := map[uuid.UUID]struct{}{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	sw := bufio.NewWriterSize(spool, 256<<10)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		rec, err := parseRecord(b)
		if err != nil {
			return ImportResult{}, fmt.Errorf("%w: line %d: %w", ErrBadImport, line, err)
		}
		if _, dup := ids[rec.EventID]; dup {
			return ImportResult{}, fmt.Errorf("%w: line %d: event id %s appears twice", ErrBadImport, line, rec.EventID)
		}
		ids[rec.EventID] = struct{}{}
		st := states[rec.Stream]
		if st == nil {
			st = &linkState{hash: GenesisHash}
			states[rec.Stream] = st
		}
		if brk := st.check(rec.recorded()); brk != nil {
			return ImportResult{}, fmt.Errorf("%w: line %d: %s", ErrBadImport, line, brk)
		}
		_, _ = sw.Write(b)
		if err := sw.WriteByte('\n'); err != nil {
			return ImportResult{}, fmt.Errorf("audit: import: spool: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return ImportResult{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return ImportResult{}, fmt.Errorf("%w: after line %d: %w", ErrBadImport, line, err)
	}
	if err := sw.Flush(); err != nil {
		return ImportResult{}, fmt.Errorf("audit: import: spool: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return ImportResult{}, fmt.Errorf("audit: import: spool: %w", err)
	}
	res.Streams = len(states)

	sc = bufio.NewScanner(spool)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var (
		batch      []eventstore.EventData
		batchFrom  uint64
		batchBytes int
		stream     string
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		expected := eventstore.NoStream
		if batchFrom > 0 {
			expected = eventstore.Exact(batchFrom - 1)
		}
		if _, err := raw.Append(ctx, stream, expected, batch...); err != nil {
			return fmt.Errorf("audit: import: append %d events to %s at version %d (%d events written before): %w",
				len(batch), stream, batchFrom, res.Events, err)
		}
		res.Events += int64(len(batch))
		res.Appends++
		batch, batchBytes = batch[:0], 0
		if opts.Progress != nil {
			opts.Progress(res.Events)
		}
		return nil
	}
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		rec, err := parseRecord(sc.Bytes())
		if err != nil { // checked in the first pass; the spool file changed under us
			return res, fmt.Errorf("audit: import: spool: %w", err)
		}
		e := eventstore.EventData{ID: rec.EventID, Type: rec.Type, Data: rec.Data, Metadata: rec.Metadata}
		size := eventstore.EventSize(e)
		if rec.Stream != stream || len(batch) >= opts.BatchSize || batchBytes+size > opts.MaxBatchBytes {
			if err := flush(); err != nil {
				return res, err
			}
			stream, batchFrom = rec.Stream, rec.Version
		}
		batch, batchBytes = append(batch, e), batchBytes+size
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("audit: import: spool: %w", err)
	}
	return res, flush()
}

// ensureEmpty refuses a store that has any event.
func ensureEmpty(ctx context.Context, store eventstore.Store) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("audit: import: read the target's head: %w", err)
	}
	page, err := store.ReadAll(ctx, eventstore.Start, 1)
	if err != nil {
		return fmt.Errorf("audit: import: read the target: %w", err)
	}
	if !head.IsZero() || len(page) > 0 {
		return fmt.Errorf("%w: it holds events up to position %s; import only into a fresh database", ErrNotEmpty, head)
	}
	return nil
}

func parseRecord(b []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("not an export record: %w", err)
	}
	switch {
	case rec.EventID == uuid.Nil:
		return rec, errors.New("event_id is missing")
	case rec.Stream == "":
		return rec, errors.New("stream is missing")
	case rec.Type == "":
		return rec, errors.New("type is missing")
	case len(rec.Data) == 0:
		return rec, errors.New("data is missing")
	}
	if err := eventstore.ValidateAppend(rec.Stream, []eventstore.EventData{{ID: rec.EventID, Type: rec.Type, Data: rec.Data, Metadata: rec.Metadata}}); err != nil {
		return rec, err
	}
	return rec, nil
}

// recorded views a record as a stored event, for the chain check.
func (r Record) recorded() eventstore.RecordedEvent {
	return eventstore.RecordedEvent{ID: r.EventID, StreamID: r.Stream, Version: r.Version, Type: r.Type,
		Data: r.Data, Metadata: r.Metadata, Position: r.Position, RecordedAt: r.RecordedAt}
}
