package commands_test

import (
	"context"
	"crypto/rand"
	"sync"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// memKeys is commands.DataKeys in memory, keeping the port's documented
// rules (a key made on first write, a tombstone after Destroy), for the
// tests that need no database; adapters/postgres/datakeys is tested on
// Postgres.
type memKeys struct {
	mu   sync.Mutex
	keys map[string][]byte // nil value: destroyed
}

var _ commands.DataKeys = (*memKeys)(nil)

func newMemKeys() *memKeys { return &memKeys{keys: map[string][]byte{}} }

func (m *memKeys) ForWriting(_ context.Context, accountID string) (account.Cipher, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key, ok := m.keys[accountID]
	if ok && key == nil {
		return nil, account.ErrAccountErased
	}
	if !ok {
		key = make([]byte, account.DataKeyBytes)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		m.keys[accountID] = key
	}
	return account.NewCipher(accountID, key)
}

func (m *memKeys) ForReading(_ context.Context, accountID string) (account.Cipher, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := m.keys[accountID]
	if key == nil {
		return account.ErasedCipher, nil
	}
	return account.NewCipher(accountID, key)
}

func (m *memKeys) Destroy(_ context.Context, accountID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[accountID] = nil
	return nil
}

// DeletePhantom implements commands.PhantomEraser.
func (p *memPhantoms) DeletePhantom(_ context.Context, key []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.phantoms, string(key))
	return nil
}
