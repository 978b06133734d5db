package sources

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds the nesting CheckJSON walks, as encoding/json bounds its own.
const maxDepth = 10000

// CheckJSON walks the one JSON value in b once and refuses what
// encoding/json would silently accept: a key that appears twice in one
// object (`duplicate key "data.email"`: encoding/json keeps the last), a key
// that matches a json tag of t only when letter case is ignored (`key
// "EMAIL" is not "email"`: encoding/json folds case), and invalid UTF-8 or a
// lone UTF-16 surrogate escape in a string (`invalid UTF-8 in "id"`:
// encoding/json stores U+FFFD, so two different ids would read the same).
// Trailing data after the value is refused too. t is the type the body is
// decoded into (a pointer is followed); parts of it that decode themselves
// (json.RawMessage, any, a json.Unmarshaler) are still checked for
// duplicates and UTF-8, and the decoder that reads them later checks their
// keys' case. Errors name the path of the key, never a value.
//
// encoding/json/v2 refuses all three by default, but in Go 1.26 it is
// still built only with GOEXPERIMENT=jsonv2; this walk gives the same
// answers with encoding/json's tokenizer.
func CheckJSON(b []byte, t reflect.Type) error {
	w := walker{b: b, dec: json.NewDecoder(bytes.NewReader(b))}
	if err := w.value(t, nil, 0); err != nil {
		if errors.Is(err, errSyntax) {
			// The tokenizer says io.EOF where the document is cut short:
			// the decoder's own error names the place.
			var v json.RawMessage
			if err := json.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
				return errors.New(SanitizeDecodeError(err))
			}
			return errors.New("invalid JSON")
		}
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// errSyntax marks a document the tokenizer could not read.
var errSyntax = errors.New("invalid JSON")

// walker reads tokens and keeps the offset where the last one ended, so
// the raw bytes of each string are at hand.
type walker struct {
	b   []byte
	dec *json.Decoder
	end int64
}

// token reads the next token and the raw bytes since the previous one.
func (w *walker) token() (json.Token, []byte, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, nil, errSyntax
	}
	start := w.end
	w.end = w.dec.InputOffset()
	return tok, w.b[start:w.end], nil
}

// path is where the walk is: a key of an object or an index of an array
// under its parent; nil is the top. Its text is made only for an error.
type path struct {
	parent *path
	key    string
	index  int // when key is ""
}

// String is the dotted path ("data.events[0].uuid"), keys cut short.
func (p *path) String() string {
	if p == nil {
		return ""
	}
	head := p.parent.String()
	if p.key == "" {
		return head + "[" + strconv.Itoa(p.index) + "]"
	}
	if head == "" {
		return Truncate(p.key, 64)
	}
	return head + "." + Truncate(p.key, 64)
}

func (w *walker) value(t reflect.Type, at *path, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON nested too deep")
	}
	tok, raw, err := w.token()
	if err != nil {
		return err
	}
	t = decodedType(t)
	switch tok {
	case json.Delim('{'):
		return w.object(t, at, depth)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, &path{parent: at, index: i}, depth+1); err != nil {
				return err
			}
		}
		_, _, err := w.token() // ]
		return err
	}
	if _, ok := tok.(string); ok && !validString(raw) {
		if at == nil {
			return errors.New("invalid UTF-8 in the body")
		}
		return fmt.Errorf("invalid UTF-8 in %q", at)
	}
	return nil
}

func (w *walker) object(t reflect.Type, at *path, depth int) error {
	var fields *structFields
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = fieldsOf(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	var seen []string // objects are small; a map past 16 keys
	var seenMap map[string]bool
	for w.dec.More() {
		tok, raw, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if !validString(raw) {
			if at == nil {
				return errors.New("invalid UTF-8 in a key")
			}
			return fmt.Errorf("invalid UTF-8 in a key of %q", at)
		}
		here := &path{parent: at, key: key}
		if seenMap != nil {
			if seenMap[key] {
				return fmt.Errorf("duplicate key %q", here)
			}
			seenMap[key] = true
		} else {
			if slices.Contains(seen, key) {
				return fmt.Errorf("duplicate key %q", here)
			}
			if seen = append(seen, key); len(seen) > 16 {
				seenMap = make(map[string]bool, 2*len(seen))
				for _, k := range seen {
					seenMap[k] = true
				}
			}
		}
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields.exact[key]; !ok {
				if name, found := fields.folded[foldName(key)]; found {
					return fmt.Errorf("key %q is not %q", here, Truncate(name, 64))
				}
			}
		}
		if err := w.value(ft, here, depth+1); err != nil {
			return err
		}
	}
	_, _, err := w.token() // }
	return err
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	decodedCache    sync.Map // reflect.Type → reflect.Type (nil stored as a nil interface)
)

// decodedType is the type whose keys are checked for t: pointers followed,
// nil for what decodes itself or takes anything.
func decodedType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if d, ok := decodedCache.Load(t); ok {
		d, _ := d.(reflect.Type)
		return d
	}
	d := t
	for d != nil {
		if d.Implements(jsonUnmarshaler) || reflect.PointerTo(d).Implements(jsonUnmarshaler) ||
			d.Implements(textUnmarshaler) || reflect.PointerTo(d).Implements(textUnmarshaler) {
			d = nil
			break
		}
		if d.Kind() != reflect.Pointer {
			break
		}
		d = d.Elem()
	}
	if d != nil && d.Kind() == reflect.Interface {
		d = nil
	}
	if d == nil {
		decodedCache.Store(t, nil)
	} else {
		decodedCache.Store(t, d)
	}
	return d
}

// structFields are a struct's JSON names: exact, and folded as
// encoding/json folds them (folded name → name).
type structFields struct {
	exact  map[string]reflect.Type
	folded map[string]string
}

var fieldCache sync.Map // reflect.Type → *structFields

// fieldsOf names the JSON keys of struct t as encoding/json does: the tag's
// name or the field's, embedded untagged structs' fields promoted unless an
// outer field has the name.
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	m := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	for _, et := range embedded {
		for name, ft := range fieldsOf(et).exact {
			if _, ok := m[name]; !ok {
				m[name] = ft
			}
		}
	}
	sf := &structFields{exact: m, folded: make(map[string]string, len(m))}
	for name := range m {
		sf.folded[foldName(name)] = name
	}
	fieldCache.Store(t, sf)
	return sf
}

// foldName folds s as encoding/json does when it matches a key to a field:
// ASCII to upper case, any other rune to the smallest of its fold set.
func foldName(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			sb.WriteByte(byte(r))
			continue
		}
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// validString reports whether raw, the bytes of a JSON string token (and
// the separators before it), is valid UTF-8 with no lone surrogate escape.
func validString(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate with no high one before it
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			if lo := hex4(raw[i+3:]); lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 reads the four hex digits of a \u escape the tokenizer already
// accepted; -1 when they are not there.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(v)
}
