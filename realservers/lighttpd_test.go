package realservers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// lighttpdConfig serves a folder over WebDAV. mimetype.assign matters: for a
// file of no known type lighttpd sends neither ETag nor Last-Modified.
const lighttpdConfig = `server.document-root = %q
server.bind = "127.0.0.1"
server.port = %d
server.modules = ("mod_webdav")
webdav.activate = "enable"
webdav.is-readonly = "disable"
mimetype.assign = (".json" => "application/json", "" => "application/octet-stream")
server.errorlog = %q
`

// startLighttpd starts lighttpd serving an empty temporary folder over
// WebDAV and returns its base URL.
func startLighttpd(t *testing.T, rt http.RoundTripper) string {
	bin := findBinary(t, "OCC_LIGHTTPD", "lighttpd", "apt-get install -y lighttpd lighttpd-mod-webdav", "/usr/sbin/lighttpd")
	if _, err := os.Stat("/usr/lib/lighttpd/mod_webdav.so"); err != nil && os.Getenv("OCC_LIGHTTPD") == "" {
		missing(t, "lighttpd's mod_webdav", "apt-get install -y lighttpd-mod-webdav")
	}
	dir, root := t.TempDir(), memDir(t)
	port := freePort(t)
	conf := filepath.Join(dir, "lighttpd.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, lighttpdConfig, root, port, filepath.Join(dir, "error.log")), 0o600))
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	start(t, exec.Command(bin, "-D", "-f", conf), answers(rt, base+"/", 0))
	return base
}

// TestLighttpdWebDAV races writers on one JSON file served by lighttpd's
// mod_webdav, its version in the ETag.
func TestLighttpdWebDAV(t *testing.T) {
	t.Parallel()
	rt := newTransport(t)
	url := startLighttpd(t, rt) + "/tally.json"
	mustDo(t, rt, http.MethodPut, url, nil, []byte(`{"n":0,"log":""}`), http.StatusCreated)
	newDAVClient := func() *occ.Client { return newClient(t, rt) }

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newDAVClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], url, func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			assertTally(t, getTally(t, rt, url), round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		_, err := occ.Create(testContext(t), newDAVClient(), url, tally{})
		requireDuplicate(t, err, http.StatusPreconditionFailed, "")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newDAVClient(), newDAVClient()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, url, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, url, func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		requireStale(t, err, http.StatusPreconditionFailed, "", "412 Precondition Failed")
	})
}
