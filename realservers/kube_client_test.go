package realservers

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
)

// The HTTP half of RECIPES.md's Kubernetes recipe, as documented there
// (TestKubeRecipeDocumented keeps the two the same).

// recipe:http begin

// kubeHTTPClient returns a client for an apiserver whose certificate the CA
// file vouches for, sending token as its bearer token: the cluster's
// certificate-authority and the user's token of a kubeconfig.
func kubeHTTPClient(caFile, token string) (*http.Client, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &http.Client{Transport: &bearer{token: token, rt: tr}}, nil
}

// bearer sends a bearer token with every request.
type bearer struct {
	token string
	rt    http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.rt.RoundTrip(r)
}

// recipe:http end
