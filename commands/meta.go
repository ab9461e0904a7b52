package commands

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// Anonymous is the actor of commands run without a session.
const Anonymous = "anonymous"

// Meta says who runs a command and from where; it goes into the metadata of
// every event the command appends.
type Meta struct {
	// CorrelationID ties together everything one request caused.
	CorrelationID string
	// CausationID is what directly caused the command (the request id).
	CausationID string
	// Actor is the account id, or Anonymous.
	Actor    string
	ClientIP string
}

func (m Meta) actor() string {
	if m.Actor == "" {
		return Anonymous
	}
	return m.Actor
}

// stamp encodes events of any domain package for the store with that
// package's encode, giving each a fresh time-ordered id and the command's
// metadata (correlation, causation, actor, client IP, the time now). It is
// the one place where a command's events become eventstore.EventData.
func stamp[E any](events []E, encode func(E) (string, []byte, error), meta Meta, now time.Time) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, 0, len(events))
	for _, e := range events {
		typ, data, err := encode(e)
		if err != nil {
			return nil, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		md, err := json.Marshal(eventstore.Metadata{
			EventID:       id.String(),
			CorrelationID: meta.CorrelationID,
			CausationID:   meta.CausationID,
			Actor:         meta.actor(),
			ClientIP:      meta.ClientIP,
			OccurredAt:    now.UTC(),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: md})
	}
	return out, nil
}

// sealed returns meta with its client IP sealed under c: the IP is
// personal data of the account whose events carry it.
func (m Meta) sealed(c account.Cipher) (Meta, error) {
	ip, err := c.Seal(m.ClientIP)
	if err != nil {
		return Meta{}, fmt.Errorf("seal the client IP: %w", err)
	}
	m.ClientIP = ip
	return m, nil
}

// toEventData stamps account events of the account whose key c is: their
// personal fields and the client IP sealed under it.
func toEventData(events []account.Event, c account.Cipher, meta Meta, now time.Time) ([]eventstore.EventData, error) {
	sealed, err := meta.sealed(c)
	if err != nil {
		return nil, err
	}
	return stamp(events, func(e account.Event) (string, []byte, error) { return account.EncodeSealed(e, c) }, sealed, now)
}
