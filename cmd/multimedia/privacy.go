package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/migrations"
)

// runPrivacy runs `multimedia privacy migrate`.
func runPrivacy(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] != "migrate" {
		fmt.Fprintln(m.Stderr, "usage: multimedia privacy migrate --to TARGET_DATABASE_URL [--to-event-store postgres|esdb://...]")
		return errUsage
	}
	fs := flag.NewFlagSet("multimedia privacy migrate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	to := fs.String("to", "", "the fresh, empty database to copy the log into (its URL)")
	toStore := fs.String("to-event-store", "postgres", "where the copy's events go: postgres (the --to database) or an esdb:// URL")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *to == "" {
		if err == nil {
			fmt.Fprintln(m.Stderr, "multimedia privacy migrate: --to is required, and takes no other arguments")
		}
		return errUsage
	}
	return privacyMigrate(ctx, m, *to, *toStore)
}

// migrateReport says what a migration did.
type migrateReport struct {
	Events, Streams, Accounts, Renamed, Sealed int
}

// privacyMigrate copies the whole log of the configured store into a fresh
// one (--to), sealing on the way what stores written before issue 14 hold
// in clear: the address in AccountRegistered, the client tags of codes,
// and the client IP in every metadata of an account's events (including
// its claim stream's), each under its account's data key, made in the
// target's data_keys table; an account already erased gets "[erased]"
// instead. The legacy, unkeyed claim streams ("email-" + sha256 of the
// address) are renamed to keyed ones. Ids, types, versions and order stay;
// the hash chains are computed anew over the sealed bytes, so the copy
// verifies (`multimedia audit verify`).
//
// A copy, not an in-place rewrite: an event store's events are immutable
// (EventStoreDB offers no update), and rewriting them in place would
// break every chain. The old database, and every backup of it, still
// hold the data in clear: destroy them once the copy serves (README).
func privacyMigrate(ctx context.Context, m *Main, to, toStore string) error {
	start := time.Now()
	srcPool, err := m.openPool(ctx, false)
	if err != nil {
		return err
	}
	defer srcPool.Close()
	src, closeSrc, err := m.openStore(ctx, srcPool)
	if err != nil {
		return err
	}
	defer closeSrc()
	secret, err := m.secretKey(ctx, srcPool)
	if err != nil {
		return err
	}
	codes, err := account.NewCodeHasher(secret)
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}

	dstPool, err := pgxpool.New(ctx, to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dstPool.Close()
	if _, err := migrations.Up(ctx, dstPool); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	var dst eventstore.Store
	if toStore == "postgres" {
		pg := postgres.New(ctx, dstPool, postgres.Options{})
		defer pg.Close()
		dst = audit.NewChainedStore(pg)
	} else {
		s, err := esdb.Open(toStore, esdb.Options{Logger: m.Logger})
		if err != nil {
			return fmt.Errorf("--to-event-store: %w", err)
		}
		defer func() { _ = s.Close() }()
		dst = audit.NewChainedStore(s)
	}
	// Asked of the table itself: Postgres reads of the log stop below the
	// horizon of transactions in flight anywhere on the server.
	var taken bool
	if toStore == "postgres" {
		err = dstPool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM es_events)`).Scan(&taken)
	} else {
		var page []eventstore.RecordedEvent
		page, err = dst.ReadAll(ctx, eventstore.Start, 1)
		taken = len(page) > 0
	}
	if err != nil {
		return fmt.Errorf("--to: read the target: %w", err)
	}
	if taken {
		return errors.New("--to: the target event store is not empty; migrate only into a fresh one")
	}
	// How many events the source holds, where the table can say so: the
	// passes below read until they have seen them all.
	total := -1
	if m.Config.EventStore == "postgres" {
		if err := srcPool.QueryRow(ctx, `SELECT count(*) FROM es_events`).Scan(&total); err != nil {
			return fmt.Errorf("count the source's events: %w", err)
		}
	}
	// The target serves with the same secret: copy a generated one, and
	// the data keys (and tombstones) accounts have already.
	if m.Config.SecretKey == "" {
		if _, err := dstPool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ('code_hmac_key', $1) ON CONFLICT (name) DO NOTHING`, secret); err != nil {
			return fmt.Errorf("--to: copy the generated secret: %w", err)
		}
	}
	if err := copyDataKeys(ctx, srcPool, dstPool); err != nil {
		return err
	}
	keys, err := datakeys.New(dstPool, secret)
	if err != nil {
		return err
	}

	// Pass 1: the addresses, to name the keyed claim streams.
	emails := map[string]string{} // account id -> address in clear
	seen := map[string]bool{}     // the source's stream names
	n, err := walkLog(ctx, src, total, func(re eventstore.RecordedEvent) error {
		seen[re.StreamID] = true
		if re.Type != account.AccountRegisteredType {
			return nil
		}
		e, err := account.Decode(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("%s version %d: %w", re.StreamID, re.Version, err)
		}
		if r := e.(account.AccountRegistered); !account.IsSealed(r.Email) {
			emails[r.AccountID] = r.Email
		}
		return nil
	})
	if err != nil {
		return err
	}
	total = n
	// legacy claim stream -> keyed one. When the keyed one exists too (the
	// address was erased and registered again before this migration), the
	// legacy stream, a released claim, gets a keyed name of its own.
	legacy := map[string]string{}
	for _, addr := range emails {
		if email, err := account.NormaliseEmail(addr); err == nil && seen[email.LegacyStreamID()] {
			keyed := codes.ClaimStreamID(email)
			if seen[keyed] {
				keyed += "-legacy"
			}
			legacy[email.LegacyStreamID()] = keyed
		}
	}

	// Pass 2: seal and copy, a run of one stream's events per append.
	bar := newMigrateProgress(m.Stderr, total)
	var (
		rep     migrateReport
		run     []eventstore.EventData
		runFrom uint64
		stream  string
		ciphers = map[string]account.Cipher{}
		streams = map[string]bool{}
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		expected := eventstore.NoStream
		if runFrom > 0 {
			expected = eventstore.Exact(runFrom - 1)
		}
		if _, err := dst.Append(ctx, stream, expected, run...); err != nil {
			return fmt.Errorf("append %d events to %s at version %d: %w", len(run), stream, runFrom, err)
		}
		bar.add(len(run))
		run = run[:0]
		return nil
	}
	cipherOf := func(accountID string) (account.Cipher, error) {
		if c, ok := ciphers[accountID]; ok {
			return c, nil
		}
		c, err := keys.ForWriting(ctx, accountID)
		if errors.Is(err, account.ErrAccountErased) {
			c, err = shredder{}, nil
		}
		if err != nil {
			return nil, err
		}
		ciphers[accountID] = c
		rep.Accounts++
		return c, nil
	}
	_, err = walkLog(ctx, src, total, func(re eventstore.RecordedEvent) error {
		name := re.StreamID
		if keyed, ok := legacy[name]; ok {
			name = keyed
			if !streams[name] {
				rep.Renamed++
			}
		}
		streams[name] = true
		owner, err := ownerOf(re)
		if err != nil {
			return err
		}
		data, md := []byte(re.Data), map[string]any{}
		if len(re.Metadata) > 0 {
			if err := json.Unmarshal(re.Metadata, &md); err != nil {
				return fmt.Errorf("%s version %d: metadata: %w", re.StreamID, re.Version, err)
			}
		}
		delete(md, audit.PrevHashKey)
		delete(md, audit.HashKey)
		if owner != "" {
			c, err := cipherOf(owner)
			if err != nil {
				return err
			}
			if account.HasPersonalData(re.Type) {
				e, err := account.Decode(re.Type, re.Data)
				if err != nil {
					return fmt.Errorf("%s version %d: %w", re.StreamID, re.Version, err)
				}
				if _, data, err = account.EncodeSealed(e, c); err != nil {
					return fmt.Errorf("%s version %d: %w", re.StreamID, re.Version, err)
				}
				rep.Sealed++
			}
			if ip, _ := md["client_ip"].(string); ip != "" && !account.IsSealed(ip) {
				if md["client_ip"], err = c.Seal(ip); err != nil {
					return fmt.Errorf("%s version %d: %w", re.StreamID, re.Version, err)
				}
				rep.Sealed++
			}
		}
		meta, err := json.Marshal(md)
		if err != nil {
			return err
		}
		if name != stream {
			if err := flush(); err != nil {
				return err
			}
			stream, runFrom = name, re.Version
		}
		run = append(run, eventstore.EventData{ID: re.ID, Type: re.Type, Data: data, Metadata: meta})
		if len(run) >= 500 {
			if err := flush(); err != nil {
				return err
			}
			runFrom = re.Version + 1
		}
		rep.Events++
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	bar.finish()
	rep.Streams = len(streams)
	fmt.Fprintf(m.Stdout, "privacy migrate: copied %d events of %d streams in %s: %d accounts keyed, %d personal fields sealed, %d claim streams renamed to keyed names\n",
		rep.Events, rep.Streams, time.Since(start).Round(time.Millisecond), rep.Accounts, rep.Sealed, rep.Renamed)
	fmt.Fprintln(m.Stdout, "privacy migrate: serve from the new database now, then destroy the old one and every backup of it: they hold the data in clear")
	return nil
}

// walkLog calls fn with every event of the log in global order. When
// total is known (not negative) it reads on until it has seen that many: a
// Postgres store's reads stop below the horizon of transactions still in
// flight anywhere on the server, which may hold back for a while what is
// already committed.
func walkLog(ctx context.Context, src eventstore.Store, total int, fn func(eventstore.RecordedEvent) error) (int, error) {
	n, after := 0, eventstore.Start
	deadline := time.Now().Add(5 * time.Minute)
	for {
		for re, err := range eventstore.AllEvents(ctx, src, after, 0) {
			if err != nil {
				return n, fmt.Errorf("read the log: %w", err)
			}
			if err := fn(re); err != nil {
				return n, err
			}
			n, after = n+1, re.Position
		}
		if total < 0 || n >= total {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("read %d of the log's %d events: a transaction in flight on the database server holds the rest back; retry when it ends", n, total)
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, ctx.Err()
		case <-t.C:
		}
	}
}

// ownerOf is the account whose personal data an event carries: the
// account of an account or download stream, the claimant of a claim stream's event,
// none for content.
func ownerOf(re eventstore.RecordedEvent) (string, error) {
	if id, ok := strings.CutPrefix(re.StreamID, "account-"); ok {
		return id, nil
	}
	if rest, ok := strings.CutPrefix(re.StreamID, download.StreamPrefix); ok && len(rest) > 36 {
		return rest[:36], nil // downloads-<account id>-<yyyy-mm>
	}
	switch re.Type {
	case account.EmailClaimedType, account.EmailReleasedType:
		var v struct {
			AccountID string `json:"account_id"`
		}
		if err := json.Unmarshal(re.Data, &v); err != nil {
			return "", fmt.Errorf("%s version %d: %w", re.StreamID, re.Version, err)
		}
		return v.AccountID, nil
	}
	return "", nil
}

// copyDataKeys copies the data keys (and tombstones) of accounts sealed
// already, so that what they sealed still opens in the copy.
func copyDataKeys(ctx context.Context, src, dst *pgxpool.Pool) error {
	rows, err := src.Query(ctx, `SELECT account_id, wrapped, created_at, destroyed_at FROM data_keys`)
	if err != nil {
		return fmt.Errorf("read the data keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        [16]byte
			wrapped   []byte
			created   time.Time
			destroyed *time.Time
		)
		if err := rows.Scan(&id, &wrapped, &created, &destroyed); err != nil {
			return fmt.Errorf("read the data keys: %w", err)
		}
		if _, err := dst.Exec(ctx, `INSERT INTO data_keys (account_id, wrapped, created_at, destroyed_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (account_id) DO NOTHING`, id, wrapped, created, destroyed); err != nil {
			return fmt.Errorf("--to: copy a data key: %w", err)
		}
	}
	return rows.Err()
}

// shredder stands in for the key of an account erased before the
// migration: its fields in clear become "[erased]".
type shredder struct{}

func (shredder) Seal(plain string) (string, error) {
	if plain == "" || account.IsSealed(plain) {
		return plain, nil
	}
	return account.Erased, nil
}

func (shredder) Open(sealed string) (string, error) { return account.ErasedCipher.Open(sealed) }

// migrateProgress is a progress bar on a terminal and a line per 10%
// elsewhere.
type migrateProgress struct {
	bar         *progressbar.ProgressBar
	out         io.Writer
	done, total int
	shown       int
}

func newMigrateProgress(w io.Writer, total int) *migrateProgress {
	p := &migrateProgress{out: w, total: total}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("sealing and copying events"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *migrateProgress) add(n int) {
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	if p.total > 0 {
		if tenth := p.done * 10 / p.total; tenth > p.shown {
			p.shown = tenth
			fmt.Fprintf(p.out, "privacy migrate: %d%% (%d of %d events)\n", tenth*10, p.done, p.total)
		}
	}
}

func (p *migrateProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
