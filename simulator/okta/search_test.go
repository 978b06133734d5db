package okta

import (
	"testing"
	"time"
)

func TestOktaExpressions(t *testing.T) {
	jane := &oktaUser{id: "00uJANE", login: "jane.doe@example.com", firstName: "Jane", lastName: "Doe",
		created: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	tests := []struct {
		name, expr string
		mode       oktaMode
		want       bool
	}{
		{"eq matches the whole value", `profile.login eq "jane.doe@example.com"`, oktaSearch, true},
		{"search ignores the case of values", `profile.lastName eq "DOE"`, oktaSearch, true},
		{"filter minds the case of values", `profile.lastName eq "DOE"`, oktaFilter, false},
		{"sw matches a prefix", `profile.firstName sw "ja"`, oktaSearch, true},
		{"co matches a substring", `profile.email co "doe@"`, oktaSearch, true},
		{"and needs both sides", `id eq "00uJANE" and status eq "SUSPENDED"`, oktaSearch, false},
		{"or needs one side", `id eq "00uX" or status eq "active"`, oktaSearch, true},
		{"and binds tighter than or", `id eq "00uX" and status eq "ACTIVE" or profile.firstName eq "Jane"`, oktaSearch, true},
		{"parentheses group", `id eq "00uX" and (status eq "ACTIVE" or profile.firstName eq "Jane")`, oktaSearch, false},
		{"keywords are case-insensitive", `id EQ "00uJANE" AND status Eq "ACTIVE"`, oktaSearch, true},
		{"an escaped quote is part of the value", `profile.lastName eq "Do\"e"`, oktaSearch, false},
		{"timestamps compare in order", `created gt "2024-01-01T00:00:00.000Z"`, oktaSearch, true},
		{"filter allows ranges on lastUpdated", `lastUpdated lt "2024-01-01T00:00:00.000Z"`, oktaFilter, false},
		{"an attribute the user lacks never matches", `profile.city eq "Oslo"`, oktaSearch, false},
		{"the user type can be searched", `type.id eq "` + oktaTypeID + `"`, oktaSearch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseOktaExpr(tt.expr, tt.mode)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := e.match(jane); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOktaExpressionErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		name, expr string
		mode       oktaMode
		want       string
	}{
		{"empty", ``, oktaSearch, "expected a property name, found the end"},
		{"no operator", `status`, oktaSearch, "expected an operator after status, found the end"},
		{"no value", `status eq`, oktaSearch, `expected a quoted value after status eq, found the end`},
		{"ne", `status ne "ACTIVE"`, oktaSearch, `search doesn't support operator "ne"`},
		{"co on id", `id co "00u"`, oktaSearch, "operator co isn't supported on id"},
		{"trailing words", `status eq "ACTIVE" status`, oktaSearch, `unexpected "status"`},
		{"filter range on login", `profile.login gt "a"`, oktaFilter, `filter doesn't support operator "gt" on profile.login`},
		{"filter on created", `created eq "x"`, oktaFilter, `filter doesn't support property "created"`},
		{"a profile attribute without its prefix", `login eq "a"`, oktaSearch, `search doesn't support property "login"`},
		{"a property outside the profile schema", `profile.shoeSize eq "9"`, oktaSearch, `search doesn't support property "profile.shoeSize"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOktaExpr(tt.expr, tt.mode)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzOktaExpression(f *testing.F) {
	for _, s := range []string{
		`profile.login eq "a@b.c" or profile.email eq "a@b.c"`,
		`(status eq "ACTIVE" and profile.firstName sw "J") or id eq "00u"`,
		`profile.lastName eq "O\"Brien"`, `((`, `"`, `eq eq eq`, `a or`,
	} {
		f.Add(s, false)
	}
	u := &oktaUser{id: "00u1", login: "a@b.c", firstName: "A", lastName: "B"}
	f.Fuzz(func(t *testing.T, s string, filter bool) {
		mode := oktaSearch
		if filter {
			mode = oktaFilter
		}
		e, err := parseOktaExpr(s, mode)
		if err != nil {
			return
		}
		e.match(u)
	})
}
