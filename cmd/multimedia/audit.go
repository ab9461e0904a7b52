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
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
)

func auditUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: multimedia audit history (--email ADDRESS | --account ID) [--as-of RFC3339] [--format table|json|jsonl]
       multimedia audit export [--from POSITION] [--output FILE] > log.jsonl
       multimedia audit import [--input FILE] [--batch N] < log.jsonl     (into an empty store only)
       multimedia audit verify [--stream NAME] [--format text|json]      (exit 1 on a broken link)`)
}

// errChainBroken makes `audit verify` exit 1 after printing the report.
var errChainBroken = errors.New("the hash chain is broken")

func runAudit(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		auditUsage(m.Stderr)
		return errUsage
	}
	switch args[0] {
	case "history":
		return auditHistory(ctx, m, args[1:])
	case "export":
		return auditExport(ctx, m, args[1:])
	case "import":
		return auditImport(ctx, m, args[1:])
	case "verify":
		return auditVerify(ctx, m, args[1:])
	}
	fmt.Fprintf(m.Stderr, "multimedia audit: unknown verb %q\n", args[0])
	auditUsage(m.Stderr)
	return errUsage
}

// auditFlags parses a verb's flags; a bad flag or a stray argument is a
// usage error, already printed.
func auditFlags(m *Main, verb string, args []string, define func(fs *flag.FlagSet)) error {
	fs := flag.NewFlagSet("multimedia audit "+verb, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	define(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "multimedia audit %s: unexpected argument %q\n", verb, fs.Arg(0))
		auditUsage(m.Stderr)
		return errUsage
	}
	return nil
}

// usageError prints a bad flag value and returns errUsage (exit 2).
func usageError(m *Main, verb, format string, args ...any) error {
	fmt.Fprintf(m.Stderr, "multimedia audit %s: %s\n", verb, fmt.Sprintf(format, args...))
	return errUsage
}

// openAuditStore opens the configured store, chained like every other
// subcommand's.
func (m *Main) openAuditStore(ctx context.Context, migrate bool) (eventstore.Store, func(), error) {
	pool, err := m.openPool(ctx, migrate)
	if err != nil {
		return nil, nil, err
	}
	store, closeStore, err := m.openStore(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return store, func() { closeStore(); pool.Close() }, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// historyDoc is `audit history --format json`.
type historyDoc struct {
	AccountID string               `json:"account_id"`
	AsOf      time.Time            `json:"as_of"`
	Events    []audit.HistoryEvent `json:"events"`
	State     audit.State          `json:"state"`
}

func auditHistory(ctx context.Context, m *Main, args []string) error {
	var email, accountID, asOfRaw, format string
	if err := auditFlags(m, "history", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account's e-mail address")
		fs.StringVar(&accountID, "account", "", "the account's id (instead of --email)")
		fs.StringVar(&asOfRaw, "as-of", "", "show the history up to this RFC 3339 instant and the state then (default now)")
		fs.StringVar(&format, "format", "table", "table, json (one document) or jsonl (one event per line)")
	}); err != nil {
		return err
	}
	if (email == "") == (accountID == "") {
		return usageError(m, "history", "give exactly one of --email and --account")
	}
	if format != "table" && format != "json" && format != "jsonl" {
		return usageError(m, "history", "--format %q: want table, json or jsonl", format)
	}
	asOf := time.Now().UTC()
	if asOfRaw != "" {
		t, err := time.Parse(time.RFC3339Nano, asOfRaw)
		if err != nil {
			return usageError(m, "history", "--as-of %q is not an RFC 3339 time like 2026-01-31T12:00:00Z", asOfRaw)
		}
		asOf = t.UTC()
	}
	pool, err := m.openPool(ctx, false)
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
	svc := audit.NewService(store).WithPrivacy(codes, keys)
	if email != "" {
		if accountID, err = svc.AccountIDByEmail(ctx, email); err != nil {
			return fmt.Errorf("--email: %w", err)
		}
	}
	state, err := svc.StateAsOf(ctx, accountID, asOf)
	if err != nil {
		return fmt.Errorf("--account %s: %w", accountID, err)
	}
	var events []audit.HistoryEvent
	for after := int64(-1); ; {
		page, err := svc.History(ctx, accountID, after, audit.MaxPageSize)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			// The state folds the merged history in the order History
			// lists it, up to its first event after asOf.
			if len(events) >= state.Events {
				page.Next = nil
				break
			}
			events = append(events, e)
		}
		if page.Next == nil {
			break
		}
		after = int64(*page.Next)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(historyDoc{AccountID: accountID, AsOf: asOf, Events: events, State: state})
	case "jsonl":
		enc := json.NewEncoder(m.Stdout)
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	return printHistoryTable(m.Stdout, accountID, events, state)
}

// streamLabel names an event's stream in the history table: "account" for
// the account stream, "downloads yyyy-mm" for a download stream.
func streamLabel(accountID, stream string) string {
	if stream == account.StreamID(accountID) {
		return "account"
	}
	if month, ok := strings.CutPrefix(stream, download.StreamPrefix+accountID+"-"); ok {
		return "downloads " + month
	}
	return stream
}

func printHistoryTable(w io.Writer, accountID string, events []audit.HistoryEvent, st audit.State) error {
	fmt.Fprintf(w, "Account %s (stream %s and its download streams), %d events up to %s\n\n", accountID, account.StreamID(accountID), len(events), st.AsOf.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tVER\tPOSITION\tOCCURRED AT\tTYPE\tACTOR\tCLIENT IP\tCORRELATION\tDATA")
	for _, e := range events {
		var md struct {
			Actor         string `json:"actor"`
			ClientIP      string `json:"client_ip"`
			CorrelationID string `json:"correlation_id"`
		}
		_ = json.Unmarshal(e.Metadata, &md) // a field that is not there shows empty
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", streamLabel(accountID, e.Stream), e.Version, e.Position, e.OccurredAt.Format("2006-01-02T15:04:05.000Z07:00"), e.Type,
			short(md.Actor, 12), md.ClientIP, short(md.CorrelationID, 12), dataSummary(e.Data))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nState as of %s:\n", st.AsOf.Format(time.RFC3339Nano))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	tm := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	version, position := "-", "-"
	if st.Version != nil {
		version, position = fmt.Sprint(*st.Version), st.Position.String()
	}
	rows := [][2]string{
		{"email", st.Email}, {"status", st.Status}, {"verified", fmt.Sprint(st.Verified)}, {"newsletter", fmt.Sprint(st.Newsletter)},
		{"registered at", tm(st.RegisteredAt)}, {"verified at", tm(st.VerifiedAt)}, {"last login at", tm(st.LastLoginAt)},
		{"failed logins", fmt.Sprint(st.FailedLogins)}, {"open sessions", fmt.Sprint(st.OpenSessions)},
		{"password changed at", tm(st.PasswordChangedAt)}, {"codes issued/rejected", fmt.Sprintf("%d/%d", st.CodesIssued, st.CodesRejected)},
		{"downloads", fmt.Sprint(st.Downloads)}, {"reflects version", version}, {"at position", position},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// dataSummary shows the redacted payload without the account id every
// event repeats.
func dataSummary(data json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return string(data)
	}
	delete(m, "account_id")
	b, _ := json.Marshal(m)
	return short(string(b), 110)
}

// progressFor returns a progress callback for stderr: a bar with rate on a
// terminal, nothing otherwise (the summary line still comes).
func progressFor(m *Main, what string, total int64) (func(n int64), func()) {
	if !isTerminal(m.Stderr) {
		return func(int64) {}, func() {}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	return func(n int64) { _ = bar.Set64(n) }, func() { _ = bar.Finish(); fmt.Fprintln(m.Stderr) }
}

func auditExport(ctx context.Context, m *Main, args []string) error {
	var fromRaw, output string
	if err := auditFlags(m, "export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&fromRaw, "from", "", "export only the events after this position (as printed by a previous export)")
		fs.StringVar(&output, "output", "-", "file to write, - for stdout")
	}); err != nil {
		return err
	}
	from := eventstore.Start
	if fromRaw != "" {
		p, err := eventstore.ParsePosition(fromRaw)
		if err != nil {
			return usageError(m, "export", "--from: %v", err)
		}
		from = p
	}
	w := m.Stdout
	if output != "-" {
		f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer f.Close()
		w = f
	}
	if isTerminal(w) {
		return usageError(m, "export", "the log holds password hashes: redirect it to a file (> log.jsonl) or use --output")
	}
	store, closeAll, err := m.openAuditStore(ctx, false)
	if err != nil {
		return err
	}
	defer closeAll()
	step, done := progressFor(m, "export", -1)
	start := time.Now()
	res, err := audit.Export(ctx, store, from, w, func(n int64, _ eventstore.Position) { step(n) })
	done()
	if err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && output != "-" {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
	}
	fmt.Fprintf(m.Stderr, "exported %d events in %s; last position %s (continue with --from %s)\n",
		res.Events, time.Since(start).Round(time.Millisecond), res.Last, res.Last)
	return nil
}

func auditImport(ctx context.Context, m *Main, args []string) error {
	var input string
	var batch int
	if err := auditFlags(m, "import", args, func(fs *flag.FlagSet) {
		fs.StringVar(&input, "input", "-", "file to read, - for stdin")
		fs.IntVar(&batch, "batch", 500, "events per append (1..10000)")
	}); err != nil {
		return err
	}
	if batch < 1 || batch > 10_000 {
		return usageError(m, "import", "--batch %d is outside 1..10000", batch)
	}
	var r io.Reader = os.Stdin
	if input != "-" {
		f, err := os.Open(input)
		if err != nil {
			return fmt.Errorf("--input: %w", err)
		}
		defer f.Close()
		r = f
	} else if isTerminal(os.Stdin) {
		return usageError(m, "import", "reads an export on stdin: multimedia audit import < log.jsonl")
	}
	store, closeAll, err := m.openAuditStore(ctx, true)
	if err != nil {
		return err
	}
	defer closeAll()
	step, done := progressFor(m, "import", -1)
	start := time.Now()
	res, err := audit.Import(ctx, store, r, audit.ImportOptions{BatchSize: batch, Progress: step})
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "imported %d events of %d streams in %d appends in %s\n", res.Events, res.Streams, res.Appends, time.Since(start).Round(time.Millisecond))
	return nil
}

func auditVerify(ctx context.Context, m *Main, args []string) error {
	var stream, format string
	if err := auditFlags(m, "verify", args, func(fs *flag.FlagSet) {
		fs.StringVar(&stream, "stream", "", "verify only this stream (default: the whole log)")
		fs.StringVar(&format, "format", "text", "text or json")
	}); err != nil {
		return err
	}
	if format != "text" && format != "json" {
		return usageError(m, "verify", "--format %q: want text or json", format)
	}
	if stream != "" {
		if err := eventstore.ValidateStreamID(stream); err != nil {
			return usageError(m, "verify", "--stream: %v", err)
		}
	}
	store, closeAll, err := m.openAuditStore(ctx, false)
	if err != nil {
		return err
	}
	defer closeAll()
	start := time.Now()
	var rep audit.Report
	if stream != "" {
		rep, err = audit.VerifyStream(ctx, store, stream)
	} else {
		step, done := progressFor(m, "verify", -1)
		rep, err = audit.VerifyAll(ctx, store, func(n int64, _ eventstore.Position) { step(n) })
		done()
	}
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		scope := "the whole log"
		if stream != "" {
			scope = "stream " + stream
		}
		if rep.OK() {
			fmt.Fprintf(m.Stdout, "ok: %s is intact: %d events in %d streams, up to position %s (%s)\n",
				scope, rep.Events, rep.Streams, rep.Head, time.Since(start).Round(time.Millisecond))
		} else {
			fmt.Fprintf(m.Stdout, "BROKEN: %s: %d of %d streams have a broken link (%d events checked)\n", scope, len(rep.Breaks), rep.Streams, rep.Events)
			for _, b := range rep.Breaks {
				fmt.Fprintf(m.Stdout, "  %s\n", b)
			}
		}
	}
	if b, ok := rep.First(); ok {
		more := ""
		if len(rep.Breaks) > 1 {
			more = fmt.Sprintf(" (and %d more streams)", len(rep.Breaks)-1)
		}
		return fmt.Errorf("%w: first broken link: %s%s", errChainBroken, b, more)
	}
	if stream != "" && rep.Events == 0 {
		return fmt.Errorf("stream %s has no events", strings.TrimSpace(stream))
	}
	return nil
}
