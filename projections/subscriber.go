package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/eventstore"
)

type batchKey struct{}

// Message metadata keys of a batch message, for logs and tracing.
const (
	MetadataFirstPosition = "first_position"
	MetadataLastPosition  = "last_position"
	MetadataEvents        = "events"
)

// newBatchMessage wraps a run of events in one Watermill message. The
// events travel in the message's context: the subscriber and the handler
// are in the same process, so there is nothing to serialise.
func newBatchMessage(ctx context.Context, batch []eventstore.RecordedEvent) *message.Message {
	msg := message.NewMessage(watermill.NewUUID(), nil)
	msg.Metadata.Set(MetadataFirstPosition, batch[0].Position.String())
	msg.Metadata.Set(MetadataLastPosition, batch[len(batch)-1].Position.String())
	msg.Metadata.Set(MetadataEvents, strconv.Itoa(len(batch)))
	msg.SetContext(context.WithValue(ctx, batchKey{}, batch))
	return msg
}

// BatchFromMessage returns the events a projection message carries.
func BatchFromMessage(msg *message.Message) ([]eventstore.RecordedEvent, bool) {
	b, ok := msg.Context().Value(batchKey{}).([]eventstore.RecordedEvent)
	return b, ok && len(b) > 0
}

// errNacked ends a delivery after the handler gave a message up.
var errNacked = errors.New("projections: batch nacked")

// storeSubscriber is a message.Subscriber on the eventstore.Store port for
// one projection (the topic is the projection's name). It owns the
// projection through an advisory lock while it delivers, delivers from the
// committed checkpoint, one message at a time, and starts again from the
// checkpoint after every Nack.
type storeSubscriber struct {
	rt      *Runtime
	closing chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*storeSubscriber)(nil)

func newStoreSubscriber(rt *Runtime) *storeSubscriber {
	return &storeSubscriber{rt: rt, closing: make(chan struct{})}
}

// Subscribe implements message.Subscriber.
func (s *storeSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if _, ok := s.rt.byName[topic]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProjection, topic)
	}
	out := make(chan *message.Message)
	ctx, cancel := context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer cancel()
		go func() {
			select {
			case <-s.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		s.run(ctx, topic, out)
	}()
	return out, nil
}

// Close implements message.Subscriber: it ends every delivery and waits.
func (s *storeSubscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.wg.Wait()
	return nil
}

func (s *storeSubscriber) run(ctx context.Context, name string, out chan<- *message.Message) {
	log := s.rt.cfg.Logger.With("projection", name)
	for ctx.Err() == nil {
		conn, err := s.acquire(ctx, name)
		if err != nil {
			return // ctx ended
		}
		log.InfoContext(ctx, "projection owned by this process", "owner", s.rt.cfg.Owner)
		s.rt.metrics.owned.WithLabelValues(name).Set(1)
		owned, cancel := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			s.watch(owned, conn, cancel)
		}()
		s.deliverWhileOwned(owned, name, out)
		cancel()
		<-watched
		s.rt.metrics.owned.WithLabelValues(name).Set(0)
		s.release(ctx, conn, name)
		log.InfoContext(ctx, "projection released")
	}
}

// acquire blocks until this process holds the projection's advisory lock
// on a dedicated connection, trying every TakeoverInterval. The connection
// is kept between tries while another process holds the lock.
func (s *storeSubscriber) acquire(ctx context.Context, name string) (*pgx.Conn, error) {
	var conn *pgx.Conn
	for {
		if conn == nil {
			c, err := pgx.ConnectConfig(ctx, s.rt.cfg.Pool.Config().ConnConfig.Copy())
			if err != nil && ctx.Err() == nil {
				s.rt.cfg.Logger.WarnContext(ctx, "projection lock: connect failed", "projection", name, "error", err)
			}
			conn = c // nil on error
		}
		if conn != nil {
			got, err := s.tryLock(ctx, conn, name)
			if got {
				return conn, nil
			}
			if err != nil {
				_ = conn.Close(context.WithoutCancel(ctx)) // drops the lock, if taken, too
				conn = nil
				if ctx.Err() == nil {
					s.rt.cfg.Logger.WarnContext(ctx, "projection lock: try failed", "projection", name, "error", err)
				}
			}
		}
		if ctx.Err() != nil || !sleep(ctx, s.rt.cfg.TakeoverInterval) {
			if conn != nil {
				_ = conn.Close(context.WithoutCancel(ctx))
			}
			return nil, ctx.Err()
		}
	}
}

// tryLock tries the projection's lock once on conn and, when it gets it,
// records this process as the owner. false with a nil error: another
// process holds the lock. On an error the caller closes conn, which drops
// a lock taken before the error.
func (s *storeSubscriber) tryLock(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", lockNamespace, name).Scan(&got); err != nil || !got {
		return false, err
	}
	_, err := conn.Exec(ctx, `INSERT INTO projection_checkpoints (name, owner, owner_since) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, owner_since = EXCLUDED.owner_since`, name, s.rt.cfg.Owner)
	if err != nil {
		return false, fmt.Errorf("record owner: %w", err)
	}
	return true, nil
}

// watch ends ownership when the lock connection dies: the lock went with it.
func (s *storeSubscriber) watch(ctx context.Context, conn *pgx.Conn, cancel context.CancelFunc) {
	t := time.NewTicker(s.rt.cfg.TakeoverInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, pcancel := context.WithTimeout(ctx, 5*s.rt.cfg.TakeoverInterval)
		err := conn.Ping(pctx)
		pcancel()
		if err != nil && ctx.Err() == nil {
			s.rt.cfg.Logger.WarnContext(ctx, "projection lock connection lost; giving the projection up", "error", err)
			cancel()
			return
		}
	}
}

func (s *storeSubscriber) release(ctx context.Context, conn *pgx.Conn, name string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(cctx, "UPDATE projection_checkpoints SET owner = NULL, owner_since = NULL WHERE name = $1 AND owner = $2", name, s.rt.cfg.Owner)
	_ = conn.Close(cctx) // closing the session releases the lock
}

func (s *storeSubscriber) deliverWhileOwned(ctx context.Context, name string, out chan<- *message.Message) {
	log := s.rt.cfg.Logger.With("projection", name)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		cps, err := readCheckpoints(ctx, s.rt.cfg.Pool, []string{name})
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "read checkpoint failed", "error", err, "retry_in", backoff)
			}
			sleep(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		cp := cps[name]
		s.rt.metrics.setPosition(name, cp.Position)
		if cp.State == string(StateStopped) {
			s.rt.metrics.stopped.WithLabelValues(name).Set(1)
			sleep(ctx, 500*time.Millisecond) // until skip or retry
			continue
		}
		s.rt.metrics.stopped.WithLabelValues(name).Set(0)
		err = s.deliver(ctx, cp.Position, out)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errNacked) {
			backoff = 100 * time.Millisecond
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		if refusedCheckpoint(err) {
			if dlErr := s.stopAtCheckpoint(ctx, name, cp.Position, err); dlErr == nil {
				continue // the next round sees the projection stopped
			} else if ctx.Err() == nil {
				log.WarnContext(ctx, "could not stop the projection at its refused checkpoint", "error", dlErr)
			}
		}
		log.WarnContext(ctx, "event subscription ended; subscribing again from the checkpoint", "error", err, "retry_in", backoff)
		sleep(ctx, backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
}

// deliver subscribes to the store after pos and hands each run of events to
// the router as one message, reading ahead while the previous one is
// applied and merging what was read ahead up to MaxBatch events.
func (s *storeSubscriber) deliver(ctx context.Context, pos eventstore.Position, out chan<- *message.Message) error {
	maxBatch := s.rt.cfg.MaxBatch
	subCtx, cancel := context.WithCancel(ctx)
	batches := make(chan eventstore.Batch, 2)
	errc := make(chan error, 1)
	go func() {
		errc <- s.rt.cfg.Store.Subscribe(subCtx, pos, eventstore.SubscribeOptions{MaxBatch: maxBatch},
			func(ctx context.Context, b eventstore.Batch) error {
				select {
				case batches <- b:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
	}()
	subDone := false
	defer func() {
		cancel()
		if !subDone {
			<-errc
		}
	}()
	var pending eventstore.Batch
	for {
		b := pending
		pending = nil
		if b == nil {
			select {
			case b = <-batches:
			case err := <-errc:
				subDone = true
				return fmt.Errorf("projections: subscription: %w", err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	merge:
		for len(b) < maxBatch {
			select {
			case more := <-batches:
				if len(b)+len(more) > maxBatch {
					pending = more
					break merge
				}
				merged := make(eventstore.Batch, 0, min(maxBatch, len(b)+len(more)+len(batches)*len(more)))
				merged = append(merged, b...)
				b = append(merged, more...)
			default:
				break merge
			}
		}
		msg := newBatchMessage(ctx, b)
		select {
		case out <- msg:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-msg.Acked():
		case <-msg.Nacked():
			return errNacked
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
