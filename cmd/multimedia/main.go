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
	os.Exit(Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// subcommand is one verb of the binary. Each lives in its own file and
// registers itself in subcommands.
type subcommand struct {
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
	// ownFlags names flags the subcommand parses itself (true: takes a
	// value); Run hands them to run ahead of the other arguments.
	ownFlags map[string]bool
}

var subcommands = map[string]subcommand{}

// Main holds what every subcommand shares: configuration, output, logger.
// End-to-end tests build one with their own environment and call Run.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
	// Listener, when set, is where serve listens instead of HTTP_ADDR; tests
	// pass one on 127.0.0.1:0.
	Listener net.Listener
	// MetricsListener, when set, is where serve's operator endpoints listen
	// instead of METRICS_ADDR (unless METRICS_ADDR is off).
	MetricsListener net.Listener
}

// Run runs the subcommand name with its remaining arguments.
func (m *Main) Run(ctx context.Context, name string, args []string) error {
	sub, ok := subcommands[name]
	if !ok {
		return fmt.Errorf("unknown command %q: %w", name, errUsage)
	}
	return sub.run(ctx, m, args)
}

// errUsage marks a usage problem already printed; Run exits 2 on it.
var errUsage = errors.New("usage")

// Run parses args (a subcommand, then its flags) and runs it. It returns
// the process exit code: 0 success, 1 failure, 2 bad usage or configuration.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		printUsage(stderr)
		return 0
	}
	if _, ok := subcommands[name]; !ok {
		fmt.Fprintf(stderr, "multimedia: unknown command %q\n", name)
		printUsage(stderr)
		return 2
	}
	own, args := takeFlags(args, subcommands[name].ownFlags)
	cfg, rest, err := ParseConfig("multimedia "+name, args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "multimedia %s: bad configuration:\n", name)
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "  %s\n", line)
		}
		return 2
	}
	m := &Main{Config: cfg, Stdout: stdout, Stderr: stderr, Logger: newLogger(cfg, stderr)}
	if err := m.Run(ctx, name, append(own, rest...)); err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return 0
		}
		m.Logger.Error("multimedia "+name+" failed", "error", err)
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

func printUsage(w io.Writer) {
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: multimedia <command> [flags]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, subcommands[n].summary)
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
