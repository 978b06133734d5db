package entra

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// The delta query on users: Graph drops notifications it cannot deliver and
// tells subscribers to resync with a delta query [lifecycle] ("missed").
// Microsoft's documentation, cited below by these names:
//
//	[delta]          https://learn.microsoft.com/graph/api/user-delta
//	[delta-overview] https://learn.microsoft.com/graph/delta-query-overview
//	[delta-users]    https://learn.microsoft.com/graph/delta-query-users
const (
	entraDeltaPath     = "/v1.0/users/delta"
	entraDeltaSelect   = "id,accountEnabled,mail,userPrincipalName"
	entraDeltaStateKey = "delta"
	// entraMaxDeltaPages bounds the pages one run reads; a round that is
	// longer goes on from its $skiptoken on the next run.
	entraMaxDeltaPages = 50
)

// entraDeltaState is what Maintain keeps in State under "delta".
type entraDeltaState struct {
	// DeltaToken is the $deltatoken of the last round's @odata.deltaLink:
	// the next round starts there.
	DeltaToken string `json:"delta_token,omitempty"`
	// SkipToken is the $skiptoken of an @odata.nextLink where a round
	// stopped at the page bound; the next run goes on there.
	SkipToken string `json:"skip_token,omitempty"`
	// Baseline is true while the first round, which lists every user, is
	// being read: nothing is offboarded from it.
	Baseline bool `json:"baseline,omitempty"`
	// ReadAt is when the last round ended.
	ReadAt time.Time `json:"read_at,omitzero"`
}

// entraDeltaPage is one answer of the delta function [delta]: users, then
// either an @odata.nextLink (more pages in this round, even when value is
// empty) or an @odata.deltaLink (the round is over) [delta-overview].
type entraDeltaPage struct {
	Value     []entraDeltaUser `json:"value"`
	NextLink  string           `json:"@odata.nextLink"`
	DeltaLink string           `json:"@odata.deltaLink"`
}

// entraDeltaUser is a user in a delta answer. A user removed from the
// directory carries @removed with reason "changed" (soft-deleted: it can be
// restored for 30 days) or "deleted" (gone) [delta-users].
type entraDeltaUser struct {
	ID             string `json:"id"`
	AccountEnabled *bool  `json:"accountEnabled"`
	Removed        *struct {
		Reason string `json:"reason"`
	} `json:"@removed"`
}

// delta runs the delta query on users from the stored tokens [delta] and
// returns the users it shows disabled or removed as id-only events, as a
// push of the change would make them (Resolve then reads the user), and
// the state to keep. Their ids cannot be the push's (a delta shows a
// user's state, not a notification), so each carries Since: an event of
// this source about the same user received since one interval before the
// previous round ended is the push of the same change, and the found event
// is then a duplicate (sources.Event.Since).
//
// With nothing stored, the first round lists every user; it is read to
// its end for the deltaLink, and nothing in it is offboarded: changes are
// reconciled from the first deltaLink on. A user changed twice in one
// round may be listed twice [delta-overview]; it counts once.
func (e *Source) delta(ctx context.Context, s entraDeltaState) ([]sources.Event, entraDeltaState, error) {
	now := e.now().UTC()
	q := url.Values{}
	switch {
	case s.SkipToken != "":
		q.Set("$skiptoken", s.SkipToken)
	case s.DeltaToken != "":
		q.Set("$deltatoken", s.DeltaToken)
	default:
		// The first request names the properties; the tokens carry them
		// on [delta-users].
		q.Set("$select", entraDeltaSelect)
		s.Baseline = true
	}
	since := s.ReadAt.Add(-e.interval)
	if s.ReadAt.IsZero() {
		since = now.Add(-e.interval)
	}
	var (
		out  []sources.Event
		seen = map[string]bool{}
	)
	for page := 0; ; page++ {
		var got entraDeltaPage
		// [delta]: GET /users/delta; 200 with value and a next or delta link.
		if status, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: entraDeltaPath, Query: q}, &got); err != nil {
			if status == http.StatusGone && (s.DeltaToken != "" || s.SkipToken != "") {
				// [delta-overview]: a state token Graph no longer knows is
				// 410 Gone; the client starts over with a full round.
				zerolog.Ctx(ctx).Error().Str("source", e.name).
					Msg("entra: Graph no longer knows the delta token; starting a new baseline, so changes since the last round are not reconciled")
				return nil, entraDeltaState{}, nil
			}
			return nil, s, err
		}
		round := entraRound(q)
		for _, u := range got.Value {
			id := strings.ToLower(u.ID)
			if s.Baseline || !entraGUIDRE.MatchString(id) || seen[id] {
				continue
			}
			var ev sources.Event
			switch {
			case u.Removed != nil:
				ev = sources.Event{Type: "deleted", Reason: offboard.ReasonTerminated}
			case u.AccountEnabled != nil && !*u.AccountEnabled:
				ev = sources.Event{Type: "updated", Reason: offboard.ReasonDeactivated}
			default:
				continue
			}
			seen[id] = true
			ev.ID = "delta/" + round + "/" + id + "/" + ev.Type
			ev.IDs = map[string]string{"entra": id}
			ev.Since = since
			out = append(out, ev)
		}
		switch {
		case got.DeltaLink != "":
			token, err := entraLinkToken(got.DeltaLink, "$deltatoken")
			if err != nil {
				return nil, s, err
			}
			return out, entraDeltaState{DeltaToken: token, ReadAt: now}, nil
		case got.NextLink == "":
			return nil, s, &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid, Status: http.StatusOK,
				Msg: "GET " + entraDeltaPath + ": the answer has neither @odata.nextLink nor @odata.deltaLink; check base_url"}
		}
		token, err := entraLinkToken(got.NextLink, "$skiptoken")
		if err != nil {
			return nil, s, err
		}
		if page == entraMaxDeltaPages-1 {
			zerolog.Ctx(ctx).Warn().Str("source", e.name).Int("pages", entraMaxDeltaPages).
				Msg("entra: delta round stopped at its page bound; the next run goes on from there")
			s.SkipToken = token
			return out, s, nil
		}
		q = url.Values{"$skiptoken": {token}}
	}
}

// entraLinkToken takes the state token out of a next or delta link. Only
// the token is used: the next request goes to the configured base_url,
// never to a URL an answer named.
func entraLinkToken(link, param string) (string, error) {
	u, err := url.Parse(link)
	token := ""
	if err == nil {
		token = u.Query().Get(param)
	}
	if token == "" {
		return "", &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid, Status: http.StatusOK,
			Msg: "GET " + entraDeltaPath + ": a link without its " + param}
	}
	return token, nil
}

// entraRound names the page a request reads by its state token, so that
// reading the same page again (after a failed run) makes the same event
// ids, and a later round new ones.
func entraRound(q url.Values) string {
	sum := sha256.Sum256([]byte(q.Encode()))
	return hex.EncodeToString(sum[:8])
}

func loadDeltaState(ctx context.Context, st sources.State) (entraDeltaState, error) {
	var s entraDeltaState
	raw, ok, err := st.Get(ctx, entraDeltaStateKey)
	if err != nil || !ok {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		zerolog.Ctx(ctx).Warn().Msg("entra: stored delta state is unreadable; starting a new baseline")
		return entraDeltaState{}, nil
	}
	return s, nil
}

func saveDeltaState(ctx context.Context, st sources.State, s entraDeltaState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("entra: encode delta state: %w", err)
	}
	return st.Put(ctx, entraDeltaStateKey, b)
}
