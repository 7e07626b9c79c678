package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/occ-go/occ/occtest"
)

// serveSynopsis is the first line of serve's usage.
const serveSynopsis = "occ serve [-addr 127.0.0.1:8080] [-allow-remote] [-weak-etags] [-no-etags] [-last-modified] [-version-field /version] [-require-conditional] [-unique /email ...] [-seed /path=json ...]"

// shutdownTimeout bounds how long serve waits for requests in flight when
// it is told to stop.
const shutdownTimeout = 5 * time.Second

// serveConfig is what serve runs with, from its flags.
type serveConfig struct {
	addr        string
	allowRemote bool
	opts        []occtest.Option
	seeds       []seed
}

// seed is a document to store before serving.
type seed struct {
	path string
	doc  []byte
}

// runServe is the serve command: it parses args and serves until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseServe(args, stderr)
	if !ok {
		return code
	}
	if err := serve(ctx, cfg, stdout, stderr, nil); err != nil {
		fmt.Fprintf(stderr, "occ serve: %v\n", err)
		return exitFail
	}
	return exitOK
}

// parseServe turns serve's flags into a config. When ok is false the
// command must stop with code.
func parseServe(args []string, stderr io.Writer) (cfg serveConfig, code int, ok bool) {
	fs := newFlagSet("serve", serveSynopsis, stderr)
	var weak, noETags, lastModified, requireCond bool
	var versionField string
	var unique, seeds stringList
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (port 0 picks a free one)")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	fs.BoolVar(&weak, "weak-etags", false, `serve weak ETags (W/"3")`)
	fs.BoolVar(&noETags, "no-etags", false, "serve no ETags at all")
	fs.BoolVar(&lastModified, "last-modified", false, "serve Last-Modified and honour If-Unmodified-Since")
	fs.StringVar(&versionField, "version-field", "", "keep an integer version in each document at this JSON `pointer`")
	fs.BoolVar(&requireCond, "require-conditional", false, "answer 428 to unconditional writes of existing resources")
	fs.Var(&unique, "unique", "require the value at this JSON `pointer` to be unique per collection (repeatable)")
	fs.Var(&seeds, "seed", "store a document before serving, as `/path=json` (repeatable)")
	if code, ok := parseFlags(fs, args); !ok {
		return cfg, code, false
	}
	if err := checkListenAddr(cfg.addr, cfg.allowRemote); err != nil {
		return cfg, usageError(fs, "%v", err), false
	}
	cfg.opts = storeOptions(weak, noETags, lastModified, requireCond, versionField, unique)
	if err := checkStoreOptions(cfg.opts); err != nil {
		return cfg, usageError(fs, "%v", err), false
	}
	for _, s := range seeds {
		sd, err := parseSeed(s)
		if err != nil {
			return cfg, usageError(fs, "%v", err), false
		}
		cfg.seeds = append(cfg.seeds, sd)
	}
	return cfg, exitOK, true
}

// storeOptions maps serve's flags to occtest options.
func storeOptions(weak, noETags, lastModified, requireCond bool, versionField string, unique []string) []occtest.Option {
	opts := []occtest.Option{
		occtest.WithWeakETags(weak),
		occtest.WithLastModified(lastModified),
		occtest.WithRequireConditional(requireCond),
	}
	if noETags {
		opts = append(opts, occtest.WithoutETags())
	}
	if versionField != "" {
		opts = append(opts, occtest.WithVersionField(versionField))
	}
	for _, u := range unique {
		opts = append(opts, occtest.WithUnique(u))
	}
	return opts
}

// checkStoreOptions reports an option occtest rejects (NewStore panics on
// one, as befits a test-setup mistake; a command line deserves an error).
func checkStoreOptions(opts []occtest.Option) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	occtest.NewStore(opts...)
	return nil
}

// parseSeed parses a -seed value, /path=json.
func parseSeed(s string) (seed, error) {
	path, doc, ok := strings.Cut(s, "=")
	if !ok || !strings.HasPrefix(path, "/") {
		return seed{}, fmt.Errorf("-seed %q: want /path=json", s)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
		return seed{}, fmt.Errorf("-seed %q: the document must be a JSON object", s)
	}
	return seed{path: path, doc: []byte(doc)}, nil
}

// checkListenAddr refuses an address that is not loopback unless remote
// access is allowed. An empty host means every interface.
func checkListenAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address; pass -allow-remote to serve it", addr)
}

// serve listens on cfg.addr and serves a new store until ctx ends, then
// shuts down, waiting up to shutdownTimeout for requests in flight. It
// prints the server's URL to stdout, logs each request to stderr, and
// calls ready, if not nil, with the URL once it is listening.
func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer, ready func(url string)) error {
	store := occtest.NewStore(cfg.opts...)
	for _, s := range cfg.seeds {
		if err := store.Set(s.path, s.doc); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	srv := &http.Server{Handler: logRequests(store, logger), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "occtest serving on %s (Ctrl-C to stop)\n", url)
	if ready != nil {
		ready(url)
	}
	return serveUntilDone(ctx, srv, ln, logger)
}

// serveUntilDone runs srv on ln until ctx ends or it fails, and shuts it
// down cleanly.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *log.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// logRequests logs method, path (escaped, as sent: a decoded path could
// carry a line break or a terminal escape into the log) and status of
// every request h serves; a
// request whose connection the handler aborts (an injected reset) is logged
// as "reset".
func logRequests(h http.Handler, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				logger.Printf("%s %s reset", printable(r.Method), r.URL.EscapedPath())
				panic(v)
			}
			logger.Printf("%s %s %d", printable(r.Method), r.URL.EscapedPath(), sw.status())
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

// WriteHeader records code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// status returns the status written, 200 when the handler wrote none.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
