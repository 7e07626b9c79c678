package occ

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// object is a decoded JSON object whose members are still raw.
type object map[string]json.RawMessage

// decodeObject decodes raw as an object, or returns nil.
func decodeObject(raw json.RawMessage) object {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var o object
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// decodeArray decodes raw as an array, or returns nil.
func decodeArray(raw json.RawMessage) []json.RawMessage {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return nil
	}
	return a
}

// str returns the first of keys whose value is a JSON string.
func (o object) str(keys ...string) string {
	for _, k := range keys {
		raw := o[k]
		if len(raw) == 0 || raw[0] != '"' {
			continue
		}
		if s := jsonString(raw); s != "" {
			return s
		}
	}
	return ""
}

// jsonString decodes a raw JSON string, taking a fast path when it has no
// escapes; "" when raw is not a string.
func jsonString(raw json.RawMessage) string {
	if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// text is str that also accepts OData's {"lang","value"} message objects.
func (o object) text(keys ...string) string {
	for _, k := range keys {
		if v := strings.Join(o.strs(k), "; "); v != "" { // GitLab: {"message":["..."]}
			return v
		}
		if v := o.obj(k).str("value"); v != "" {
			return v
		}
	}
	return ""
}

// scalar is str that also accepts numbers, as their literal text.
func (o object) scalar(keys ...string) string {
	for _, k := range keys {
		if s := o.str(k); s != "" {
			return s
		}
		if raw := o[k]; len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
			return string(raw)
		}
	}
	return ""
}

// integer returns the value of key as an int, or 0 when it is not a
// number or string of one that fits.
func (o object) integer(key string) int {
	n, err := strconv.Atoi(o.scalar(key))
	if err != nil {
		return 0
	}
	return n
}

// obj returns the member key as an object, or nil.
func (o object) obj(key string) object { return decodeObject(o[key]) }

// objects returns the members of the array at key that are objects.
func (o object) objects(key string) []object {
	var out []object
	for _, raw := range decodeArray(o[key]) {
		if m := decodeObject(raw); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// strs returns key as a list of strings: a single string, or the strings
// of an array.
func (o object) strs(key string) []string {
	if s := o.str(key); s != "" {
		return []string{s}
	}
	var out []string
	for _, raw := range decodeArray(o[key]) {
		if s := (object{"": raw}).str(""); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseJSON reads a JSON error body. problem says the Content-Type declared
// problem+json. It returns false when b is not a JSON object or array.
func parseJSON(b []byte, e *ConflictError, problem bool) bool {
	if b[0] == '[' {
		return parseJSONArray(b, e)
	}
	o := decodeObject(b)
	if o == nil {
		return false
	}
	if problem || isProblem(o) {
		parseProblem(o, e)
		return true
	}
	if !parseErrorShape(o, e) && !looksLikeError(o, e.StatusCode) {
		setCurrent(e, b)
	}
	return true
}

// looksLikeError reports whether an object no parser knows is an error
// body all the same, and so never the resource's representation: it has a
// member named like an error (error, errors, errorMessages, odata.error,
// ErrorInfo, fault, exception, failures...) whose value is not null, a
// number or a boolean, or a numeric status, statusCode or code equal to
// the answer's status.
func looksLikeError(o object, status int) bool {
	for k, v := range o {
		n := normalizeParam(k)
		if len(v) == 0 || v[0] == 'n' || v[0] == 't' || v[0] == 'f' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9') {
			continue
		}
		for _, w := range []string{"error", "errors", "fault", "exception", "failures"} {
			if strings.HasPrefix(n, w) || strings.HasSuffix(n, w) {
				return true
			}
		}
	}
	for _, k := range []string{"status", "statusCode", "code"} {
		if o.integer(k) == status && status != 0 {
			return true
		}
	}
	return false
}

// parseJSONArray reads a top-level array: an error object first in it, or
// else the array is the resource itself.
func parseJSONArray(b []byte, e *ConflictError) bool {
	a := decodeArray(b)
	if a == nil {
		return false
	}
	if len(a) > 0 {
		if o := decodeObject(a[0]); o != nil && parseErrorShape(o, e) {
			return true
		}
	}
	setCurrent(e, b)
	return true
}

// setCurrent records b as the current representation, and its version
// members, if any.
func setCurrent(e *ConflictError, b []byte) {
	e.Current = bytes.Clone(b)
	if o := decodeObject(b); o != nil {
		e.CurrentVersion = resourceVersion(o)
	}
}

// resourceVersion finds the version members of a resource representation.
func resourceVersion(o object) string {
	if v := o.scalar("_rev", "resourceVersion", "current_version", "currentVersion"); v != "" {
		return v
	}
	return o.obj("metadata").scalar("resourceVersion")
}

// parseErrorShape tries the known JSON error shapes in turn.
func parseErrorShape(o object, e *ConflictError) bool {
	switch {
	case o.str("kind") == "Status":
		parseKubernetes(o, e)
	case o.obj("odata.error") != nil:
		parseAzure(o.obj("odata.error"), e)
	case isSpringBoot(o):
		parseSpringBoot(o, e)
	case o["errorMessages"] != nil || o.obj("errors") != nil:
		parseFieldErrors(o, e)
	case o.obj("fault") != nil:
		parseFault(o.obj("fault"), e)
	case o.obj("sys").str("type") == "Error": // Contentful: {"sys":{"type":"Error","id":"VersionMismatch"},"message"}
		e.Code, e.Message = o.obj("sys").str("id"), o.text("message")
	case len(o.objects("failures")) > 0:
		parseElastic(o.objects("failures")[0].obj("cause"), e)
	case o.str("documentation_url") != "" || (o.str("message") != "" && o["errors"] != nil):
		parseGitHub(o, e)
	case o["errors"] != nil && len(o.objects("errors")) > 0:
		parseJSONAPI(o, e)
	case o.obj("error") != nil:
		parseErrorObject(o.obj("error"), e)
	case isFlatError(o):
		parseFlat(o, e)
	default:
		return false
	}
	return true
}

// isSpringBoot reports whether o is Spring Boot's default error body,
// {"timestamp","status","error","message","path"}, whose "error" is the
// status's reason phrase rather than a code.
func isSpringBoot(o object) bool {
	return o["timestamp"] != nil && o.str("path") != "" && o.integer("status") != 0 && o.str("error") != ""
}

// parseSpringBoot reads Spring Boot's default error body: the exception
// class (when server.error.include-exception is on) is the code, binding
// errors name the fields.
func parseSpringBoot(o object, e *ConflictError) {
	e.Code = firstNonEmpty(o.scalar("code", "errorCode"), o.str("exception"))
	e.RequestID = o.str("requestId")
	if m := o.str("message"); m != "No message available" {
		e.Message = m
	}
	for _, er := range o.objects("errors") {
		e.Fields = append(e.Fields, er.str("field"))
		e.hints = append(e.hints, er.str("code"))
		if e.Message == "" {
			e.Message = er.str("defaultMessage")
		}
	}
}

// parseFieldErrors reads Jira's {"errorMessages":[...],"errors":{"field":
// "message"}} and the like (Rails' and Laravel's {"errors":{"field":[...]}}):
// the field names, sorted, are Fields; the message is the body's own, else
// the general messages, else the fields' messages.
func parseFieldErrors(o object, e *ConflictError) {
	errs := o.obj("errors")
	var fields, msgs []string
	for k := range errs {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	for _, f := range fields {
		msgs = append(msgs, errs.strs(f)...)
	}
	e.Fields = append(e.Fields, fields...)
	e.Message = firstNonEmpty(o.str("message"), joinSentences(o.strs("errorMessages")), joinSentences(msgs))
	e.Code = o.scalar("code", "errorCode", "error_code")
}

// parseFault reads Apigee's {"fault":{"faultstring","detail":{"errorcode"}}}.
func parseFault(o object, e *ConflictError) {
	e.Code = o.obj("detail").str("errorcode")
	e.Message = o.str("faultstring")
}

// parseElastic reads an Elasticsearch exception {"type","reason",
// "root_cause"}. A version_conflict_engine_exception is a duplicate when its
// reason says the document already exists (a create of an existing id),
// else a version conflict.
func parseElastic(o object, e *ConflictError) {
	e.Code = o.str("type")
	e.Message = o.str("reason")
	for _, rc := range o.objects("root_cause") {
		e.hints = append(e.hints, rc.str("type"))
	}
	if e.Code == "version_conflict_engine_exception" {
		e.Kind = KindVersion
		if kindFromWords(e.Message) == KindDuplicate {
			e.Kind = KindDuplicate
		}
	}
}

// isProblem reports whether o looks like an RFC 9457 problem object: a
// type or title, and a numeric status or a detail.
func isProblem(o object) bool {
	status := o["status"]
	numeric := len(status) > 0 && status[0] >= '0' && status[0] <= '9'
	return o.str("type", "title") != "" && (numeric || o.str("detail") != "") && o["error"] == nil
}

// parseProblem reads an RFC 9457 problem object, then its extension
// members as a flat error.
func parseProblem(o object, e *ConflictError) {
	p := &Problem{
		Type: o.str("type"), Title: o.str("title"), Status: o.integer("status"),
		Detail: o.str("detail"), Instance: o.str("instance"),
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	for k, v := range o {
		switch k {
		case "type", "title", "status", "detail", "instance":
		default:
			if p.Extensions == nil {
				p.Extensions = make(map[string]json.RawMessage)
			}
			p.Extensions[k] = v
		}
	}
	e.Problem = p
	parseFlat(o, e)
	if e.Code == "" && p.Type != "about:blank" {
		e.Code = p.Type
	}
	e.Message = firstNonEmpty(p.Detail, p.Title, e.Message)
	e.hints = append(e.hints, p.Type, p.Title)
	for _, ip := range append(o.objects("invalid-params"), o.objects("invalid_params")...) {
		e.Fields = append(e.Fields, ip.str("name", "pointer", "field"))
	}
	for _, er := range o.objects("errors") {
		e.Fields = append(e.Fields, er.str("pointer", "field", "name"))
	}
}

// isFlatError reports whether o has the members of a flat error object.
func isFlatError(o object) bool {
	return o.str("error", "message", "msg", "detail", "reason", "error_description",
		"errorMessage", "error_message") != "" || len(o.strs("message")) > 0
}

// parseFlat reads a flat {"error","message","code","field",...} object,
// CouchDB's {"error","reason"}, MongoDB Atlas's {"errorCode","detail",
// "reason"} and OData's {"code","message":{"value"}} among them. A code or
// message that only repeats the status's reason phrase ("Conflict") gives
// way to the next member.
func parseFlat(o object, e *ConflictError) {
	status := http.StatusText(e.StatusCode)
	errCode := o.str("error")
	if errCode == status {
		errCode = ""
	}
	e.Code = firstNonEmpty(e.Code, o.scalar("code", "error_code", "errorCode"), errCode)
	if e.Message == "" {
		msg, requestID := azureMessage(flatMessage(o, status))
		e.Message = msg
		e.RequestID = firstNonEmpty(e.RequestID, requestID)
	}
	for _, k := range []string{"field", "fields", "conflicting_field", "conflictingField",
		"conflicting_fields", "conflictingFields", "param", "pointer", "target"} {
		e.Fields = append(e.Fields, o.strs(k)...)
	}
	e.Suggestion = firstNonEmpty(e.Suggestion, o.str("suggestion", "hint", "resolution", "remedy"))
	e.CurrentVersion = firstNonEmpty(e.CurrentVersion, o.scalar("current_version", "currentVersion",
		"current_etag", "currentEtag", "current_revision", "currentRevision", "_rev"))
	e.RequestID = firstNonEmpty(e.RequestID, o.str("request_id", "requestId", "requestID", "trace_id", "traceId"))
	e.DocumentationURL = firstNonEmpty(e.DocumentationURL, o.str("documentation_url", "doc_url", "help_url", "helpUrl"))
	for _, k := range []string{"current", "current_state", "currentState", "current_value",
		"currentValue", "current_resource", "currentResource", "current_representation"} {
		if raw := o[k]; len(raw) > 0 && e.Current == nil && string(raw) != "null" {
			e.Current = bytes.Clone(raw)
		}
	}
}

// flatMessage returns the first message member that says more than the
// status's reason phrase, else the first message member.
func flatMessage(o object, status string) string {
	first := ""
	for _, k := range []string{"message", "msg", "reason", "detail", "error_description",
		"errorMessage", "error_message", "title"} {
		m := o.text(k)
		switch {
		case m == "":
		case !strings.EqualFold(m, status):
			return m
		case first == "":
			first = m
		}
	}
	return first
}

// azureMessage splits Azure Storage's "message\nRequestId:...\nTime:..."
// into the message and the request id; other messages come back whole.
func azureMessage(m string) (string, string) {
	msg, rest, ok := strings.Cut(m, "\n")
	if id := requestIDLine(rest); ok && id != "" {
		return strings.TrimSpace(msg), id
	}
	return m, ""
}

// parseKubernetes reads a Kubernetes metav1.Status.
func parseKubernetes(o object, e *ConflictError) {
	e.Code = o.str("reason")
	e.Message = o.str("message")
	d := o.obj("details")
	for _, c := range d.objects("causes") {
		e.Fields = append(e.Fields, c.str("field"))
		e.hints = append(e.hints, c.str("reason"))
	}
	if s := d.integer("retryAfterSeconds"); s > 0 {
		e.RetryAfter = seconds(int64(s))
	}
}

// parseGitHub reads GitHub's {"message","documentation_url","errors"}.
func parseGitHub(o object, e *ConflictError) {
	e.Message = o.str("message")
	e.DocumentationURL = o.str("documentation_url")
	for _, er := range o.objects("errors") {
		e.Code = firstNonEmpty(e.Code, er.str("code"))
		e.Fields = append(e.Fields, er.str("field"))
		if m := er.str("message"); m != "" {
			e.Message = joinMessage(e.Message, m)
		}
		e.hints = append(e.hints, er.str("code"))
	}
	for _, m := range o.strs("errors") {
		e.Message = joinMessage(e.Message, m)
	}
}

// parseJSONAPI reads JSON:API's {"errors":[{"status","code","title",
// "detail","source":{"pointer"|"parameter"}}]}, and the like that name the
// text "message" (Bitbucket Server's {"errors":[{"message","exceptionName"}]}).
func parseJSONAPI(o object, e *ConflictError) {
	for _, er := range o.objects("errors") {
		e.Code = firstNonEmpty(e.Code, er.scalar("code"))
		e.Message = firstNonEmpty(e.Message, er.str("detail", "title", "message"))
		src := er.obj("source")
		e.Fields = append(e.Fields, src.str("pointer", "parameter", "header"))
		e.hints = append(e.hints, er.scalar("code"), er.str("title"))
		parseFlat(er.obj("meta"), e)
	}
}

// parseErrorObject reads {"error":{...}} in its Elasticsearch, Google,
// Azure (OData v4 among them) and Stripe dialects.
func parseErrorObject(o object, e *ConflictError) {
	switch {
	case o.str("reason") != "" && (o.str("type") != "" || o["root_cause"] != nil):
		parseElastic(o, e)
	case o.str("status") != "" || o.integer("code") != 0:
		parseGoogle(o, e)
	case o.str("type") != "" && o["target"] == nil:
		parseStripe(o, e)
	default:
		parseAzure(o, e)
	}
}

// googleKinds maps google.rpc.Code names to kinds.
var googleKinds = map[string]Kind{
	"ABORTED":             KindVersion,
	"ALREADY_EXISTS":      KindDuplicate,
	"FAILED_PRECONDITION": KindState,
}

// parseGoogle reads Google's {"code":409,"message","status","details"}.
func parseGoogle(o object, e *ConflictError) {
	e.Message = o.str("message")
	e.Kind = googleKinds[o.str("status")]
	for _, d := range o.objects("details") {
		e.hints = append(e.hints, d.str("reason"))
		for _, v := range d.objects("fieldViolations") {
			e.Fields = append(e.Fields, v.str("field"))
		}
	}
	for _, er := range o.objects("errors") {
		e.hints = append(e.hints, er.str("reason"))
	}
	e.Code = firstNonEmpty(append([]string{o.str("status"), o.str("code")}, e.hints...)...)
}

// parseAzure reads Azure's {"code","message","target","details",
// "innererror"}.
func parseAzure(o object, e *ConflictError) {
	for _, d := range o.objects("details") {
		e.Fields = append(e.Fields, d.str("target"))
		e.hints = append(e.hints, d.str("code"))
	}
	inner := o.obj("innererror")
	for i := 0; inner != nil && i < 8; i++ {
		e.hints = append(e.hints, inner.str("code"))
		inner = inner.obj("innererror")
	}
	parseFlat(o, e)
}

// parseStripe reads Stripe's {"type","code","message","param","doc_url"}.
func parseStripe(o object, e *ConflictError) {
	e.Code = firstNonEmpty(o.str("code"), o.str("type"))
	e.Message = o.str("message")
	e.Fields = append(e.Fields, o.str("param"))
	e.DocumentationURL = o.str("doc_url")
	e.hints = append(e.hints, o.str("type"), o.str("decline_code"))
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// joinSentences joins messages with spaces.
func joinSentences(msgs []string) string { return strings.Join(msgs, " ") }

// joinMessage joins a summary and a detail as "summary: detail"; either
// alone is the message. Once the summary is longer than a message can be,
// the detail is dropped, so that many details cannot make joining quadratic.
func joinMessage(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "", len(a) > 4*maxMessage:
		return a
	}
	return a + ": " + b
}
