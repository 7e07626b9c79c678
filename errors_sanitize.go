package occ

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on the text kept from an error body.
const (
	maxMessage = 1024 // bytes of Message, Suggestion and Problem texts
	maxShort   = 256  // bytes of Code, a field name, a version, a URL or an id
	maxFields  = 32   // how many Fields are kept
)

// finish completes a parsed error: headers complete the body (an error code
// header when the body named none, a current version the ETag can vouch
// for, the request id), the reason phrase stands in for a missing message,
// and every text is sanitised.
func finish(resp *http.Response, e *ConflictError) {
	if etag := headerVersion(resp.Header.Get("Etag"), e); etag != "" {
		e.CurrentVersion = etag
	}
	if e.Code == "" {
		e.Code = firstHeader(resp.Header, errorCodeHeaders)
	}
	if e.Message == "" {
		e.Message = strings.Trim(resp.Header.Get("X-Minio-Error-Desc"), `"`)
	}
	if e.Message == "" {
		e.Message = reasonPhrase(resp)
		e.statusMessage = e.Message != ""
	}
	if id := firstHeader(resp.Header, requestIDHeaders); id != "" {
		e.RequestID = id
	}
	if d, ok := retryAfter(resp.Header, time.Now); ok {
		e.RetryAfter = d
	}
	e.RateLimit = ParseRateLimit(resp.Header, time.Now())
	sanitize(e)
}

// errorCodeHeaders carry an error's code beside (or instead of) its body:
// Azure Storage's x-ms-error-code, and MinIO's on HEAD answers.
var errorCodeHeaders = []string{"X-Ms-Error-Code", "X-Minio-Error-Code"}

// firstHeader returns the first non-empty value of the named headers.
func firstHeader(h http.Header, names []string) string {
	for _, k := range names {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// reasonPhrase returns resp's reason phrase when it says more than the
// status's standard text (Azure Storage puts its message there), else "".
// RFC 9110 section 15 tells clients to ignore it, so it is only ever a
// fallback message, never classified.
func reasonPhrase(resp *http.Response) string {
	_, phrase, _ := strings.Cut(resp.Status, " ")
	phrase = strings.TrimSpace(phrase)
	if strings.EqualFold(phrase, http.StatusText(resp.StatusCode)) {
		return ""
	}
	return phrase
}

// headerVersion returns an error answer's ETag when it can be the
// resource's current version, as documented at ConflictError.CurrentVersion:
// not a hash of the error body itself, and, when weak, only on an answer
// whose body is the resource's representation.
func headerVersion(etag string, e *ConflictError) string {
	switch {
	case etag == "":
		return ""
	case !e.BodyTruncated && isBodyHash(etag, e.Body):
		return ""
	case strings.HasPrefix(etag, "W/") && !bodyIsCurrent(e):
		return ""
	}
	return etag
}

// bodyIsCurrent reports whether e's whole body was taken as Current.
func bodyIsCurrent(e *ConflictError) bool {
	return len(e.Current) > 0 && bytes.Equal(bytes.TrimSpace(e.Current), bytes.TrimSpace(e.Body))
}

// isBodyHash reports whether etag is the tag the etag package of Express
// and Koa derives from body: the body's length in hex, a dash and the first
// 27 characters of the base64 SHA-1 of the body, quoted, strong or weak.
func isBodyHash(etag string, body []byte) bool {
	tag := strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	size, hash, ok := strings.Cut(tag, "-")
	if !ok || len(hash) != 27 || size != strconv.FormatInt(int64(len(body)), 16) {
		return false
	}
	sum := sha1.Sum(body)
	return base64.StdEncoding.EncodeToString(sum[:])[:27] == hash
}

// sanitize makes every text field valid UTF-8 on one line within bounds,
// and drops empty and repeated Fields.
func sanitize(e *ConflictError) {
	e.Code = cleanText(e.Code, maxShort)
	e.Message = cleanText(e.Message, maxMessage)
	e.Suggestion = cleanText(e.Suggestion, maxMessage)
	e.CurrentVersion = cleanText(e.CurrentVersion, maxShort)
	e.DocumentationURL = cleanText(e.DocumentationURL, maxShort)
	e.RequestID = cleanText(e.RequestID, maxShort)
	e.Fields = cleanFields(e.Fields)
	if p := e.Problem; p != nil {
		p.Type, p.Instance = cleanText(p.Type, maxShort), cleanText(p.Instance, maxShort)
		p.Title, p.Detail = cleanText(p.Title, maxMessage), cleanText(p.Detail, maxMessage)
	}
}

// cleanFields sanitises names, drops empty and repeated ones and keeps at
// most maxFields.
func cleanFields(fields []string) []string {
	var out []string
	for _, f := range fields {
		f = cleanText(f, maxShort)
		if f != "" && !slices.Contains(out, f) && len(out) < maxFields {
			out = append(out, f)
		}
	}
	return out
}

// cleanText returns s as valid UTF-8, invisible format characters removed
// (see invisible), control characters and runs of white space turned into
// single spaces, trimmed and cut to at most max bytes (ending in "…" when
// cut).
func cleanText(s string, max int) string {
	if isClean(s, max) {
		return s
	}
	if len(s) > 4*max {
		s = s[:4*max]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}), " ")
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// invisible reports whether r is a format character (Unicode category Cf)
// other than the zero-width joiners emoji and some scripts need: the
// bidirectional controls U+202A-U+202E and U+2066-U+2069 that reorder what a
// terminal or a log viewer shows (Trojan Source), zero-width spaces, tag
// characters, the byte order mark.
func invisible(r rune) bool {
	return r >= 0x80 && r != '\u200c' && r != '\u200d' && unicode.Is(unicode.Cf, r)
}

// isClean reports whether cleanText would return s unchanged: short
// enough, valid UTF-8, no control characters, single spaces inside only.
func isClean(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return false
	}
	prev := 'x'
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || invisible(r) ||
			(unicode.IsSpace(r) && (r != ' ' || prev == ' ')) {
			return false
		}
		prev = r
	}
	return true
}

// retryAfter parses a Retry-After header: delay seconds, or an HTTP date
// measured against the answer's Date header, else against now().
func retryAfter(h http.Header, now func() time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return seconds(n), true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	base := now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		base = d
	}
	return max(at.Sub(base), 0), true
}

// seconds converts n seconds to a Duration, saturating instead of
// overflowing; negative n is 0.
func seconds(n int64) time.Duration {
	switch {
	case n <= 0:
		return 0
	case n > math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}

// secretParams are the query parameters whose values are redacted, by
// normalised name (lower case, without '-', '_', '.' and spaces): API keys,
// OAuth and session tokens and codes, passwords, signatures and credentials
// of presigned URLs (AWS SigV2 and SigV4, Google V4, Azure SAS sig).
// Names that merely contain one of these words (author, assignee, zipcode,
// sort_key, keyword, pageToken) stay readable. [WithRedactedParams] adds
// names.
var secretParams = map[string]bool{
	"token": true, "key": true, "apikey": true, "sig": true, "signature": true,
	"code": true, "auth": true, "authorization": true, "session": true,
	"sessionid": true, "phpsessid": true, "jwt": true, "assertion": true,
	"clientassertion": true, "pass": true, "pwd": true, "passwd": true,
	"password": true, "secret": true, "credential": true, "credentials": true,
	"accesskey": true, "accesskeyid": true, "awsaccesskeyid": true,
	"oauthverifier": true, "samlresponse": true,
}

// secretSuffixes mark a normalised name as secret by its end: client_secret,
// db_password, x-api-key, X-Amz-Signature, X-Goog-Credential,
// X-Amz-Security-Token, refresh_token, private_key, GitLab's private_token,
// Azure API Management's subscription-key (Ocp-Apim-Subscription-Key),
// OAuth 1's oauth_consumer_key, oauth_token and oauth_signature, Azure
// Storage's AccountKey.
var secretSuffixes = []string{
	"secret", "password", "passwd", "apikey", "signature", "credential",
	"credentials", "accesstoken", "refreshtoken", "idtoken", "authtoken",
	"apitoken", "sessiontoken", "securitytoken", "oauthtoken", "bearertoken",
	"csrftoken", "xsrftoken", "privatekey", "secretkey", "sessionid",
	"privatetoken", "subscriptionkey", "consumerkey", "accountkey",
	"masterkey", "sastoken", "signingkey", "webhooksecret",
}

// normalizeParam folds a parameter name for matching: lower case, without
// '-', '_', '.' and spaces.
func normalizeParam(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return unicode.ToLower(r)
	}, name)
}

// isSecretName reports whether a query parameter is secret: a name of the
// default list (see secretParams) or of extra, which holds normalised names.
func isSecretName(name string, extra []string) bool {
	n := normalizeParam(name)
	if secretParams[n] || slices.Contains(extra, n) {
		return true
	}
	for _, suffix := range secretSuffixes {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// redactURL returns u without user info or fragment, the values of secret
// query parameters (the default list, see secretParams) replaced by
// REDACTED. It is "" for a nil u.
func redactURL(u *url.URL) string { return redactURLWith(u, nil) }

// redactURLWith is redactURL that also redacts the parameters named in
// extra, normalised as by normalizeParam.
func redactURLWith(u *url.URL, extra []string) string {
	if u == nil {
		return ""
	}
	r := *u
	r.User = nil
	r.Fragment, r.RawFragment = "", ""
	r.RawQuery = redactQuery(r.RawQuery, extra)
	return r.String()
}

// redactURLText redacts a URL held as text by the default list. Text that
// does not parse as a URL keeps its path but loses its user info and
// fragment and has its query redacted.
func redactURLText(raw string) string { return redactURLTextWith(raw, nil) }

// redactURLTextWith is redactURLText that also redacts the parameters named
// in extra, normalised as by normalizeParam.
func redactURLTextWith(raw string, extra []string) string {
	if u, err := url.Parse(raw); err == nil {
		return redactURLWith(u, extra)
	}
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 && !strings.ContainsAny(rest[:at], "/?#") {
			raw = scheme + "://" + rest[at+1:]
		}
	}
	raw, _, _ = strings.Cut(raw, "#")
	base, query, ok := strings.Cut(raw, "?")
	if !ok {
		return base
	}
	return base + "?" + redactQuery(query, extra)
}

// redactQuery redacts a raw query, keeping its order and encoding.
func redactQuery(q string, extra []string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && isSecretName(name, extra) {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// minSecret is the shortest value taken as a secret to scrub: shorter
// values ("1", "on") would blank ordinary words out of a message.
const minSecret = 4

// redacted stands in for a secret in every text.
const redacted = "REDACTED"

// sentSecrets returns the secret values req carried, longest first: the
// values of its headers but the plain ones (see plainHeaders), with their
// credential after a scheme word (Bearer, Basic and Basic's decoded
// password), and their name=value pairs' values (cookies); the values of
// its secret query parameters (by the default list and extra), raw and
// escaped; its user info's password.
func sentSecrets(req *http.Request, extra []string) []string {
	if req == nil {
		return nil
	}
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); len(v) >= minSecret && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for k, vs := range req.Header {
		if !plainHeaders[http.CanonicalHeaderKey(k)] {
			for _, v := range vs {
				secretPieces(v, add)
			}
		}
	}
	if u := req.URL; u != nil && (u.RawQuery != "" || u.User != nil) {
		q, _ := url.ParseQuery(u.RawQuery)
		for k, vs := range q {
			if isSecretName(k, extra) {
				for _, v := range vs {
					add(v)
					add(url.QueryEscape(v))
				}
			}
		}
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// secretPieces calls add with a header value and the secrets inside it.
func secretPieces(v string, add func(string)) {
	add(v)
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
		add(cred)
		if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil && strings.EqualFold(scheme, "Basic") {
			add(string(dec))
			if _, pw, ok := strings.Cut(string(dec), ":"); ok {
				add(pw)
			}
		}
	}
	for part := range strings.SplitSeq(v, ";") {
		if _, val, ok := strings.Cut(part, "="); ok {
			add(strings.Trim(val, `" `))
		}
	}
}

// scrub returns s with every secret replaced by REDACTED, and, in a text
// that may have been cut short (ending in "…", see cleanText, or read from
// a body cut at the client's limit: cut), a tail that begins a secret.
func scrub(s string, secrets []string, cut bool) string {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	body, ellipsis := strings.CutSuffix(s, "…")
	cut = cut || ellipsis
	for _, sec := range secrets {
		if !cut {
			break
		}
		if n := secretTail(body, sec); n > 0 {
			return body[:len(body)-n] + redacted + s[len(body):]
		}
	}
	return s
}

// secretTail returns the length of the longest end of s, at least
// minSecret bytes, that begins secret (without being all of it), or 0.
func secretTail(s, secret string) int {
	from := len(s) - min(len(secret)-1, len(s))
	for i := from; i <= len(s)-minSecret; i++ {
		if s[i] == secret[0] && strings.HasPrefix(secret, s[i:]) {
			return len(s) - i
		}
	}
	return 0
}

// usedHeaders are the kept headers occ acts on (see keptHeaders), kept
// whole: validators, waits, and the Location and Content-Location occ may
// follow on the caller's origin (never shown but redacted, see
// redactURLText).
var usedHeaders = map[string]bool{
	"Etag": true, "Last-Modified": true, "Retry-After": true, "Date": true,
	"Location": true, "Content-Location": true,
}

// scrubSecrets removes the secrets req carried from every text of e the
// server wrote, its body and the kept headers occ does not act on (see
// usedHeaders) included; Current, the resource's document, is data, not
// text.
func scrubSecrets(e *ConflictError, req *http.Request, extra []string) {
	secrets := sentSecrets(req, extra)
	if len(secrets) == 0 {
		return
	}
	cut := e.BodyTruncated
	for _, p := range []*string{&e.Code, &e.Message, &e.Suggestion, &e.CurrentVersion, &e.DocumentationURL, &e.RequestID} {
		*p = scrub(*p, secrets, cut)
	}
	for i := range e.Fields {
		e.Fields[i] = scrub(e.Fields[i], secrets, cut)
	}
	if p := e.Problem; p != nil {
		for _, f := range []*string{&p.Type, &p.Title, &p.Detail, &p.Instance} {
			*f = scrub(*f, secrets, cut)
		}
		for k, v := range p.Extensions {
			p.Extensions[k] = scrubBytes(v, secrets, false)
		}
	}
	e.Body = scrubBytes(e.Body, secrets, e.BodyTruncated)
	for k, vs := range e.Header {
		if !usedHeaders[k] {
			for i := range vs {
				vs[i] = scrub(vs[i], secrets, false)
			}
		}
	}
}

// scrubBytes is scrub for raw bytes, JSON included: a secret is also
// found in its JSON-escaped form; cut says the bytes were cut short. It
// returns b itself when b holds no secret.
func scrubBytes(b []byte, secrets []string, cut bool) []byte {
	out := b
	for _, sec := range secrets {
		for _, form := range []string{sec, jsonEscaped(sec)} {
			if bytes.Contains(out, []byte(form)) {
				out = bytes.ReplaceAll(out, []byte(form), []byte(redacted))
			}
		}
		if !cut {
			continue
		}
		if n := secretTail(string(out), sec); n > 0 { // a body cut inside a secret
			out = append(out[:len(out)-n:len(out)-n], redacted...)
		}
	}
	return out
}

// jsonEscaped returns s as it appears inside a JSON string.
func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
