package realservers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseVCard checks the race's vCard reader on what a server may send
// back: its own vCard, folded lines, LF line ends; and refuses others.
func TestParseVCard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		card string
		want tally
		err  bool
	}{
		{name: "as written", card: string(vcard("u", tally{N: 2, Log: "w0.0 w1.0"})), want: tally{N: 2, Log: "w0.0 w1.0"}},
		{name: "folded, LF", card: "BEGIN:VCARD\nX-OCC-N:12\nNOTE:w0.0 w1\n .0 w2.0\nEND:VCARD\n", want: tally{N: 12, Log: "w0.0 w1.0 w2.0"}},
		{name: "folded with a tab, CRLF", card: "BEGIN:VCARD\r\nNOTE:w0\r\n\t.0\r\nX-OCC-N:1\r\nEND:VCARD\r\n", want: tally{N: 1, Log: "w0.0"}},
		{name: "empty log", card: string(vcard("u", tally{})), want: tally{}},
		{name: "no count", card: "BEGIN:VCARD\r\nNOTE:w0.0\r\nEND:VCARD\r\n", err: true},
		{name: "bad count", card: "BEGIN:VCARD\r\nX-OCC-N:x\r\nNOTE:\r\nEND:VCARD\r\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVCard([]byte(tc.card))
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestTallyFaults checks that the race's check sees a lost change and a
// doubled one, even when they leave the count right.
func TestTallyFaults(t *testing.T) {
	t.Parallel()
	var full tally
	for _, r := range []string{ownClients, oneClient} {
		for w := range writers {
			for i := range increments {
				full.add(fmt.Sprintf("%s%d.%d", r, w, i))
			}
		}
	}
	lost, doubled := tallyFaults(full, ownClients, oneClient)
	assert.Empty(t, lost)
	assert.Empty(t, doubled)
	lost, _ = tallyFaults(full, ownClients, oneClient, "x")
	assert.Len(t, lost, writers*increments, "a round that did not run is lost whole")

	swapped := full
	swapped.Log = strings.Replace(full.Log, "s3.4", "s3.5", 1) // count still 800
	lost, doubled = tallyFaults(swapped, ownClients, oneClient)
	assert.Equal(t, []string{"s3.4"}, lost)
	assert.Equal(t, []string{"s3.5"}, doubled)
}
