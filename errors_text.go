package occ

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"regexp"
	"strings"
)

// xmlField is a direct child element of an XML error's root, its
// namespace and its text.
type xmlField struct{ name, space, text string }

// maxXMLFields bounds how many children of an XML error's root are kept.
const maxXMLFields = 64

// parseXML reads an XML error: an RFC 9457 <problem>, Azure Storage's
// <Error><Code>...<Message>...</Error>, or any root whose children are
// named like those. It returns false when b is not XML.
func parseXML(b []byte, e *ConflictError) bool {
	root, fields, ok := xmlChildren(b)
	if !ok {
		return false
	}
	switch {
	case root.Local == "error" && root.Space == "DAV:":
		parseDAVError(fields, e)
	case strings.EqualFold(root.Local, "problem"):
		parseProblemXML(fields, e)
	}
	parseXMLError(fields, e)
	return true
}

// parseDAVError reads a WebDAV <D:error> (RFC 4918 section 16): its first
// precondition or postcondition element, such as CardDAV's
// <CR:no-uid-conflict/> or <D:lock-token-submitted>, names the Code; a
// D:responsedescription or Apache's m:human-readable is the message.
func parseDAVError(fields []xmlField, e *ConflictError) {
	for _, f := range fields {
		switch f.name {
		case "responsedescription", "human-readable":
			e.Message = firstNonEmpty(e.Message, strings.TrimSpace(f.text))
		default:
			e.Code = firstNonEmpty(e.Code, f.name)
		}
	}
}

// xmlChildren returns the name of b's root element and the text of its
// direct children. Deeper elements are skipped without recursion. A body
// cut short keeps what was read before the cut.
func xmlChildren(b []byte) (xml.Name, []xmlField, bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var root xml.Name
	var fields []xmlField
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return root, fields, root.Local != "" && len(fields) > 0
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				root = t.Name
			} else if depth == 2 && len(fields) < maxXMLFields {
				fields = append(fields, xmlField{name: t.Name.Local, space: t.Name.Space})
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if f := lastField(fields); depth == 2 && f != nil && len(f.text) < 4*maxMessage {
				f.text += string(t)
			}
		}
	}
}

// lastField returns the last field, or nil.
func lastField(fields []xmlField) *xmlField {
	if len(fields) == 0 {
		return nil
	}
	return &fields[len(fields)-1]
}

// parseProblemXML reads an RFC 9457 application/problem+xml object.
func parseProblemXML(fields []xmlField, e *ConflictError) {
	p := &Problem{Type: "about:blank"}
	for _, f := range fields {
		text := strings.TrimSpace(f.text)
		switch f.name {
		case "type":
			p.Type = text
		case "title":
			p.Title = text
		case "status":
			p.Status = (object{"s": json.RawMessage(text)}).integer("s")
		case "detail":
			p.Detail = text
		case "instance":
			p.Instance = text
		default:
			if p.Extensions == nil {
				p.Extensions = make(map[string]json.RawMessage)
			}
			p.Extensions[f.name], _ = json.Marshal(text)
		}
	}
	e.Problem = p
	e.Message = firstNonEmpty(p.Detail, p.Title)
	if p.Type != "about:blank" {
		e.Code = p.Type
	}
	e.hints = append(e.hints, p.Type, p.Title)
}

// parseXMLError reads the code, message, fields and request id of an XML
// error, Azure Storage's among them.
func parseXMLError(fields []xmlField, e *ConflictError) {
	for _, f := range fields {
		text := strings.TrimSpace(f.text)
		switch strings.ToLower(f.name) {
		case "code", "errorcode", "error":
			e.Code = firstNonEmpty(e.Code, text)
		case "message", "errormessage", "reason", "description":
			msg, rest, _ := strings.Cut(text, "\n")
			e.Message = firstNonEmpty(e.Message, strings.TrimSpace(msg))
			e.RequestID = firstNonEmpty(e.RequestID, requestIDLine(rest))
		case "requestid":
			e.RequestID = firstNonEmpty(e.RequestID, text)
		case "field", "target", "queryparametername", "headername":
			e.Fields = append(e.Fields, text)
		case "suggestion", "hint":
			e.Suggestion = firstNonEmpty(e.Suggestion, text)
		case "currentversion", "current_version":
			e.CurrentVersion = firstNonEmpty(e.CurrentVersion, text)
		}
	}
}

// requestIDLine finds Azure Storage's "RequestId:..." line in a message.
func requestIDLine(s string) string {
	for line := range strings.Lines(s) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "RequestId:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Patterns for the HTML parser. Go's regexp runs in linear time, so a
// hostile page cannot make them slow.
var (
	htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	htmlH1    = regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`)
	htmlPara  = regexp.MustCompile(`(?is)<p(?:\s[^>]*)?>(.*?)(?:</p>|<p[\s>]|</body>|$)`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	htmlDrop  = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
)

// parseHTML reads an HTML error page's title (or first heading) and first
// paragraph into Message, as "title: paragraph".
func parseHTML(b []byte, e *ConflictError) bool {
	title := htmlText(htmlTitle, b)
	if title == "" {
		title = htmlText(htmlH1, b)
	}
	para := htmlText(htmlPara, b)
	if title == "" && para == "" {
		if b[0] != '<' {
			return false
		}
		para = stripTags(htmlDrop.ReplaceAll(b, nil))
	}
	e.Message = joinMessage(title, para)
	return e.Message != ""
}

// htmlText returns the text of re's first match's group.
func htmlText(re *regexp.Regexp, b []byte) string {
	m := re.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return stripTags(m[1])
}

// stripTags removes tags and decodes entities.
func stripTags(b []byte) string {
	return strings.TrimSpace(html.UnescapeString(string(htmlTag.ReplaceAll(b, []byte(" ")))))
}

// parseText reads a plain-text body: its first non-empty line is the
// message.
func parseText(b []byte, e *ConflictError) {
	for line := range strings.Lines(string(b[:min(len(b), 4*maxMessage)])) {
		if line = strings.TrimSpace(line); line != "" {
			e.Message = line
			return
		}
	}
}
