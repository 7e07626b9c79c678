package realservers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// etcdV2 reads a key's value from etcd v2's JSON envelope and writes it as a
// form value, conditioned on ?prevIndex= (?prevExist=false to create).
var etcdV2 = occ.Dialect{
	Decode: occ.Envelope("/node/value", "/node/modifiedIndex"),
	Encode: func(w *occ.WriteRequest) error {
		w.Body = []byte(url.Values{"value": {string(w.Body)}}.Encode())
		w.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if w.Version == "" {
			return w.SetQuery("prevExist", "false")
		}
		return w.SetQuery("prevIndex", w.Version)
	},
}

// startEtcd starts a one-member etcd with its v2 API on a temporary data
// folder and returns its client URL.
func startEtcd(t *testing.T, rt http.RoundTripper) string {
	bin := findBinary(t, "OCC_ETCD", "etcd", "apt-get install -y etcd-server", "/usr/bin/etcd")
	port := freePorts(t, 2) // client, peer
	client := "http://127.0.0.1:" + strconv.Itoa(port)
	peer := "http://127.0.0.1:" + strconv.Itoa(port+1)
	cmd := exec.Command(bin, "--enable-v2", "--data-dir", memDir(t), "--name", "occ",
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "occ="+peer, "--log-level", "error")
	start(t, cmd, answers(rt, client+"/health", http.StatusOK))
	return client
}

// TestEtcdV2 races writers on one etcd v2 key holding a JSON document, its
// version in node.modifiedIndex.
func TestEtcdV2(t *testing.T) {
	t.Parallel()
	rt := newTransport(t)
	key := startEtcd(t, rt) + "/v2/keys/occ/tally"
	newEtcdClient := func() *occ.Client { return newClient(t, rt, occ.WithDialect(etcdV2)) }
	_, err := occ.Create(testContext(t), newEtcdClient(), key, tally{})
	require.NoError(t, err)

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newEtcdClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], key, func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			var env struct{ Node struct{ Value string } }
			require.NoError(t, json.Unmarshal(mustDo(t, rt, http.MethodGet, key, nil, nil, http.StatusOK), &env))
			var v tally
			require.NoError(t, json.Unmarshal([]byte(env.Node.Value), &v))
			assertTally(t, v, round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		_, err := occ.Create(testContext(t), newEtcdClient(), key, tally{})
		ce := requireDuplicate(t, err, http.StatusPreconditionFailed, "105")
		require.Equal(t, "Key already exists", ce.Message)
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newEtcdClient(), newEtcdClient()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, key, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, key, func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		requireStale(t, err, http.StatusPreconditionFailed, "101", "Compare failed")
	})
}
