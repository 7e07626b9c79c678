package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/occ-go/occ"
)

// patchSynopsis is the first line of patch's usage.
const patchSynopsis = "occ patch URL -set /pointer=json [-set ...] [-version-field /v] [-header 'Name: value' ...] [-cacert ca.pem] [-weak-etags] [-timeout 30s]"

// patchConfig is what patch runs with, from its flags.
type patchConfig struct {
	url          string
	sets         []member
	versionField string
	headers      []occ.CallOption
	hc           *http.Client
	weakETags    bool
	timeout      time.Duration
}

// member is one -set: a JSON Pointer and the value to put there.
type member struct {
	pointer []string // unescaped reference tokens
	value   any
}

// runPatch is the patch command: it sets members of the document at -url
// with conflict-aware retry and prints the document as finally written.
func runPatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parsePatch(args, stderr)
	if !ok {
		return code
	}
	defer cfg.hc.CloseIdleConnections()
	c, err := occ.New(occ.WithHTTPClient(cfg.hc))
	if err != nil {
		fmt.Fprintf(stderr, "occ patch: %v\n", err)
		return exitFail
	}
	if err := patch(ctx, c, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "occ patch: %v\n", err)
		printConflict(stderr, err)
		return exitFail
	}
	return exitOK
}

// parsePatch turns patch's flags and its URL into a config. When ok is false the
// command must stop with code.
func parsePatch(args []string, stderr io.Writer) (cfg patchConfig, code int, ok bool) {
	fs := newFlagSet("patch", patchSynopsis, stderr)
	var sets, headers stringList
	var cacert string
	fs.StringVar(&cfg.url, "url", "", "`URL` of the JSON document to change, if not given as the argument")
	fs.Var(&sets, "set", "set the member at a JSON Pointer to a JSON value, as `/pointer=json` (repeatable; at least one)")
	fs.StringVar(&cfg.versionField, "version-field", "", "JSON `pointer` of a version field in the body, such as /metadata/resourceVersion")
	fs.Var(&headers, "header", "add a request header, as `'Name: value'` (repeatable)")
	fs.StringVar(&cacert, "cacert", "", "trust the PEM certificates in this `file` for https, such as a cluster's CA")
	fs.BoolVar(&cfg.weakETags, "weak-etags", false, "condition writes on weak ETags too, for servers that compare them weakly")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this `duration`")
	if _, code, ok := parseURLArgs(fs, args, &cfg.url); !ok {
		return cfg, code, false
	}
	if err := cfg.fill(sets, headers, cacert); err != nil {
		return cfg, usageError(fs, "%v", err), false
	}
	return cfg, exitOK, true
}

// fill parses the -set and -header values into cfg and makes its HTTP
// client.
func (cfg *patchConfig) fill(sets, headers []string, cacert string) error {
	if cfg.timeout <= 0 {
		return errors.New("-timeout must be positive")
	}
	if len(sets) == 0 {
		return errors.New("at least one -set is required")
	}
	for _, s := range sets {
		m, err := parseMember(s)
		if err != nil {
			return err
		}
		cfg.sets = append(cfg.sets, m)
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

// decodeValue decodes one JSON value, keeping numbers' text exactly, so
// that 12345678901234567890 is not rounded to a float64.
func decodeValue(raw string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil { // the whole text, one value
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	err := dec.Decode(&v)
	return v, err
}

// parseMember parses a -set value, /pointer=json. The pointer is cut at
// the first "=", so a member name containing "=" cannot be set.
func parseMember(s string) (member, error) {
	ptr, raw, ok := strings.Cut(s, "=")
	if !ok || !strings.HasPrefix(ptr, "/") {
		return member{}, fmt.Errorf("-set %q: want /pointer=json", s)
	}
	v, err := decodeValue(raw)
	if err != nil {
		return member{}, fmt.Errorf("-set %q: the value is not JSON (quote strings: /status='\"shipped\"'): %v", s, err)
	}
	tokens := strings.Split(ptr[1:], "/")
	for i, t := range tokens {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return member{}, fmt.Errorf("-set %q: invalid ~ escape in the pointer", s)
		}
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return member{pointer: tokens, value: v}, nil
}

// patch applies cfg's members to the document at cfg.url with
// occ.ModifyJSON and prints the document as finally written and the stats.
func patch(ctx context.Context, c *occ.Client, cfg patchConfig, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	var st occ.Stats
	opts := []occ.CallOption{occ.WithStats(&st), occ.WithWeakETags(cfg.weakETags)}
	if cfg.versionField != "" {
		opts = append(opts, occ.WithVersionField(cfg.versionField))
	}
	opts = append(opts, cfg.headers...)
	doc, err := occ.ModifyJSON(ctx, c, cfg.url, func(doc []byte) ([]byte, error) {
		return applyMembers(doc, cfg.sets)
	}, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", escapeJSON(doc))
	fmt.Fprintf(out, "writes %d, conflicts %d, transient retries %d, reads %d, version %s\n",
		st.Attempts, st.Conflicts, st.TransientRetries, st.Reads, printable(st.Version))
	return nil
}

// applyMembers returns doc with every member set. Numbers keep their
// precision.
func applyMembers(doc []byte, sets []member) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	for _, m := range sets {
		var err error
		if root, err = setAt(root, m.pointer, m.value); err != nil {
			return nil, err
		}
	}
	return json.Marshal(root)
}

// setAt returns node with the value at the path of tokens set to v,
// creating missing objects on the way (or an array, for "-"). In an array a token is an index,
// or "-" to append.
func setAt(node any, tokens []string, v any) (any, error) {
	if len(tokens) == 0 {
		return v, nil
	}
	switch n := node.(type) {
	case map[string]any:
		child, err := setAt(n[tokens[0]], tokens[1:], v)
		n[tokens[0]] = child
		return n, err
	case []any:
		return setInArray(n, tokens, v)
	case nil:
		if tokens[0] == "-" {
			return setInArray(nil, tokens, v)
		}
		return setAt(map[string]any{}, tokens, v)
	}
	return nil, fmt.Errorf("cannot set %q inside a %T", tokens[0], node)
}

// setInArray is setAt for an array.
func setInArray(a []any, tokens []string, v any) (any, error) {
	if tokens[0] == "-" {
		child, err := setAt(nil, tokens[1:], v)
		return append(a, child), err
	}
	i, err := strconv.Atoi(tokens[0])
	if err != nil || i < 0 || i >= len(a) || (tokens[0] != "0" && strings.HasPrefix(tokens[0], "0")) {
		return nil, fmt.Errorf("array index %q out of range [0,%d) (use - to append)", tokens[0], len(a))
	}
	a[i], err = setAt(a[i], tokens[1:], v)
	return a, err
}

// printConflict prints what a conflict error says, for a person deciding
// what to do next.
func printConflict(w io.Writer, err error) {
	var ce *occ.ConflictError
	if !errors.As(err, &ce) {
		return
	}
	fmt.Fprintf(w, "  status %d, kind %s, code %q, retryable %v\n", ce.StatusCode, ce.Kind, ce.Code, ce.Retryable())
	if ce.Message != "" {
		fmt.Fprintf(w, "  message: %s\n", ce.Message)
	}
	if len(ce.Fields) > 0 {
		fmt.Fprintf(w, "  fields: %s\n", strings.Join(ce.Fields, ", "))
	}
}
