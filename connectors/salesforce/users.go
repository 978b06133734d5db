package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// queryResult is the answer of the query resource [rest-query]: a batch of
// records and, while done is false, the path of the next batch.
type queryResult[T any] struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	Records        []T    `json:"records"`
}

// user is the part of a User record the connector reads.
type user struct {
	ID       string `json:"Id"`
	Username string `json:"Username"`
	Email    string `json:"Email"`
}

// session is an AuthSession record [authsession].
type session struct {
	ID string `json:"Id"`
}

// oauthToken is an OauthToken record [oauthtoken]: its Id is always null,
// and DeleteToken is what the revoke endpoint takes to remove it. The
// DeleteToken is never logged nor put in an error.
type oauthToken struct {
	AppName     string `json:"AppName"`
	DeleteToken string `json:"DeleteToken"`
}

// maxBatches bounds the batches one query reads: 2,000 records each for
// User and AuthSession, 500 for OauthToken, which stops at 2,500 anyway
// [oauthtoken].
const maxBatches = 10

// getQuery is GET …/query?q=soql [rest-query].
func getQuery(soql string) vendorapi.Request {
	return vendorapi.Request{Method: http.MethodGet, Path: dataPath + "/query", Query: url.Values{"q": {soql}}}
}

// query runs soql and reads every batch of its answer, following
// nextRecordsUrl (a path below the instance, e.g.
// /services/data/v66.0/query/01gD0000002HU6KIAW-2000) [rest-query].
func query[T any](ctx context.Context, s *Connector, soql string) ([]T, error) {
	req := getQuery(soql)
	var all []T
	for range maxBatches {
		var r queryResult[T]
		if err := s.do(ctx, req, &r); err != nil {
			return nil, err
		}
		all = append(all, r.Records...)
		if r.Done || r.NextRecordsURL == "" {
			return all, nil
		}
		if !strings.HasPrefix(r.NextRecordsURL, dataPath+"/query/") {
			return nil, &vendorapi.Error{System: s.name, Kind: vendorapi.Invalid, Msg: "GET " + dataPath + "/query: nextRecordsUrl is not a query path of this api version"}
		}
		req = vendorapi.Request{Method: http.MethodGet, Path: r.NextRecordsURL}
	}
	return nil, &vendorapi.Error{System: s.name, Kind: vendorapi.Invalid, Msg: fmt.Sprintf("GET %s/query: more than %d batches of records", dataPath, maxBatches)}
}

// quote is s as a SOQL string literal: in single quotes, with the reserved
// characters ' and \ and the control characters SOQL has escapes for
// escaped with a backslash [soql-escape].
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// findUsers is SELECT Id, Username, Email FROM User WHERE Username = … OR
// Email = … [rest-query]: a username is unique across Salesforce and often
// the email; the email is not unique, so several users may match, and each
// is offboarded. SOQL compares strings without regard to case; the answer
// is checked again here.
func (s *Connector) findUsers(ctx context.Context, email string) ([]user, error) {
	q := quote(email)
	found, err := query[user](ctx, s, "SELECT Id, Username, Email FROM User WHERE Username = "+q+" OR Email = "+q)
	if err != nil {
		return nil, err
	}
	var users []user
	for _, u := range found {
		if u.ID != "" && (strings.EqualFold(u.Username, email) || strings.EqualFold(u.Email, email)) {
			users = append(users, u)
		}
	}
	return users, nil
}

// listed is what one user has left: sessions, and tokens unless they
// could not be read (tokensErr).
type listed struct {
	sessions  []session
	tokens    []oauthToken
	tokensErr error
}

// list queries u's sessions and OAuth tokens together. Credentials that may
// not read OauthToken (403, or 400 INVALID_TYPE for an object the user
// cannot see) leave tokensErr set rather than failing the revoke: the
// sessions are ended all the same.
func (s *Connector) list(ctx context.Context, u user) (listed, error) {
	var l listed
	err := vendorapi.Concurrently(ctx,
		func(ctx context.Context) (err error) {
			l.sessions, err = query[session](ctx, s, "SELECT Id FROM AuthSession WHERE UsersId = "+quote(u.ID))
			return err
		},
		func(ctx context.Context) (err error) {
			l.tokens, err = query[oauthToken](ctx, s, "SELECT AppName, DeleteToken FROM OauthToken WHERE UserId = "+quote(u.ID))
			if vendorapi.IsKind(err, vendorapi.Auth) || vendorapi.IsKind(err, vendorapi.Invalid) {
				l.tokens, l.tokensErr, err = nil, err, nil
			}
			return err
		},
	)
	return l, err
}

// revokeUser deletes every AuthSession of u and revokes every OAuth token
// connected apps hold for u, then lists both again: Verified when nothing
// is left, Acknowledged otherwise.
func (s *Connector) revokeUser(ctx context.Context, u user) (offboard.Outcome, error) {
	before, err := s.list(ctx, u)
	if err != nil {
		return "", err
	}
	var calls []func(context.Context) error
	for _, ss := range before.sessions {
		// [authsession][rest-delete]: DELETE …/sobjects/AuthSession/{id}
		// ends that session, 204. A session gone since the listing (its
		// parent's deletion ends it too) is 404, which is what is wanted.
		calls = append(calls, s.deleteGone(dataPath+"/sobjects/AuthSession/"+url.PathEscape(ss.ID)))
	}
	for _, t := range before.tokens {
		if t.DeleteToken != "" {
			calls = append(calls, s.revokeToken(t.DeleteToken))
		}
	}
	if err := vendorapi.Concurrently(ctx, calls...); err != nil {
		return "", err
	}
	after, err := s.list(ctx, u)
	if err != nil {
		return "", err
	}
	log := s.api.Logger(ctx).With().Str("connector", s.name).Str("salesforce_user_id", u.ID).Logger()
	log.Info().Int("sessions", len(before.sessions)).Int("tokens", len(before.tokens)).Msg("salesforce sessions deleted and oauth tokens revoked")

	parts := []string{fmt.Sprintf("user %s: %s ended", u.ID, count(len(before.sessions), "session"))}
	if before.tokensErr == nil {
		parts = append(parts, fmt.Sprintf("%s revoked", count(len(before.tokens), "connected-app OAuth token")))
	} else {
		parts = append(parts, "OAuth tokens not revoked: the connector's user may not query OauthToken (it needs Customize Application)")
	}
	left := len(after.sessions) > 0 || len(after.tokens) > 0 || after.tokensErr != nil
	switch {
	case len(after.sessions) > 0 || len(after.tokens) > 0:
		parts = append(parts, fmt.Sprintf("still listed: %s and %s", count(len(after.sessions), "session"), count(len(after.tokens), "OAuth token")))
	case after.tokensErr == nil:
		parts = append(parts, "none left")
	default:
		parts = append(parts, "no session left")
	}
	connectors.Report(ctx, "%s", strings.Join(parts, "; "))
	if left {
		return offboard.Acknowledged, nil
	}
	return offboard.Verified, nil
}

// revokeToken revokes one OAuth token by its DeleteToken [oauthtoken]: GET
// /services/oauth2/revoke?token=… [revoke], the form the OauthToken
// reference gives, which revokes the refresh token and the access tokens
// issued with it. A 400 (invalid_token: revoked already, or expired) is
// not an error here: the listing afterwards says whether it is gone.
func (s *Connector) revokeToken(deleteToken string) func(context.Context) error {
	return func(ctx context.Context) error {
		err := s.do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/services/oauth2/revoke", Query: url.Values{"token": {deleteToken}}}, nil)
		if vendorapi.IsKind(err, vendorapi.Invalid) {
			return nil
		}
		return err
	}
}

// deleteGone is DELETE path, a 404 counting as done.
func (s *Connector) deleteGone(path string) func(context.Context) error {
	return func(ctx context.Context) error {
		err := s.do(ctx, vendorapi.Request{Method: http.MethodDelete, Path: path}, nil)
		if vendorapi.IsKind(err, vendorapi.NotFound) {
			return nil
		}
		return err
	}
}

// count is "1 session", "2 sessions".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
