package sources

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

type strictInner struct {
	Email string `json:"email"`
}

type strictEmbedded struct {
	Note string `json:"note"`
}

type strictBody struct {
	strictEmbedded
	ID     string            `json:"id"`
	Data   *strictInner      `json:"data"`
	List   []strictInner     `json:"list"`
	Map    map[string]string `json:"map"`
	Raw    json.RawMessage   `json:"raw"`
	Any    any               `json:"any"`
	Link   string            `json:"link"`
	Hidden string            `json:"-"`
}

// TestDecodeRefusesWhatEncodingJSONWouldBlur: each ambiguity encoding/json
// resolves silently is an error naming the problem and the key's path; the
// same body without it decodes.
func TestDecodeRefusesWhatEncodingJSONWouldBlur(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"a clean body decodes", `{"id":"a","note":"n","data":{"email":"x"},"list":[{"email":"y"}],"map":{"K":"v","k":"v"},"raw":{"ID":1},"any":{"A":1}}`, ""},
		{"an escaped name is the same key", `{"id":"a","\u0069d":"b"}`, `duplicate key "id"`},
		{"a duplicate top-level key", `{"id":"a","id":"b"}`, `duplicate key "id"`},
		{"a duplicate key in a nested object", `{"data":{"email":"a","email":"b"}}`, `duplicate key "data.email"`},
		{"a duplicate key in an array element", `{"list":[{"email":"a"},{"email":"a","email":"b"}]}`, `duplicate key "list[1].email"`},
		{"a duplicate key in a raw part", `{"raw":{"x":1,"x":2}}`, `duplicate key "raw.x"`},
		{"a duplicate map key", `{"map":{"k":"a","k":"b"}}`, `duplicate key "map.k"`},
		{"a key in upper case", `{"ID":"a"}`, `key "ID" is not "id"`},
		{"a nested key in another case", `{"data":{"Email":"a"}}`, `key "data.Email" is not "email"`},
		{"a promoted key in another case", `{"NOTE":"a"}`, `key "NOTE" is not "note"`},
		{"a key encoding/json folds by the Kelvin sign", `{"lin\u212a":"a"}`, "key \"lin\u212a\" is not \"link\""},
		{"a key the type does not name", `{"kelvin":"a","Hidden":"b"}`, ""},
		{"invalid UTF-8 in a value", "{\"id\":\"a\xffb\"}", `invalid UTF-8 in "id"`},
		{"invalid UTF-8 in a nested value", "{\"list\":[{\"email\":\"\xc3\"}]}", `invalid UTF-8 in "list[0].email"`},
		{"invalid UTF-8 in a key", "{\"i\xffd\":\"a\"}", `invalid UTF-8 in a key`},
		{"a lone high surrogate", `{"id":"\ud800"}`, `invalid UTF-8 in "id"`},
		{"a lone low surrogate", `{"id":"a\udc00"}`, `invalid UTF-8 in "id"`},
		{"a high surrogate and a letter", `{"id":"\ud800\u0041"}`, `invalid UTF-8 in "id"`},
		{"a surrogate pair is fine", `{"id":"\ud83d\ude00 \\ud800"}`, ""},
		{"U+FFFD itself is fine", `{"id":"\ufffd�"}`, ""},
		{"trailing data", `{"id":"a"} {}`, "trailing data"},
		{"a truncated body", `{"id":`, "truncated JSON"},
		{"an empty body", ``, "empty body"},
		{"not JSON", `{id}`, "invalid JSON at byte"},
		{"nesting beyond the bound", `{"any":` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `}`, "nested too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strictBody
			err := Decode([]byte(tt.body), &b)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// TestDecodeStrictAlsoRefusesUnknownKeys: Decode ignores a key the type
// does not name, DecodeStrict refuses it; a key the type names in another
// case is refused by both, never taken as unknown.
func TestDecodeStrictAlsoRefusesUnknownKeys(t *testing.T) {
	var b strictInner
	if err := Decode([]byte(`{"email":"a","extra":1}`), &b); err != nil || b.Email != "a" {
		t.Fatalf("Decode: %v, %+v", err, b)
	}
	if err := DecodeStrict([]byte(`{"email":"a","extra":1}`), &b); err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) {
		t.Fatalf("DecodeStrict: %v", err)
	}
	if err := DecodeStrict([]byte(`{"eMail":"a"}`), &b); err == nil || err.Error() != `key "eMail" is not "email"` {
		t.Fatalf("DecodeStrict: %v", err)
	}
}

// TestCheckJSONNeverEchoesAValue: the error names the key, never the value.
func TestCheckJSONNeverEchoesAValue(t *testing.T) {
	secret := strings.Repeat("s3cr3t", 20)
	for _, body := range []string{
		`{"id":"` + secret + `","id":"` + secret + `"}`,
		"{\"id\":\"" + secret + "\xff\"}",
		`{"ID":"` + secret + `"}`,
	} {
		var b strictBody
		err := Decode([]byte(body), &b)
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: %v", body[:12], err)
		}
	}
	long := strings.Repeat("k", 500)
	err := Decode([]byte(`{"`+long+`":1,"`+long+`":2}`), new(strictBody))
	if err == nil || len(err.Error()) > 100 {
		t.Errorf("a long key: %v", err)
	}
}

// FuzzCheckJSON: what CheckJSON accepts is valid JSON in valid UTF-8 that
// encoding/json decodes, and it never panics.
func FuzzCheckJSON(f *testing.F) {
	f.Add([]byte(`{"id":"a","data":{"email":"b"},"list":[{"email":"c"}]}`))
	f.Add([]byte(`{"id":"a","id":"b"}`))
	f.Add([]byte(`{"ID":"a"}`))
	f.Add([]byte("{\"id\":\"\xff\"}"))
	f.Add([]byte(`{"id":"\ud800\udc00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckJSON(b, reflect.TypeFor[strictBody]()) != nil {
			return
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("accepted %q", b)
		}
		var v strictBody
		if err := Decode(b, &v); err != nil && !strings.Contains(err.Error(), "type (want") {
			t.Fatalf("checked, then refused: %v", err)
		}
	})
}
