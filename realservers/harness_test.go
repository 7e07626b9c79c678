package realservers

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/occ-go/occ"
)

// Bounds of the harness: how long a server may take to become ready, to
// stop, and how long one test may talk to it.
const (
	readyTimeout = 60 * time.Second
	readyPoll    = 50 * time.Millisecond
	stopTimeout  = 5 * time.Second
	testTimeout  = 2 * time.Minute
)

// installHint is how to install every server at once.
const installHint = "or install every server with .ci/servers.sh"

// missing skips t because what is not installed, saying how to install it;
// with OCC_REQUIRE_SERVERS=1 (as in CI) it fails t instead.
func missing(t *testing.T, what, how string) {
	t.Helper()
	msg := fmt.Sprintf("%s is not installed: %s (%s)", what, how, installHint)
	if os.Getenv("OCC_REQUIRE_SERVERS") == "1" {
		t.Fatal(msg + "; OCC_REQUIRE_SERVERS=1 makes this a failure")
	}
	t.Skip(msg)
}

// serversDir is where .ci/servers.sh installs: $OCC_SERVERS_DIR, else
// .servers in this package's folder.
func serversDir() string {
	if d := os.Getenv("OCC_SERVERS_DIR"); d != "" {
		return d
	}
	d, _ := filepath.Abs(".servers")
	return d
}

// findBinary returns the path of an executable: the one $env names, else the
// first of known that exists, else name on PATH, else in go install's
// folder. It skips t (see missing) when there is none.
func findBinary(t *testing.T, env, name, how string, known ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, k := range known {
		if isExecutable(k) {
			return k
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range goBinDirs() {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	missing(t, name, how+"; or set "+env)
	return ""
}

// goBinDirs returns where go install puts binaries: $GOBIN, else
// $GOPATH/bin.
func goBinDirs() []string {
	if d := os.Getenv("GOBIN"); d != "" {
		return []string{d}
	}
	return []string{filepath.Join(build.Default.GOPATH, "bin")}
}

// isExecutable reports whether p is an executable file.
func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// findNodePackage returns the folder whose node_modules holds pkg: the one
// $env names, else dir under serversDir. It skips t when there is none,
// saying to npm install packages there, or when node is not on PATH.
func findNodePackage(t *testing.T, env, dir, pkg, packages string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node", "apt-get install -y nodejs")
	}
	d := os.Getenv(env)
	if d == "" {
		d = filepath.Join(serversDir(), dir)
	}
	if _, err := os.Stat(filepath.Join(d, "node_modules", pkg, "package.json")); err != nil {
		missing(t, pkg, "npm install --prefix "+d+" "+packages+"; or set "+env+" to the folder holding node_modules")
	}
	return d
}

// memDir returns a fresh folder in memory (under /dev/shm, where syncing to
// disk costs nothing) when there is one, else under t.TempDir; it is
// removed when t ends. Servers keep their data there.
func memDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "occ-realservers-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	return freePorts(t, 1)
}

// freePorts returns the first of n consecutive ports on 127.0.0.1 that were
// free a moment ago, for servers that take a block of ports. The ports lie
// below the kernel's range of ephemeral ports, so that no outgoing
// connection takes one between this check and the server's bind.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		first := 10000 + rand.IntN(low-10000-n)
		if portsFree(first, n) {
			return first
		}
	}
	t.Fatalf("no %d consecutive free ports on 127.0.0.1 between 10000 and %d", n, low)
	return 0
}

// ephemeralLow returns the first port the kernel hands out to outgoing
// connections: 32768 unless /proc says otherwise.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
		return n
	}
	return 32768
}

// portsFree reports whether n ports from first on can be listened on.
func portsFree(first, n int) bool {
	for p := first; p < first+n; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

// output collects a server's output, for the failure messages of its test.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len() < 1<<20 {
		o.buf.Write(p)
	}
	return len(p), nil
}

// String returns the last 4 KiB of the output.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buf.Bytes()
	return string(b[max(0, len(b)-4096):])
}

// start runs cmd as a server, in a process group of its own, and waits
// until ready reports true (polling every readyPoll, for at most
// readyTimeout); it logs how long that took. The server, and anything it
// started, is stopped when t ends: SIGTERM, then SIGKILL after stopTimeout.
func start(t *testing.T, cmd *exec.Cmd, ready func(ctx context.Context) bool) {
	t.Helper()
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = stopTimeout // a child holding the output pipe cannot make Wait hang
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { stop(t, cmd, exited, out) })
	if err := waitReady(exited, ready); err != nil {
		t.Fatalf("%s: %v; output:\n%s", filepath.Base(cmd.Path), err, out)
	}
	t.Logf("%s ready in %v", filepath.Base(cmd.Path), time.Since(began).Round(time.Millisecond))
}

// waitReady polls ready until it reports true, the server exits, or
// readyTimeout passes.
func waitReady(exited <-chan struct{}, ready func(ctx context.Context) bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if ready(ctx) {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v", readyTimeout)
		case <-tick.C:
		}
	}
}

// stop ends a server's process group and waits for it to exit.
func stop(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}, out *output) {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-exited
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL) // anything the server left behind
	if t.Failed() {
		t.Logf("%s output:\n%s", filepath.Base(cmd.Path), out)
	}
}

// answers returns a readiness check: a GET of url through rt answers with
// status want, or with any status when want is 0.
func answers(rt http.RoundTripper, url string, want int) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return want == 0 || resp.StatusCode == want
	}
}

// newTransport returns a transport for one test, its idle connections
// closed when the test ends.
func newTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * writers, IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// newClient returns an occ client sending through rt.
func newClient(t *testing.T, rt http.RoundTripper, opts ...occ.Option) *occ.Client {
	t.Helper()
	c, err := occ.New(append([]occ.Option{occ.WithHTTPClient(&http.Client{Transport: rt})}, opts...)...)
	if err != nil {
		t.Fatalf("occ.New: %v", err)
	}
	return c
}

// testContext returns a context that ends when t does, or after testTimeout.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// do sends one request through rt and returns the status and body, failing
// t on a transport error. It is for setting up and checking state beside
// occ.
func do(t *testing.T, rt http.RoundTripper, method, url string, h http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// mustDo is do that fails t unless the status is one of want.
func mustDo(t *testing.T, rt http.RoundTripper, method, url string, h http.Header, body []byte, want ...int) []byte {
	t.Helper()
	code, _, b := do(t, rt, method, url, h, body)
	for _, w := range want {
		if code == w {
			return b
		}
	}
	t.Fatalf("%s %s: %d, want %v: %s", method, url, code, want, b)
	return nil
}
