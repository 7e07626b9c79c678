// Command occ demonstrates the occ library and runs its test server
// standalone.
//
// Usage:
//
//	occ [demo] [-writers 16] [-increments 25] [-retry-after 1]
//	occ serve [-addr 127.0.0.1:8080] [-allow-remote] [store flags]
//	occ patch URL -set /pointer=json [-set ...] [-version-field /v]
//	occ probe URL [-version-field /v] [-create-method POST] [-cacert ca.pem]
//
// demo starts an in-process test server and runs real scenarios through
// the occ client over real HTTP: a hot counter raced by many writers with
// occ and without it, a Kubernetes-style version field, conflicts that must
// not be retried, three-way merges of two people's edits, and transient
// faults. It exits 0 when every scenario behaved as expected and 1
// otherwise, so it doubles as a smoke test.
//
// serve runs the occtest store as a standalone HTTP server, logging each
// request to stderr, until SIGINT or SIGTERM.
//
// patch sets members of a remote JSON document with conflict-aware retry
// and prints the document as finally written. probe checks that a server
// refuses a stale write and a duplicate create.
//
// Flag errors print the usage and exit 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // a scenario or an operation failed
	exitUsage = 2 // bad command line
)

// usage is the top-level help text.
const usage = `usage: occ <command> [flags]

commands:
  demo    run scenarios against an in-process test server (the default)
  serve   run the occtest store as a standalone HTTP server
  patch   set members of a remote JSON document with conflict-aware retry
  probe   check that a server refuses a stale write and a duplicate create
  help    print this text

Run "occ <command> -h" for a command's flags.
`

// command runs one subcommand with its arguments, writing its output to
// stdout and its diagnostics to stderr, and returns the exit status.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// commands maps subcommand names to their functions.
var commands = map[string]command{
	"demo":  runDemo,
	"serve": runServe,
	"patch": runPatch,
	"probe": runProbe,
}

// run dispatches args to a subcommand. With no arguments, or only flags,
// it runs the demo.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		fmt.Fprint(stdout, usage)
		return exitOK
	case len(args) == 0 || strings.HasPrefix(args[0], "-"):
		return runDemo(ctx, args, stdout, stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "occ: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// newFlagSet returns a flag set for a subcommand that reports errors
// instead of exiting, printing synopsis and the flags on -h or an error.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. It returns the exit status to stop with
// and false when the command must not run: 0 after -h, 2 after a bad flag
// or a stray argument.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	case err != nil:
		return exitUsage, false
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "occ %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return exitOK, true
}

// usageError reports a bad flag value found after parsing, with the usage.
func usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(fs.Output(), "occ %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// stringList is a repeatable string flag.
type stringList []string

// String returns the values joined by commas.
func (l *stringList) String() string { return fmt.Sprint([]string(*l)) }

// Set appends v.
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

var _ flag.Value = (*stringList)(nil)

// unsafeRune reports whether r may not reach a terminal as is: a control
// character, or a format character (bidi overrides and isolates, zero-width
// spaces, tag characters) that reorders or hides what a person reads.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x80 && unicode.Is(unicode.Cf, r)) || r == '\u2028' || r == '\u2029'
}

// printable returns s as is when every rune of it is safe to print, else
// quoted with Go's escapes, so that a text a server sent (a version, a
// path) can neither drive a terminal nor forge a log line.
func printable(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 && utf8.ValidString(s) {
		return s
	}
	return strconv.QuoteToASCII(s)
}

// escapeJSON returns a JSON text with every unsafe rune (see unsafeRune)
// but the white space between tokens written as a \u escape: the same
// document, safe to print. Such runes only ever appear raw inside strings,
// where the escape means the same.
func escapeJSON(doc []byte) []byte {
	var b strings.Builder
	for _, r := range string(doc) {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || !unsafeRune(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return []byte(b.String())
}
