package realservers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// basicAuth is an http.RoundTripper that signs every request in as user.
type basicAuth struct {
	next       http.RoundTripper
	user, pass string
}

// RoundTrip sends a copy of req carrying the credentials.
func (b basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.SetBasicAuth(b.user, b.pass)
	return b.next.RoundTrip(r)
}

// addressBook is the body of an extended MKCOL (RFC 5689) that makes a
// CardDAV address book.
const addressBook = `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set>
</D:mkcol>`

// startRadicale starts Radicale with no configuration file but its
// command line, any user name accepted without a password, each user
// owning only their own collections, on a temporary storage folder. It
// returns the base URL.
func startRadicale(t *testing.T, rt http.RoundTripper) string {
	bin := findBinary(t, "OCC_RADICALE", "radicale", "apt-get install -y radicale", "/usr/bin/radicale")
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(bin, "--config", "", "--server-hosts", addr, "--storage-filesystem-folder", memDir(t),
		"--auth-type", "none", "--rights-type", "owner_only")
	start(t, cmd, answers(rt, "http://"+addr+"/", 0))
	return "http://" + addr
}

// vcard renders a tally as a vCard: the count in X-OCC-N, the log in NOTE.
func vcard(uid string, v tally) []byte {
	return fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:%s\r\nX-OCC-N:%d\r\nNOTE:%s\r\nEND:VCARD\r\n", uid, uid, v.N, v.Log)
}

// parseVCard reads the tally of a vCard made by vcard, as the server
// returns it: lines may end in CRLF or LF and be folded (RFC 6350 §3.2).
func parseVCard(b []byte) (tally, error) {
	text := strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(string(b))
	var v tally
	seen := 0
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if n, ok := strings.CutPrefix(line, "X-OCC-N:"); ok {
			var err error
			if v.N, err = strconv.Atoi(n); err != nil {
				return tally{}, fmt.Errorf("X-OCC-N: %w", err)
			}
			seen++
		} else if log, ok := strings.CutPrefix(line, "NOTE:"); ok {
			v.Log = log
			seen++
		}
	}
	if seen != 2 {
		return tally{}, errors.New("not a tally vCard")
	}
	return v, nil
}

// addToVCard returns a change for ModifyBytes that adds id to a tally
// vCard.
func addToVCard(uid, id string) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		v, err := parseVCard(b)
		if err != nil {
			return nil, err
		}
		v.add(id)
		return vcard(uid, v), nil
	}
}

// TestRadicale races writers on one vCard in a CardDAV address book, its
// version in the ETag, through ModifyBytes.
func TestRadicale(t *testing.T) {
	t.Parallel()
	tr := newTransport(t)
	base := startRadicale(t, tr)
	rt := basicAuth{next: tr, user: "occ", pass: "unused"}
	book := base + "/occ/contacts/"
	mustDo(t, rt, "MKCOL", book, http.Header{"Content-Type": {"application/xml"}}, []byte(addressBook), http.StatusCreated)
	card := book + "tally.vcf"
	mustDo(t, rt, http.MethodPut, card, http.Header{"Content-Type": {"text/vcard"}, "If-None-Match": {"*"}},
		vcard("tally", tally{}), http.StatusCreated)
	newDAVClient := func() *occ.Client { return newClient(t, rt) }

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newDAVClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.ModifyBytes(ctx, cs[w], card, addToVCard("tally", id), st)
				return err
			})
			v, err := parseVCard(mustDo(t, rt, http.MethodGet, card, nil, nil, http.StatusOK))
			require.NoError(t, err)
			assertTally(t, v, round.done...)
		})
	}

	// createCard sends a create-if-absent of a vCard through occ's Do.
	createCard := func(t *testing.T, url, uid string) error {
		req, err := http.NewRequestWithContext(testContext(t), http.MethodPut, url, bytes.NewReader(vcard(uid, tally{})))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/vcard")
		req.Header.Set("If-None-Match", "*")
		resp, err := newDAVClient().Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		return err
	}

	t.Run("duplicate create", func(t *testing.T) {
		ce := requireDuplicate(t, createCard(t, card, "tally"), http.StatusPreconditionFailed, "")
		require.Equal(t, "Precondition failed.", ce.Message)
	})

	t.Run("duplicate uid", func(t *testing.T) {
		requireDuplicate(t, createCard(t, book+"other.vcf", "tally"), http.StatusConflict, "no-uid-conflict")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newDAVClient(), newDAVClient()
		ctx := testContext(t)
		first := true
		_, err := occ.ModifyBytes(ctx, c, card, func(b []byte) ([]byte, error) {
			if first {
				first = false
				_, err := occ.ModifyBytes(ctx, rival, card, addToVCard("tally", "rival"))
				require.NoError(t, err, "the rival's write")
			}
			return addToVCard("tally", "stale")(b)
		}, occ.WithMaxAttempts(1))
		requireStale(t, err, http.StatusPreconditionFailed, "", "Precondition failed.")
	})
}
