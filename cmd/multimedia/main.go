package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, true))
}

// subcommand is one verb of the binary; commandTable lists them all.
type subcommand struct {
	summary string
	// run does a one-shot command's work, or starts a long-running one
	// (serve, project) and returns once it is running; Main.Wait then
	// waits for it and Main.Close stops it.
	run func(ctx context.Context, m *Main, args []string) error
	// ownFlags names flags the subcommand parses itself (true: takes a
	// value); ParseFlags hands them to run ahead of the other arguments.
	ownFlags map[string]bool
}

// commandTable is the one place the binary's subcommands are registered:
// a new subcommand is a row here, not a side effect of some file's init.
func commandTable() map[string]subcommand {
	return map[string]subcommand{
		"serve": {
			summary: "serve the HTTP API, run the projectors and send mail (default)",
			run:     runServe,
		},
		"migrate": {
			summary: "apply the embedded SQL migrations and exit",
			run:     runMigrate,
		},
		"project": {
			summary: "run only the projectors (no HTTP) until SIGTERM",
			run:     runProject,
		},
		"projections": {
			summary: "status | rebuild NAME | skip NAME | retry NAME: operate the read models",
			run:     runProjections,
		},
		"seed": {
			summary:  "--demo [--if-empty]: write demo content and a synthetic download history",
			run:      runSeed,
			ownFlags: map[string]bool{"demo": false, "if-empty": false, "accounts": true, "downloads": true, "days": true, "h": false, "help": false},
		},
		"audit": {
			summary: "history | export | import | verify: replay accounts, move the log, check its hash chains",
			run:     runAudit,
		},
		"privacy": {
			summary: "migrate --to URL: copy the log into a fresh database, sealing the personal data older versions kept in clear",
			run:     runPrivacy,
		},
	}
}

// Main is the program: what every subcommand shares (configuration,
// output, logger) and what a running one holds until Close. The life
// cycle is NewMain, ParseFlags, Run, Wait (for serve and project), Close;
// end-to-end tests drive the same steps in-process.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
	// Getenv reads the environment (os.Getenv in the binary; tests pass
	// their own).
	Getenv func(string) string
	// Listener, when set, is where serve listens instead of HTTP_ADDR; tests
	// pass one on 127.0.0.1:0.
	Listener net.Listener
	// MetricsListener, when set, is where serve's operator endpoints listen
	// instead of METRICS_ADDR (unless METRICS_ADDR is off).
	MetricsListener net.Listener

	commands map[string]subcommand
	name     string   // the subcommand ParseFlags chose
	args     []string // its own flags and arguments

	// What Run started, released by Close (see lifecycle.go).
	life lifecycle
}

// NewMain returns a Main that writes to stdout and stderr and reads its
// environment through getenv, with every subcommand of commandTable.
func NewMain(stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{
		Stdout: stdout, Stderr: stderr, Getenv: getenv,
		Logger:   slog.New(slog.NewTextHandler(stderr, nil)),
		commands: commandTable(),
	}
}

// errUsage marks a usage problem already printed; Run exits 2 on it.
var errUsage = errors.New("usage")

// ParseFlags reads the subcommand (serve when args start with a flag or
// are empty), its flags and the environment into m.Config. It prints what
// is wrong and returns errUsage for an unknown subcommand or a bad
// configuration, and flagHelp after printing help.
func (m *Main) ParseFlags(_ context.Context, args []string) error {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		m.printUsage(m.Stderr)
		return flagHelp
	}
	sub, ok := m.commands[name]
	if !ok {
		fmt.Fprintf(m.Stderr, "multimedia: unknown command %q\n", name)
		m.printUsage(m.Stderr)
		return errUsage
	}
	own, args := takeFlags(args, sub.ownFlags)
	cfg, rest, err := ParseConfig("multimedia "+name, args, m.Getenv, m.Stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return err
		}
		fmt.Fprintf(m.Stderr, "multimedia %s: bad configuration:\n", name)
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(m.Stderr, "  %s\n", line)
		}
		return errUsage
	}
	m.Config, m.Logger = cfg, newLogger(cfg, m.Stderr)
	m.name, m.args = name, append(own, rest...)
	return nil
}

// Run runs the subcommand ParseFlags chose: a one-shot one to its end; a
// long-running one (serve, project) until it is up. Call Close afterwards
// in either case, also when Run fails.
func (m *Main) Run(ctx context.Context) error {
	sub, ok := m.commands[m.name]
	if !ok {
		return fmt.Errorf("unknown command %q (call ParseFlags first): %w", m.name, errUsage)
	}
	return sub.run(ctx, m, m.args)
}

// Run parses args (a subcommand, then its flags), runs it and, for serve
// and project, keeps it running until ctx ends. It returns the process
// exit code: 0 success, 1 failure, 2 bad usage or configuration.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return run(ctx, args, getenv, stdout, stderr, false)
}

// run is Run; asDefault also makes the configured logger slog's default,
// so that the packages that log through it (commands, the mail relay, the
// adapters) write in the configured format and level instead of slog's
// plain text. The binary does; tests that run several Mains in one
// process do not.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, asDefault bool) int {
	m := NewMain(stdout, stderr, getenv)
	if err := m.ParseFlags(ctx, args); err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		return 2
	}
	if asDefault {
		slog.SetDefault(m.Logger)
	}
	err := m.Run(ctx)
	if err == nil {
		err = m.Wait(ctx)
	}
	if closeErr := m.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return 0
		}
		m.Logger.Error("multimedia "+m.name+" failed", "error", err)
		return 1
	}
	return 0
}

// takeFlags moves the flags named in own (-x, --x, --x=v, or --x v when own
// says it takes a value) out of args, up to a "--".
func takeFlags(args []string, own map[string]bool) (taken, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return taken, append(rest, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue, ok := own[name]
		if !ok || !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		taken = append(taken, a)
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			taken = append(taken, args[i])
		}
	}
	return taken, rest
}

func (m *Main) printUsage(w io.Writer) {
	names := make([]string, 0, len(m.commands))
	for n := range m.commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: multimedia <command> [flags]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, m.commands[n].summary)
	}
	fmt.Fprintln(w, "Run `multimedia <command> -h` for the flags; each has an environment variable.")
}

// newLogger logs text on a terminal and JSON otherwise, unless configured.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
