package occ

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityDefaultClientHasTimeouts: a client made without
// WithHTTPClient cannot wait forever for a connection, a handshake or an
// answer's headers, and leaves http.DefaultTransport alone.
func TestSecurityDefaultClientHasTimeouts(t *testing.T) {
	before := http.DefaultTransport.(*http.Transport).ResponseHeaderTimeout
	c, err := New()
	require.NoError(t, err)
	tr, ok := c.hc.Transport.(*http.Transport)
	require.True(t, ok)
	defer tr.CloseIdleConnections()
	assert.NotSame(t, http.DefaultTransport, tr)
	assert.Equal(t, time.Minute, tr.ResponseHeaderTimeout)
	assert.Equal(t, 10*time.Second, tr.TLSHandshakeTimeout)
	assert.NotNil(t, tr.DialContext)
	assert.Equal(t, before, http.DefaultTransport.(*http.Transport).ResponseHeaderTimeout)

	mine := &http.Client{Transport: &http.Transport{}}
	c, err = New(WithHTTPClient(mine))
	require.NoError(t, err)
	assert.Same(t, mine.Transport, c.hc.Transport, "a caller's transport is kept as is")
	assert.Zero(t, mine.Transport.(*http.Transport).ResponseHeaderTimeout)
}
