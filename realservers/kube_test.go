package realservers

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
)

// The Kubernetes API server the tests start: kube-apiserver and the etcd
// (3.7; Debian's 3.4 is too old) it keeps its objects in, both built from
// the module proxy by .ci/servers.sh.
const (
	kubeToken     = "occ-test-token"
	kubeNamespace = "default"
)

// kube is a running apiserver: its URL, the CA file that vouches for its
// certificate, and a transport that trusts it and sends the bearer token.
type kube struct {
	url    string
	caFile string
	rt     http.RoundTripper
	puts   *atomic.Int64 // PUTs and PATCHes sent through rt
}

// collection returns the URL of the ConfigMaps of the test namespace.
func (k *kube) collection() string {
	return k.url + "/api/v1/namespaces/" + kubeNamespace + "/configmaps"
}

// startKube starts etcd and kube-apiserver on 127.0.0.1, with a
// self-signed serving certificate, a static token (in system:masters),
// AlwaysAllow authorization, a service-account key made here, and the
// ServiceAccount admission plugin off (no controllers run to make the
// default account).
func startKube(t *testing.T) *kube {
	t.Helper()
	bin := filepath.Join(serversDir(), "bin")
	apiserver := findBinary(t, "OCC_KUBE_APISERVER", "kube-apiserver", ".ci/servers.sh kube", filepath.Join(bin, "kube-apiserver"))
	etcd := findBinary(t, "OCC_KUBE_ETCD", "kube-etcd", ".ci/servers.sh kube (etcd 3.7, built as kube-etcd)", filepath.Join(bin, "kube-etcd"))
	etcdURL := startEtcd3(t, etcd)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, kubeToken+`,occ,occ-uid,"system:masters"`+"\n")
	saKey, saPub := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	writeServiceAccountKey(t, saKey, saPub)
	port := freePort(t)
	k := &kube{url: "https://127.0.0.1:" + strconv.Itoa(port), caFile: filepath.Join(dir, "apiserver.crt"), puts: &atomic.Int64{}}
	cmd := exec.Command(apiserver, "--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--cert-dir="+dir, "--anonymous-auth=false", "--authorization-mode=AlwaysAllow", "--token-auth-file="+tokens,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none",
		"--disable-admission-plugins=ServiceAccount", "-v=0")
	// Until the server has written its certificate there is no CA to trust:
	// readiness is polled without verifying it, every later request with.
	probe := &bearer{token: kubeToken, rt: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // readiness only
	t.Cleanup(probe.rt.(*http.Transport).CloseIdleConnections)
	start(t, cmd, answers(probe, k.url+"/readyz", http.StatusOK))
	hc, err := kubeHTTPClient(k.caFile, kubeToken) // the recipe's
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*bearer).rt.(*http.Transport)
	tr.MaxIdleConnsPerHost = 2 * writers
	t.Cleanup(tr.CloseIdleConnections)
	k.rt = &counting{rt: hc.Transport, writes: k.puts}
	return k
}

// startEtcd3 starts a one-member etcd 3.7 on a fresh data folder and
// returns its client URL.
func startEtcd3(t *testing.T, bin string) string {
	t.Helper()
	port := freePorts(t, 2) // client, peer
	client := "http://127.0.0.1:" + strconv.Itoa(port)
	peer := "http://127.0.0.1:" + strconv.Itoa(port+1)
	cmd := exec.Command(bin, "--data-dir", memDir(t), "--name", "occ",
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "occ="+peer, "--log-level", "error")
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	start(t, cmd, answers(tr, client+"/health", http.StatusOK))
	return client
}

// writeServiceAccountKey writes a new RSA key pair for signing
// service-account tokens, as openssl genrsa and openssl rsa -pubout would.
func writeServiceAccountKey(t *testing.T, keyFile, pubFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	writeFile(t, pubFile, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// counting counts the writes (PUT, PATCH) sent through rt.
type counting struct {
	rt     http.RoundTripper
	writes *atomic.Int64
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		c.writes.Add(1)
	}
	return c.rt.RoundTrip(r)
}
