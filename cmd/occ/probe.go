package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/occ-go/occ"
)

// probeSynopsis is the first line of probe's usage.
const probeSynopsis = "occ probe URL [-version-field /v] [-version-header Name] [-version-query param [-create-query value]] [-create-method POST [-collection URL]] [-header 'Name: value' ...] [-cacert ca.pem] [-weak-etags] [-timeout 30s]"

// probeConfig is what probe runs with, from its flags.
type probeConfig struct {
	url           string
	versionField  string
	versionHeader string
	versionQuery  string
	createQuery   string
	createMethod  string
	collection    string
	headers       []occ.CallOption
	hc            *http.Client
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
	defer cfg.hc.CloseIdleConnections()
	c, err := occ.New(occ.WithHTTPClient(cfg.hc), occ.WithMaxAttempts(1))
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

// parseProbe turns probe's flags and its URL into a config. When ok is
// false the command must stop with code.
func parseProbe(args []string, stderr io.Writer) (cfg probeConfig, code int, ok bool) {
	fs := newFlagSet("probe", probeSynopsis, stderr)
	var headers stringList
	var cacert string
	fs.StringVar(&cfg.url, "url", "", "`URL` of the document to probe, if not given as the argument")
	fs.StringVar(&cfg.versionField, "version-field", "", "JSON `pointer` of a version field in the body, such as /metadata/resourceVersion")
	fs.StringVar(&cfg.versionHeader, "version-header", "", "read the version from this response header `name`, such as X-Goog-Generation")
	fs.StringVar(&cfg.versionQuery, "version-query", "", "send the version in this query `parameter` of writes, such as prevIndex, instead of a header")
	fs.StringVar(&cfg.createQuery, "create-query", "", "with -version-query, the parameter's `value` for a create-if-absent, such as 0")
	fs.StringVar(&cfg.createMethod, "create-method", http.MethodPut, "how the API creates: PUT to the URL with If-None-Match: *, or POST to its parent collection (Kubernetes)")
	fs.StringVar(&cfg.collection, "collection", "", "with -create-method POST, the collection `URL` to POST to, when it is not the URL's parent")
	fs.Var(&headers, "header", "add a request header, as `'Name: value'` (repeatable), such as 'Authorization: Bearer ...'")
	fs.StringVar(&cacert, "cacert", "", "trust the PEM certificates in this `file` for https, such as a cluster's CA")
	fs.BoolVar(&cfg.weakETags, "weak-etags", false, "condition writes on weak ETags too, for servers that compare them weakly")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this `duration`")
	if _, code, ok := parseURLArgs(fs, args, &cfg.url); !ok {
		return cfg, code, false
	}
	if err := cfg.fill(headers, cacert); err != nil {
		return cfg, usageError(fs, "%v", err), false
	}
	return cfg, exitOK, true
}

// fill checks cfg, parses the -header values into it and makes its HTTP
// client.
func (cfg *probeConfig) fill(headers []string, cacert string) error {
	if cfg.timeout <= 0 {
		return errors.New("-timeout must be positive")
	}
	if cfg.createQuery != "" && cfg.versionQuery == "" {
		return errors.New("-create-query needs -version-query")
	}
	if cfg.createMethod != http.MethodPut && cfg.createMethod != http.MethodPost {
		return fmt.Errorf("-create-method %q: want PUT or POST", cfg.createMethod)
	}
	var err error
	if cfg.headers, err = headerOptions(headers); err != nil {
		return err
	}
	if err := checkOptions(cfg.versionField, cfg.headers); err != nil {
		return err
	}
	cfg.hc, err = newHTTPClient(cacert)
	return err
}

// options returns the call options cfg asks for.
func (cfg probeConfig) options() []occ.CallOption {
	opts := []occ.CallOption{occ.WithWeakETags(cfg.weakETags), occ.WithCreateMethod(cfg.createMethod)}
	if cfg.collection != "" {
		opts = append(opts, occ.WithCollection(cfg.collection))
	}
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
	if len(r.Checks) > 0 && !r.Restored && !r.Created {
		fmt.Fprintln(w, "WARNING: Probe could not put the document back as it found it: check it")
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

// checkOptions reports a -version-field or -header value occ refuses, so
// that the command stops with a usage error before any request.
func checkOptions(versionField string, headers []occ.CallOption) error {
	opts := make([]occ.Option, 0, len(headers)+1)
	for _, h := range headers {
		if o, ok := h.(occ.Option); ok {
			opts = append(opts, o)
		}
	}
	if versionField != "" {
		opts = append(opts, occ.WithVersionField(versionField))
	}
	_, err := occ.New(opts...)
	return err
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
