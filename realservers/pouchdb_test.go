package realservers

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// startPouchDB starts an in-memory PouchDB server (CouchDB's HTTP API) and
// returns its base URL.
func startPouchDB(t *testing.T, rt http.RoundTripper) string {
	dir := findNodePackage(t, "OCC_POUCHDB_DIR", "pouchdb", "express-pouchdb",
		"express-pouchdb@4.2.0 pouchdb-core@9.0.0 pouchdb-adapter-memory@9.0.0 pouchdb-adapter-http@9.0.0 pouchdb-mapreduce@9.0.0 pouchdb-replication@9.0.0")
	script, err := filepath.Abs("testdata/pouchdb-server.js")
	require.NoError(t, err)
	port := freePort(t)
	cmd := exec.Command("node", script, strconv.Itoa(port))
	cmd.Dir = t.TempDir() // express-pouchdb may write files to its working folder
	cmd.Env = append(cmd.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	start(t, cmd, answers(rt, base+"/", http.StatusOK))
	return base
}

// TestPouchDB races writers on one CouchDB document, its version in _rev.
func TestPouchDB(t *testing.T) {
	t.Parallel()
	rt := newTransport(t)
	db := startPouchDB(t, rt) + "/occ"
	mustDo(t, rt, http.MethodPut, db, nil, nil, http.StatusCreated)
	jsonType := http.Header{"Content-Type": {"application/json"}}
	mustDo(t, rt, http.MethodPut, db+"/tally", jsonType, []byte(`{"n":0,"log":""}`), http.StatusCreated)
	newPouchClient := func() *occ.Client {
		return newClient(t, rt, occ.WithVersionField("/_rev"))
	}

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newPouchClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], db+"/tally", func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			assertTally(t, getTally(t, rt, db+"/tally"), round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		c := newPouchClient()
		_, err := occ.Create(testContext(t), c, db+"/tally", tally{})
		requireDuplicate(t, err, http.StatusConflict, "conflict")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newPouchClient(), newPouchClient()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, db+"/tally", staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, db+"/tally", func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		requireStale(t, err, http.StatusConflict, "conflict", "Document update conflict")
	})
}

// getTally reads a tally document with a plain GET, as JSON.
func getTally(t *testing.T, rt http.RoundTripper, url string) tally {
	t.Helper()
	var v tally
	require.NoError(t, json.Unmarshal(mustDo(t, rt, http.MethodGet, url, http.Header{"Accept": {"application/json"}}, nil, http.StatusOK), &v))
	return v
}
