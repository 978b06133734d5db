package sources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// SanitizeDecodeError turns a JSON decode error into a short message that
// names the field and never echoes a value.
func SanitizeDecodeError(err error) string {
	var (
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return "invalid JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &ute):
		if ute.Field != "" {
			return "field " + ute.Field + ": wrong type (want " + ute.Type.String() + ")"
		}
		return "wrong JSON type (want " + ute.Type.String() + ")"
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	msg := err.Error()
	// encoding/json reports unknown fields as: json: unknown field "x"
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		return msg[i:]
	}
	return "invalid JSON"
}

// Decode decodes exactly one JSON value that a sender pushed from b into
// dst. It refuses, with an error that names the problem and the key's path,
// what CheckJSON refuses (a duplicate key, a key in another letter case than
// dst's json tag, invalid UTF-8) and trailing data; keys dst does not name
// are ignored, as senders add fields.
func Decode(b []byte, dst any) error { return decode(b, dst, false) }

// DecodeStrict is Decode that also refuses keys dst does not name: for
// bodies whose whole schema is ours (the generic source, a ping).
func DecodeStrict(b []byte, dst any) error { return decode(b, dst, true) }

func decode(b []byte, dst any, exact bool) error {
	if err := CheckJSON(b, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if exact {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return errors.New(SanitizeDecodeError(err))
	}
	return nil
}

// ChangeID is the dedupe key of an HR sender's event that has no id of its
// own: "<subject>@<the sender's timestamp>", or, without a usable timestamp,
// "<subject>#<hash of the raw change>". A redelivery of the same change
// gives the same key.
func ChangeID(subject, timestamp string, raw []byte) string {
	if timestamp == "" || len(timestamp) > 64 || !Printable(timestamp) {
		sum := sha256.Sum256(raw)
		return subject + "#" + hex.EncodeToString(sum[:16])
	}
	return subject + "@" + timestamp
}

// ReadID reads an id sent as a JSON string or number and checks its form.
func ReadID(raw json.RawMessage, form *regexp.Regexp) (string, bool) {
	s := string(bytes.TrimSpace(raw))
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		s = str
	}
	return s, form.MatchString(s)
}

// FirstFew lists items, at most five, and says how many more there are.
func FirstFew(items []string) string {
	const max = 5
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
}

// JSONResponse is a handshake's answer: v as JSON with status.
func JSONResponse(status int, v map[string]string) *Response {
	b, _ := json.Marshal(v) // a map of strings always marshals
	return &Response{Status: status, ContentType: "application/json", Body: b}
}
