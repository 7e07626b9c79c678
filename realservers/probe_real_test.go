package realservers

import (
	"net/http"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProbeRealServers probes a document on real servers whose
// preconditions hold, configured as their recipes say: every check passes,
// and the document is left as it was, byte for byte (Radicale hashes the
// vCard it keeps; PouchDB keeps JSON parsed), or a scratch document made
// for the probe is deleted (lighttpd).
func TestProbeRealServers(t *testing.T) {
	t.Parallel()
	t.Run("lighttpd, a JSON document", func(t *testing.T) {
		t.Parallel()
		rt := newTransport(t)
		url := startLighttpd(t, rt) + "/d.json"
		mustDo(t, rt, http.MethodPut, url, nil, []byte(`{"n": 1, "keep": [1.50, "x"]}`), http.StatusCreated)
		requireProbePasses(t, newClient(t, rt), url)
		assert.Equal(t, `{"n": 1, "keep": [1.50, "x"]}`, string(mustDo(t, rt, http.MethodGet, url, nil, nil, http.StatusOK)))
	})
	t.Run("lighttpd, a scratch document", func(t *testing.T) {
		t.Parallel()
		rt := newTransport(t)
		url := startLighttpd(t, rt) + "/scratch.json"
		r := requireProbePasses(t, newClient(t, rt), url)
		assert.True(t, r.Created)
		assert.True(t, r.Deleted)
		mustDo(t, rt, http.MethodGet, url, nil, nil, http.StatusNotFound)
	})
	t.Run("Radicale, a vCard", func(t *testing.T) {
		t.Parallel()
		tr := newTransport(t)
		rt := basicAuth{next: tr, user: "occ", pass: "unused"}
		book := startRadicale(t, tr) + "/occ/contacts/"
		mustDo(t, rt, "MKCOL", book, http.Header{"Content-Type": {"application/xml"}}, []byte(addressBook), http.StatusCreated)
		card := vcard("probed", tally{N: 3, Log: "a b c"})
		mustDo(t, rt, http.MethodPut, book+"p.vcf", http.Header{"Content-Type": {"text/vcard"}}, card, http.StatusCreated)
		before := mustDo(t, rt, http.MethodGet, book+"p.vcf", nil, nil, http.StatusOK)
		requireProbePasses(t, newClient(t, rt), book+"p.vcf")
		assert.Equal(t, string(before), string(mustDo(t, rt, http.MethodGet, book+"p.vcf", nil, nil, http.StatusOK)))
	})
	t.Run("PouchDB, the version in _rev", func(t *testing.T) {
		t.Parallel()
		rt := newTransport(t)
		db := startPouchDB(t, rt) + "/occ"
		mustDo(t, rt, http.MethodPut, db, nil, nil, http.StatusCreated)
		mustDo(t, rt, http.MethodPut, db+"/d", http.Header{"Content-Type": {"application/json"}}, []byte(`{"n":1}`), http.StatusCreated)
		requireProbePasses(t, newClient(t, rt, occ.WithVersionField("/_rev")), db+"/d")
		assert.Equal(t, tally{N: 1}, getTally(t, rt, db+"/d"))
	})
}

// requireProbePasses probes url with c and requires every check to pass
// and the document to be left as found.
func requireProbePasses(t *testing.T, c *occ.Client, url string) occ.ProbeReport {
	t.Helper()
	r, err := occ.Probe(testContext(t), c, url)
	require.NoError(t, err)
	assert.True(t, r.Passed(), "%+v", r)
	assert.True(t, r.Restored, "%+v", r)
	return r
}
