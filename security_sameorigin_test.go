package occ

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSecuritySameOrigin(t *testing.T) {
	const caller = "https://api.example.com/v1/items/1?key=x"
	for target, want := range map[string]bool{
		"/v1/items/2":                           true,
		"items/2":                               true,
		"https://api.example.com/other":         true,
		"https://API.Example.COM:443/other":     true,
		"HTTPS://api.example.com/other":         true,
		"//api.example.com/x":                   true,
		"http://api.example.com/other":          false, // never https to http
		"https://api.example.com:8443/other":    false,
		"https://evil.example.com/other":        false,
		"//evil.example.com/x":                  false,
		"https://api.example.com.evil.com/x":    false,
		"https://user:pw@evil.example.com/x":    false,
		"ftp://api.example.com/x":               false,
		"https://[::1]/x":                       false,
		"https://api.example.com%2f@evil.com/x": false,
		"%zz":                                   false,
	} {
		assert.Equal(t, want, sameOrigin(caller, target), target)
	}
	assert.True(t, sameOrigin("http://127.0.0.1/x", "http://127.0.0.1:80/y"), "a default port is the same origin")
	assert.False(t, sameOrigin("http://127.0.0.1:8080/x", "http://127.0.0.2:8080/y"))
	assert.False(t, sameOrigin("http://127.0.0.1/x", "https://127.0.0.1/y"), "a scheme change is another origin")
	assert.False(t, sameOrigin("%zz", "/x"), "a caller URL that does not parse has no origin")
	assert.False(t, sameOrigin("/relative", "/relative"), "nor has a relative one")
}
