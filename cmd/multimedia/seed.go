package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// seedNamespace makes every id of the demo data a name-based UUID, so a
// second run writes the same ids (appends of the same ids are no-ops).
var seedNamespace = uuid.MustParse("6f1c1a52-3d0e-4c55-9d55-6b1de1d5e0a1")

// seedPasswordHash is the password hash of every demo account: a well-formed
// argon2id encoding whose salt spells "seed-demo-no-login" and whose key is
// all zeros, which no password produces. Logins fail like a wrong password.
var seedPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$" +
	base64.RawStdEncoding.EncodeToString([]byte("seed-demo-no-login")) + "$" +
	base64.RawStdEncoding.EncodeToString(make([]byte, 32))

// seedWorkers is how many account streams are appended at once; more
// overlap the commits' fsyncs, within the pool's 16 connections.
const seedWorkers = 8

// seedOptions are the seed subcommand's own flags.
type seedOptions struct {
	demo, ifEmpty bool
	accounts      int
	downloads     int
	days          int
}

func parseSeedFlags(args []string, stderr io.Writer) (seedOptions, error) {
	var o seedOptions
	fs := flag.NewFlagSet("multimedia seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.demo, "demo", false, "write the demo data set (required: it is the only one)")
	fs.BoolVar(&o.ifEmpty, "if-empty", false, "do nothing unless the event store is empty (for `make run`)")
	fs.IntVar(&o.accounts, "accounts", 3000, "verified demo accounts that download")
	fs.IntVar(&o.downloads, "downloads", 120_000, "downloads in the synthetic history (about; the daily pattern rounds)")
	fs.IntVar(&o.days, "days", 90, "days of history, ending yesterday")
	if err := fs.Parse(args); err != nil {
		return o, errUsage
	}
	var problems []error
	if !o.demo {
		problems = append(problems, errors.New("--demo is required"))
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if o.accounts < 1 || o.accounts > 1_000_000 {
		problems = append(problems, fmt.Errorf("--accounts %d is outside 1..1000000", o.accounts))
	}
	if o.downloads < 0 || o.downloads > 50_000_000 {
		problems = append(problems, fmt.Errorf("--downloads %d is outside 0..50000000", o.downloads))
	}
	if o.days < 1 || o.days > 3650 {
		problems = append(problems, fmt.Errorf("--days %d is outside 1..3650", o.days))
	}
	if err := errors.Join(problems...); err != nil {
		fmt.Fprintf(stderr, "multimedia seed: %v\nusage: multimedia seed --demo [--if-empty] [--accounts N] [--downloads N] [--days N]\n", err)
		return o, errUsage
	}
	return o, nil
}

func runSeed(ctx context.Context, m *Main, args []string) error {
	opts, err := parseSeedFlags(args, m.Stderr)
	if err != nil {
		return err
	}
	pool, err := m.openPool(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, closeStore, err := m.openStore(ctx, pool)
	if err != nil {
		return err
	}
	defer closeStore()
	codes, keys, err := m.privacy(ctx, pool)
	if err != nil {
		return err
	}
	_, err = seedDemo(ctx, store, seedPrivacy{codes: codes, keys: keys}, opts, time.Now(), m.Stdout, m.Stderr)
	return err
}

// seedReport says what a seed run did.
type seedReport struct {
	Skipped   string // why nothing was written, or ""
	Articles  int
	Videos    int
	Accounts  int
	Downloads int
	Events    int
	Appends   int
	Elapsed   time.Duration
}

// seedDemo writes the demo data set, unless the store is not empty
// (opts.ifEmpty) or the set is there already. now fixes the history's end:
// the last full day before it.
func seedDemo(ctx context.Context, store eventstore.Store, priv seedPrivacy, opts seedOptions, now time.Time, stdout, stderr io.Writer) (seedReport, error) {
	start := time.Now()
	plan := planDemo(opts, now)
	if opts.ifEmpty {
		head, err := store.Head(ctx)
		if err != nil {
			return seedReport{}, fmt.Errorf("seed: read the log head: %w", err)
		}
		if !head.IsZero() {
			fmt.Fprintln(stdout, "seed: the event store is not empty; nothing to do (--if-empty)")
			return seedReport{Skipped: "not empty"}, nil
		}
	}
	// The marker is the last stream a run writes: present means done.
	marker := plan.accounts[len(plan.accounts)-1]
	done, err := store.ReadStream(ctx, account.StreamID(marker.id), 0, 1)
	if err != nil {
		return seedReport{}, fmt.Errorf("seed: check for earlier demo data: %w", err)
	}
	if len(done) > 0 {
		fmt.Fprintf(stdout, "seed: demo data is already there (written %s); nothing to do\n", done[0].RecordedAt.UTC().Format(time.RFC3339))
		return seedReport{Skipped: "already seeded"}, nil
	}

	w := &seedWriter{store: store, priv: priv, now: start}
	total := plan.events()
	progress := newSeedProgress(stderr, total)
	w.progress = progress.add

	fmt.Fprintf(stdout, "seed: writing 1 article, %d videos, %d accounts and %d downloads over %d days (%d events)\n",
		len(plan.videos), len(plan.accounts), plan.downloads, opts.days, total)
	slug, err := w.article(ctx, plan)
	if err != nil {
		return seedReport{}, err
	}
	for _, v := range plan.videos {
		if err := w.video(ctx, v); err != nil {
			return seedReport{}, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	next := atomic.Int64{}
	for range seedWorkers {
		g.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(plan.accounts)-1 {
					return nil
				}
				if err := w.account(gctx, plan.accounts[i]); err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return seedReport{}, err
	}
	if err := w.account(ctx, marker); err != nil {
		return seedReport{}, err
	}
	progress.finish()
	r := seedReport{Articles: 1, Videos: len(plan.videos), Accounts: len(plan.accounts), Downloads: plan.downloads,
		Events: int(w.events.Load()), Appends: int(w.appends.Load()), Elapsed: time.Since(start)}
	fmt.Fprintf(stdout, "seed: done in %s: article %q, %d videos, %d accounts, %d downloads; %d events in %d appends (%.0f events/s)\n",
		r.Elapsed.Round(time.Millisecond), slug, r.Videos, r.Accounts, r.Downloads, r.Events, r.Appends,
		float64(r.Events)/r.Elapsed.Seconds())
	return r, nil
}

// demoPlan is the whole data set, computed before anything is written.
type demoPlan struct {
	articleID   string
	publishedAt time.Time
	videos      []demoVideo
	accounts    []demoAccount
	downloads   int
}

type demoVideo struct {
	id          string
	draft       video.Draft
	publishedAt time.Time
	weight      float64
}

type demoAccount struct {
	id           string
	email        string
	registeredAt time.Time
	verifiedAt   time.Time
	weight       float64
	downloads    []download.VideoDownloaded
}

func (p demoPlan) events() int {
	n := 2 + len(p.videos) // slug claim and article, one event per video
	for _, a := range p.accounts {
		n += 3 + len(a.downloads) // email claim, registered, verified
	}
	return n
}

func seedID(name string) string { return uuid.NewSHA1(seedNamespace, []byte(name)).String() }

var demoTitles = []struct {
	title, description string
	minutes            int
}{
	{"NATO Allies discuss missile defence", "High-level representatives brief Allies at NATO Headquarters, 19 April.", 4},
	{"Secretary General press conference", "Jaap de Hoop Scheffer on indivisible security.", 23},
	{"NATO-Russia Council meets on missile defence", "Russia's concerns addressed on the same day.", 6},
	{"Interceptors and radar: the US proposal explained", "Ten interceptors in Poland and a radar in the Czech Republic.", 9},
	{"Protecting deployed troops: theatre missile defence", "NATO's own project for forces on operations.", 7},
	{"Foreign Ministers in Oslo", "Informal meeting, 26-27 April.", 14},
	{"B-roll: NATO Headquarters, Brussels", "Exteriors, flags, corridors; no voice-over.", 5},
	{"Interview: the ballistic missile threat", "An expert on ranges, payloads and proliferation.", 12},
	{"ISAF: reconstruction in Afghanistan", "Provincial reconstruction teams at work.", 8},
	{"KFOR patrol in Kosovo", "A day with a multinational patrol.", 6},
	{"Air policing over the Baltic states", "Scramble, intercept, escort.", 4},
	{"Partnership for Peace exercise", "Partners train together on crisis response.", 10},
}

// planDemo draws the data set from a fixed seed: the same options and end
// day give the same data and ids.
func planDemo(opts seedOptions, now time.Time) demoPlan {
	rng := rand.New(rand.NewPCG(20070419, 26042007))
	end := now.UTC().Truncate(24 * time.Hour) // midnight today: history ends yesterday
	first := end.AddDate(0, 0, -opts.days)
	p := demoPlan{articleID: seedID("article/missile-defence"), publishedAt: first.AddDate(0, 0, -30).Add(11 * time.Hour)}

	for i, t := range demoTitles {
		secs := t.minutes*60 + rng.IntN(60)
		// Sizes follow the bit rates: MXF 50 Mbit/s, 1080p 8 Mbit/s, 720p 4 Mbit/s.
		formats := []video.Format{
			{Name: "mxf-broadcast", SizeBytes: int64(secs) * 50_000_000 / 8},
			{Name: "mp4-1080p", SizeBytes: int64(secs) * 8_000_000 / 8},
			{Name: "mp4-720p", SizeBytes: int64(secs) * 4_000_000 / 8},
		}
		published := first.AddDate(0, 0, -60+i*3).Add(9 * time.Hour)
		if i >= 8 { // the last four come out during the window
			published = first.AddDate(0, 0, (i-7)*opts.days/5).Add(10 * time.Hour)
		}
		p.videos = append(p.videos, demoVideo{
			id:          seedID(fmt.Sprintf("video/%d", i)),
			draft:       video.Draft{Title: t.title, Description: t.description, DurationSeconds: secs, Formats: formats},
			publishedAt: published,
			weight:      1 / math.Pow(float64(i+1), 1.1), // a few popular videos, a long tail
		})
	}
	rng.Shuffle(len(p.videos), func(i, j int) { p.videos[i].weight, p.videos[j].weight = p.videos[j].weight, p.videos[i].weight })

	// Accounts: 70% registered before the window, the rest during it;
	// activity is heavy-tailed (Pareto), so a few accounts download a lot.
	p.accounts = make([]demoAccount, opts.accounts)
	for i := range p.accounts {
		var reg time.Time
		if rng.Float64() < 0.7 {
			reg = first.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		} else {
			reg = first.Add(time.Duration(rng.Int64N(int64(opts.days) * int64(24*time.Hour))))
		}
		p.accounts[i] = demoAccount{
			id:           seedID(fmt.Sprintf("account/%d", i)),
			email:        fmt.Sprintf("demo-viewer-%05d@example.org", i),
			registeredAt: reg.Truncate(time.Second),
			verifiedAt:   reg.Add(time.Duration(30+rng.IntN(900)) * time.Second).Truncate(time.Second),
			weight:       1 / math.Pow(1-rng.Float64(), 1/1.6),
		}
	}
	sort.SliceStable(p.accounts, func(i, j int) bool { return p.accounts[i].registeredAt.Before(p.accounts[j].registeredAt) })
	cum := make([]float64, len(p.accounts))
	sum := 0.0
	for i, a := range p.accounts {
		sum += a.weight
		cum[i] = sum
	}

	// Daily volume: weekdays busier than weekends, a slow upward trend, noise.
	dayFactor := func(d time.Time) float64 {
		switch d.Weekday() {
		case time.Saturday:
			return 0.45
		case time.Sunday:
			return 0.35
		case time.Monday:
			return 1.1
		}
		return 1
	}
	weights := make([]float64, opts.days)
	totalW := 0.0
	for d := range opts.days {
		day := first.AddDate(0, 0, d)
		weights[d] = dayFactor(day) * (1 + 0.3*float64(d)/float64(opts.days)) * (0.85 + 0.3*rng.Float64())
		totalW += weights[d]
	}
	hourWeights := []float64{1, 1, 1, 1, 1, 2, 3, 6, 9, 11, 12, 12, 10, 11, 12, 11, 9, 7, 5, 4, 3, 2, 2, 1}
	formatPick := []struct {
		name string
		p    float64
	}{{"mp4-1080p", 0.55}, {"mp4-720p", 0.30}, {"mxf-broadcast", 0.15}}

	for d := range opts.days {
		day := first.AddDate(0, 0, d)
		n := int(math.Round(float64(opts.downloads) * weights[d] / totalW))
		// Accounts registered by the end of this day may download on it.
		eligible := sort.Search(len(p.accounts), func(i int) bool { return !p.accounts[i].registeredAt.Before(day.Add(24 * time.Hour)) })
		if eligible == 0 {
			continue
		}
		// Videos out by then, a new one boosted for its first week.
		vw := make([]float64, len(p.videos))
		vsum := 0.0
		for i, v := range p.videos {
			if v.publishedAt.After(day.Add(24 * time.Hour)) {
				continue
			}
			w := v.weight
			if age := day.Sub(v.publishedAt.Truncate(24 * time.Hour)); age < 7*24*time.Hour {
				w *= 4 - 3*age.Hours()/(7*24)
			}
			vw[i] = w
			vsum += w
		}
		for range n {
			ai := sort.SearchFloat64s(cum[:eligible], rng.Float64()*cum[eligible-1])
			a := &p.accounts[min(ai, eligible-1)]
			vi := pickWeighted(rng, vw, vsum)
			v := p.videos[vi]
			f, r := formatPick[0].name, rng.Float64()
			for _, fp := range formatPick {
				if r < fp.p {
					f = fp.name
					break
				}
				r -= fp.p
			}
			at := day.Add(time.Duration(pickWeighted(rng, hourWeights, 113))*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
			if lo := laterOf(a.verifiedAt, v.publishedAt); at.Before(lo) {
				at = lo.Add(time.Duration(rng.IntN(600)) * time.Second)
			}
			a.downloads = append(a.downloads, download.VideoDownloaded{AccountID: a.id, VideoID: v.id, Format: f, At: at})
			p.downloads++
		}
	}
	for i := range p.accounts {
		ds := p.accounts[i].downloads
		sort.SliceStable(ds, func(x, y int) bool { return ds[x].At.Before(ds[y].At) })
	}
	return p
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func pickWeighted(rng *rand.Rand, w []float64, sum float64) int {
	r := rng.Float64() * sum
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	last := len(w) - 1
	for last > 0 && w[last] == 0 {
		last--
	}
	return last
}

// seedWriter appends the plan with deterministic event ids.
type seedWriter struct {
	store    eventstore.Store
	priv     seedPrivacy
	now      time.Time
	progress func(int)
	events   atomic.Int64
	appends  atomic.Int64
}

// seedPrivacy names the demo accounts' claim streams and seals their
// addresses, as the commands do for real ones.
type seedPrivacy struct {
	codes *account.CodeHasher
	keys  commands.DataKeys
}

// encoded is one event ready for stamping.
type encoded struct {
	typ  string
	data []byte
}

func encodeAll[E any](events []E, encode func(E) (string, []byte, error)) ([]encoded, error) {
	out := make([]encoded, 0, len(events))
	for _, e := range events {
		typ, data, err := encode(e)
		if err != nil {
			return nil, err
		}
		out = append(out, encoded{typ, data})
	}
	return out, nil
}

// seedMaxBatch caps the events of one seed append.
const seedMaxBatch = 1000

// write appends events to stream in runs of at most seedMaxBatch events and
// eventstore.MaxAppendBytes bytes (EventStoreDB refuses larger appends;
// the seed need not be atomic per stream), the first with "no stream", the
// rest with the exact version reached. Event ids are derived from the
// stream and the index, so a rerun re-appends the same ids.
func (w *seedWriter) write(ctx context.Context, stream string, events []encoded) error {
	meta, err := json.Marshal(eventstore.Metadata{CorrelationID: "seed-demo", Actor: "seed", OccurredAt: w.now.UTC()})
	if err != nil {
		return err
	}
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		id := uuid.NewSHA1(seedNamespace, []byte(fmt.Sprintf("event/%s/%d", stream, i)))
		data[i] = eventstore.EventData{ID: id, Type: e.typ, Data: e.data, Metadata: meta}
	}
	// The audit chain adds its hashes to the metadata: leave room for them.
	runs, err := eventstore.SplitAppend(data, seedMaxBatch, eventstore.MaxAppendBytes-seedMaxBatch*chainOverhead)
	if err != nil {
		return fmt.Errorf("seed: %s: %w", stream, err)
	}
	expected := eventstore.NoStream
	for _, run := range runs {
		res, err := w.store.Append(ctx, stream, expected, run...)
		if err != nil {
			return fmt.Errorf("seed: append to %s: %w", stream, err)
		}
		expected = eventstore.Exact(res.NextExpectedVersion)
		w.appends.Add(1)
		w.events.Add(int64(len(run)))
		w.progress(len(run))
	}
	return nil
}

// chainOverhead is what the audit chain adds to an event's metadata
// (prev_hash and hash: two keys and two 64-digit hex digests).
const chainOverhead = 2*64 + 40

// article claims the article's slug (base, then base-2 … when another
// article has it) and publishes it.
func (w *seedWriter) article(ctx context.Context, p demoPlan) (string, error) {
	draft, err := article.Check(article.Draft{Title: demoArticleTitle, Summary: demoArticleSummary, Body: demoArticleBody, Tags: demoArticleTags})
	if err != nil {
		return "", fmt.Errorf("seed: the demo article: %w", err)
	}
	base := article.Slugify(draft.Title)
	slug := ""
	for n := 1; slug == "" && n <= 100; n++ {
		cand := article.SlugCandidate(base, n)
		claim, err := article.SlugClaimFromHistory(nil).Claim(p.articleID, cand, p.publishedAt)
		if err != nil {
			return "", err
		}
		enc, err := encodeAll(claim, article.Encode)
		if err != nil {
			return "", err
		}
		err = w.write(ctx, article.SlugStreamID(cand), enc)
		switch {
		case err == nil:
			slug = cand
		case errors.Is(err, eventstore.ErrWrongExpectedVersion) || errors.Is(err, eventstore.ErrDuplicateEvent):
			continue // another article has it
		default:
			return "", err
		}
	}
	if slug == "" {
		return "", fmt.Errorf("seed: no free slug for %q", base)
	}
	events, err := article.FromHistory(nil).Publish(p.articleID, slug, draft, p.publishedAt)
	if err != nil {
		return "", err
	}
	enc, err := encodeAll(events, article.Encode)
	if err != nil {
		return "", err
	}
	return slug, w.write(ctx, article.StreamID(p.articleID), enc)
}

func (w *seedWriter) video(ctx context.Context, v demoVideo) error {
	events, err := video.FromHistory(nil).Publish(v.id, v.draft, v.publishedAt)
	if err != nil {
		return fmt.Errorf("seed: video %q: %w", v.draft.Title, err)
	}
	enc, err := encodeAll(events, video.Encode)
	if err != nil {
		return err
	}
	return w.write(ctx, video.StreamID(v.id), enc)
}

// account writes the e-mail claim, then the account: registered with an
// unusable password hash and no code, verified; then its downloads, in
// their download streams.
func (w *seedWriter) account(ctx context.Context, a demoAccount) error {
	email, err := account.NormaliseEmail(a.email)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	c, err := w.priv.keys.ForWriting(ctx, a.id)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	sealed := func(e account.Event) (string, []byte, error) { return account.EncodeSealed(e, c) }
	claim, err := encodeAll([]account.Event{account.EmailClaimed{AccountID: a.id, At: a.registeredAt}}, sealed)
	if err != nil {
		return err
	}
	if err := w.write(ctx, w.priv.codes.ClaimStreamID(email), claim); err != nil {
		return err
	}
	enc, err := encodeAll([]account.Event{
		account.AccountRegistered{AccountID: a.id, Email: email.String(), PasswordHash: seedPasswordHash, RegisteredAt: a.registeredAt},
		account.AccountVerified{AccountID: a.id, At: a.verifiedAt}}, sealed)
	if err != nil {
		return err
	}
	if err := w.write(ctx, account.StreamID(a.id), enc); err != nil {
		return err
	}
	// The downloads (in time order) go to their month's stream, as the
	// download command appends them.
	for lo := 0; lo < len(a.downloads); {
		stream := download.StreamID(a.id, a.downloads[lo].At)
		hi := lo + 1
		for hi < len(a.downloads) && download.StreamID(a.id, a.downloads[hi].At) == stream {
			hi++
		}
		events := make([]download.Event, 0, hi-lo)
		for _, d := range a.downloads[lo:hi] {
			events = append(events, d)
		}
		enc, err := encodeAll(events, download.Encode)
		if err != nil {
			return err
		}
		if err := w.write(ctx, stream, enc); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// seedProgress is a progress bar on a terminal and a line per 10% elsewhere.
type seedProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	out   io.Writer
	total int
	done  int
	shown int
}

func newSeedProgress(w io.Writer, total int) *seedProgress {
	p := &seedProgress{out: w, total: total}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("seeding events"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *seedProgress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	if pct := p.done * 10 / max1(p.total); pct > p.shown {
		p.shown = pct
		fmt.Fprintf(p.out, "seed: %d%% (%d of %d events)\n", pct*10, p.done, p.total)
	}
}

func (p *seedProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
