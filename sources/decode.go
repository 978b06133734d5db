package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// sanitizeDecodeError turns a JSON decode error into a short message that
// names the field and never echoes a value.
func sanitizeDecodeError(err error) string {
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

// decodeStrict decodes exactly one JSON value from b into dst, refusing
// unknown fields and trailing data.
func decodeStrict(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return errors.New(sanitizeDecodeError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
