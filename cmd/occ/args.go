package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// parseURLArgs parses args into fs the way every subcommand that works on a
// URL takes it: as its one argument, before, after or between the flags
// (occ probe URL -version-field /v), or as -url (urlFlag, bound to fs). It
// returns the URL, or the exit status to stop with and false: 0 after -h,
// 2 after a bad flag, no URL, or more than one.
func parseURLArgs(fs *flag.FlagSet, args []string, urlFlag *string) (string, int, bool) {
	var pos []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return "", exitOK, false
		case err != nil:
			return "", exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	switch {
	case len(pos) > 1:
		return "", usageError(fs, "want one URL, got %d arguments", len(pos)), false
	case len(pos) == 1 && *urlFlag != "" && *urlFlag != pos[0]:
		return "", usageError(fs, "two URLs: %q and -url %q", pos[0], *urlFlag), false
	case len(pos) == 1:
		*urlFlag = pos[0]
	case *urlFlag == "":
		return "", usageError(fs, "want the URL, as an argument or -url"), false
	}
	if u, err := url.Parse(*urlFlag); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usageError(fs, "URL: want an http or https URL"), false
	}
	return *urlFlag, exitOK, true
}

// newHTTPClient returns a client with its own transport, so that its idle
// connections can be closed when the command ends. With cacert, the file
// of PEM certificates to trust (such as a Kubernetes cluster's CA), it
// trusts those instead of the system's.
func newHTTPClient(cacert string) (*http.Client, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       30 * time.Second,
	}
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			return nil, fmt.Errorf("-cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-cacert %s: no PEM certificate in it", cacert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
