package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/occ-go/occ"
)

// probeSynopsis is the first line of probe's usage.
const probeSynopsis = "occ probe [-version-field /v] [-version-header Name] [-version-query param [-create-query value]] [-header 'Name: value' ...] [-weak-etags] [-timeout 30s] URL"

// probeConfig is what probe runs with, from its flags.
type probeConfig struct {
	url           string
	versionField  string
	versionHeader string
	versionQuery  string
	createQuery   string
	headers       []occ.CallOption
	weakETags     bool
	timeout       time.Duration
}

// runProbe is the probe command: it checks that the server at URL refuses
// a stale write and a duplicate create, and prints PASS or FAIL per check.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseProbe(args, stderr)
	if !ok {
		return code
	}
	hc := newHTTPClient()
	defer hc.CloseIdleConnections()
	c, err := occ.New(occ.WithHTTPClient(hc), occ.WithMaxAttempts(1))
	if err != nil {
		fmt.Fprintf(stderr, "occ probe: %v\n", err)
		return exitFail
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	r, err := occ.Probe(ctx, c, cfg.url, cfg.options()...)
	r.URL = c.RedactURL(r.URL)
	printProbe(stdout, r)
	if err != nil {
		fmt.Fprintf(stderr, "occ probe: %v\n", err)
		printConflict(stderr, err)
		return exitFail
	}
	if !r.Passed() {
		return exitFail
	}
	return exitOK
}

// parseProbe turns probe's flags and its URL argument into a config. When
// ok is false the command must stop with code.
func parseProbe(args []string, stderr io.Writer) (cfg probeConfig, code int, ok bool) {
	fs := newFlagSet("probe", probeSynopsis, stderr)
	var headers stringList
	fs.StringVar(&cfg.versionField, "version-field", "", "JSON `pointer` of a version field in the body, such as /_rev")
	fs.StringVar(&cfg.versionHeader, "version-header", "", "read the version from this response header `name`, such as X-Goog-Generation")
	fs.StringVar(&cfg.versionQuery, "version-query", "", "send the version in this query `parameter` of writes, such as prevIndex, instead of a header")
	fs.StringVar(&cfg.createQuery, "create-query", "", "with -version-query, the parameter's `value` for a create-if-absent, such as 0")
	fs.Var(&headers, "header", "add a request header, as `'Name: value'` (repeatable)")
	fs.BoolVar(&cfg.weakETags, "weak-etags", false, "condition writes on weak ETags too, for servers that compare them weakly")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this `duration`")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return cfg, exitOK, false
	case err != nil:
		return cfg, exitUsage, false
	case fs.NArg() != 1:
		return cfg, usageError(fs, "want one URL, got %d arguments", fs.NArg()), false
	}
	cfg.url = fs.Arg(0)
	if err := cfg.fill(headers); err != nil {
		return cfg, usageError(fs, "%v", err), false
	}
	return cfg, exitOK, true
}

// fill checks cfg and parses the -header values into it.
func (cfg *probeConfig) fill(headers []string) error {
	if u, err := url.Parse(cfg.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("URL: want an http or https URL")
	}
	if cfg.timeout <= 0 {
		return errors.New("-timeout must be positive")
	}
	if cfg.createQuery != "" && cfg.versionQuery == "" {
		return errors.New("-create-query needs -version-query")
	}
	var err error
	cfg.headers, err = headerOptions(headers)
	return err
}

// options returns the call options cfg asks for.
func (cfg probeConfig) options() []occ.CallOption {
	opts := []occ.CallOption{occ.WithWeakETags(cfg.weakETags)}
	if cfg.versionField != "" {
		opts = append(opts, occ.WithVersionField(cfg.versionField))
	}
	var d occ.Dialect
	if cfg.versionHeader != "" {
		d.Decode = occ.VersionHeader(cfg.versionHeader)
	}
	if cfg.versionQuery != "" {
		d.Encode = occ.VersionQuery(cfg.versionQuery, cfg.createQuery)
	}
	if d.Decode != nil || d.Encode != nil {
		opts = append(opts, occ.WithDialect(d))
	}
	opts = append(opts, cfg.headers...)
	return opts
}

// printProbe prints a probe's report: one line per check, the conflict
// that refused it, and a verdict.
func printProbe(w io.Writer, r occ.ProbeReport) {
	fmt.Fprintf(w, "probe %s", r.URL)
	switch {
	case r.Created && r.Deleted:
		fmt.Fprint(w, " (scratch document created, then deleted)")
	case r.Created:
		fmt.Fprint(w, " (scratch document created; deleting it failed: it is still there)")
	}
	fmt.Fprintln(w)
	for _, c := range r.Checks {
		verdict := "FAIL"
		if c.Passed {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "%s  %-25s %s\n", verdict, c.Name, c.Detail)
		printCheckErr(w, c.Err)
	}
	switch {
	case len(r.Checks) == 0:
	case r.Passed():
		fmt.Fprintln(w, "ok: the server refuses stale writes and duplicate creates; occ can trust its preconditions")
	default:
		fmt.Fprintln(w, "FAIL: do not trust this server's preconditions as configured: concurrent writers may lose updates")
	}
}

// printCheckErr prints what the server said to a check: a conflict's code
// and message, or the error.
func printCheckErr(w io.Writer, err error) {
	var ce *occ.ConflictError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		fmt.Fprintf(w, "%31s code %q, message %q\n", "", ce.Code, ce.Message)
	default:
		fmt.Fprintf(w, "%31s %v\n", "", err)
	}
}

// headerOptions parses -header values, 'Name: value', into call options.
func headerOptions(headers []string) ([]occ.CallOption, error) {
	opts := make([]occ.CallOption, 0, len(headers))
	for i, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("-header number %d: want 'Name: value' (not shown: it may hold a credential)", i+1)
		}
		opts = append(opts, occ.WithHeader(strings.TrimSpace(name), strings.TrimSpace(value)))
	}
	return opts, nil
}
