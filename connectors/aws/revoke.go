package aws

import (
	"context"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Revoke finds the subject's IAM users and, for each: deactivates every
// access key and deletes the console password when the subject's reason
// is in disable_for, attaches the deny policy for temporary credentials
// issued before now for every reason, and reads all three back. Verified
// when every key it was to deactivate reads Inactive, the password reads
// NoSuchEntity and the policy reads back as written; Acknowledged when
// something still reads otherwise or may not be read; NotFound when no
// IAM user is the subject's. The detail names each credential ended (an
// access key by the last four characters of its id) and what was left.
func (k *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email, err := k.subjectEmail(s)
	if err != nil {
		return "", err
	}
	if err := k.credentials(ctx); err != nil {
		return "", err
	}
	users, err := k.find(ctx, email)
	if err != nil {
		return "", err
	}
	result := offboard.NotFound
	for _, u := range users {
		out, err := k.revokeUser(ctx, u, s.Reason)
		switch {
		case err != nil:
			return "", err
		case out == offboard.NotFound:
			continue // deleted since the lookup
		case result == offboard.NotFound || out == offboard.Acknowledged:
			result = out
		}
	}
	return result, nil
}

// find returns the names of the subject's IAM users: the one user_name
// gives, or every user whose email tag holds the address.
func (k *Connector) find(ctx context.Context, email string) ([]string, error) {
	if k.userName != nil {
		name, err := render(k.userName, email)
		if err != nil {
			return nil, &vendorapi.Error{System: k.name, Kind: vendorapi.Invalid, Msg: "user_name: " + err.Error()}
		}
		// [get-user] GetUser UserName=…: NoSuchEntity when there is none.
		_, err = k.api.GetUser(ctx, &iam.GetUserInput{UserName: awssdk.String(name)})
		switch err := k.classify("GetUser", err); {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return []string{name}, nil
	}
	return k.findByTag(ctx, email)
}

// findByTag pages through ListUsers [list-users], which leaves tags out,
// and reads each user's tags with ListUserTags [list-tags], up to four at
// once; IAM has no search by tag. A user deleted in between is passed
// over.
func (k *Connector) findByTag(ctx context.Context, email string) ([]string, error) {
	var (
		mu    sync.Mutex
		found []string
	)
	in := &iam.ListUsersInput{}
	for {
		page, err := k.api.ListUsers(ctx, in)
		if err != nil {
			return nil, k.classify("ListUsers", err)
		}
		calls := make([]func(context.Context) error, 0, len(page.Users))
		for _, u := range page.Users {
			name := awssdk.ToString(u.UserName)
			calls = append(calls, func(ctx context.Context) error {
				ok, err := k.tagged(ctx, name, email)
				if ok {
					mu.Lock()
					found = append(found, name)
					mu.Unlock()
				}
				return err
			})
		}
		if err := vendorapi.Concurrently(ctx, calls...); err != nil {
			return nil, err
		}
		if !page.IsTruncated || awssdk.ToString(page.Marker) == "" {
			break
		}
		in = &iam.ListUsersInput{Marker: page.Marker}
	}
	return found, nil
}

// tagged reports whether user name's email tag holds email, in any case.
func (k *Connector) tagged(ctx context.Context, name, email string) (bool, error) {
	in := &iam.ListUserTagsInput{UserName: awssdk.String(name)}
	for {
		page, err := k.api.ListUserTags(ctx, in)
		switch err := k.classify("ListUserTags", err); {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			return false, nil
		case err != nil:
			return false, err
		}
		for _, t := range page.Tags {
			if awssdk.ToString(t.Key) == k.tag && strings.EqualFold(strings.TrimSpace(awssdk.ToString(t.Value)), email) {
				return true, nil
			}
		}
		if !page.IsTruncated || awssdk.ToString(page.Marker) == "" {
			return false, nil
		}
		in = &iam.ListUserTagsInput{UserName: awssdk.String(name), Marker: page.Marker}
	}
}

// keys is ListAccessKeys of the user, every page [list-keys].
func (k *Connector) keys(ctx context.Context, user string) ([]types.AccessKeyMetadata, error) {
	var out []types.AccessKeyMetadata
	in := &iam.ListAccessKeysInput{UserName: awssdk.String(user)}
	for {
		page, err := k.api.ListAccessKeys(ctx, in)
		if err != nil {
			return nil, k.classify("ListAccessKeys", err)
		}
		out = append(out, page.AccessKeyMetadata...)
		if !page.IsTruncated || awssdk.ToString(page.Marker) == "" {
			return out, nil
		}
		in = &iam.ListAccessKeysInput{UserName: awssdk.String(user), Marker: page.Marker}
	}
}

// revokeUser ends the credentials and sessions of one IAM user and reads
// them back. Round trips: the keys are listed; the key deactivations, the
// password deletion and the policy go together; the three read-backs go
// together.
func (k *Connector) revokeUser(ctx context.Context, user string, reason offboard.Reason) (offboard.Outcome, error) {
	keys, err := k.keys(ctx, user)
	switch {
	case vendorapi.IsKind(err, vendorapi.NotFound):
		return offboard.NotFound, nil
	case err != nil:
		return "", err
	}
	disable := k.disableFor.Allows(reason)
	issued := k.now().UTC().Truncate(time.Second)
	doc := policyDocument(issued)

	var (
		deactivated, already []string
		hadPassword          bool
		gone                 bool
		calls                []func(context.Context) error
	)
	if disable {
		for _, key := range keys {
			id := awssdk.ToString(key.AccessKeyId)
			if key.Status != types.StatusTypeActive {
				already = append(already, last4(id))
				continue
			}
			deactivated = append(deactivated, last4(id))
			calls = append(calls, func(ctx context.Context) error {
				// [update-key] UpdateAccessKey Status=Inactive: the key
				// no longer signs requests; NoSuchEntity: deleted already.
				_, err := k.api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
					UserName: awssdk.String(user), AccessKeyId: awssdk.String(id), Status: types.StatusTypeInactive,
				})
				if err := k.classify("UpdateAccessKey", err); !vendorapi.IsKind(err, vendorapi.NotFound) {
					return err
				}
				return nil
			})
		}
		calls = append(calls, func(ctx context.Context) error {
			// [del-profile] DeleteLoginProfile: no more console sign-in;
			// NoSuchEntity: the user has no password.
			_, err := k.api.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: awssdk.String(user)})
			err = k.classify("DeleteLoginProfile", err)
			hadPassword = err == nil
			if vendorapi.IsKind(err, vendorapi.NotFound) {
				return nil
			}
			return err
		})
	}
	calls = append(calls, func(ctx context.Context) error {
		// [put-policy] PutUserPolicy adds or replaces the inline policy;
		// a re-run moves the time forward. NoSuchEntity: no such user.
		_, err := k.api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: awssdk.String(user), PolicyName: awssdk.String(PolicyName), PolicyDocument: awssdk.String(doc),
		})
		err = k.classify("PutUserPolicy", err)
		if vendorapi.IsKind(err, vendorapi.NotFound) {
			gone = true
			return nil
		}
		return err
	})
	if err := vendorapi.Concurrently(ctx, calls...); err != nil {
		return "", err
	}
	if gone {
		return offboard.NotFound, nil
	}
	log := k.logger(ctx).With().Str("connector", k.name).Str("iam_user", user).Logger()
	log.Info().Int("keys_deactivated", len(deactivated)).Bool("password_deleted", hadPassword).Msg("aws iam user's credentials and sessions revoked")

	r := report{user: user, disable: disable, deactivated: deactivated, already: already, hadPassword: hadPassword, issued: issued}
	if !disable {
		for _, key := range keys {
			if key.Status == types.StatusTypeActive {
				r.leftActive = append(r.leftActive, last4(awssdk.ToString(key.AccessKeyId)))
			}
		}
	}
	out, err := k.readBack(ctx, user, doc, &r)
	if err != nil {
		return "", err
	}
	connectors.Report(ctx, "%s", r.String(k.disableFor, reason))
	return out, nil
}

// readBack reads the keys, the password and the policy again, at once,
// and notes in r what still reads otherwise. Credentials that may change
// but not read give Acknowledged.
func (k *Connector) readBack(ctx context.Context, user, doc string, r *report) (offboard.Outcome, error) {
	var (
		keys       []types.AccessKeyMetadata
		profileErr error
		back       string
	)
	err := vendorapi.Concurrently(ctx,
		func(ctx context.Context) (err error) {
			if !r.disable {
				return nil // no key was to change
			}
			keys, err = k.keys(ctx, user)
			return err
		},
		func(ctx context.Context) error {
			if !r.disable {
				return nil
			}
			// [get-profile] GetLoginProfile: NoSuchEntity once deleted.
			_, err := k.api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: awssdk.String(user)})
			profileErr = k.classify("GetLoginProfile", err)
			if vendorapi.IsKind(profileErr, vendorapi.NotFound) || profileErr == nil {
				return nil
			}
			return profileErr
		},
		func(ctx context.Context) error {
			// [get-policy] GetUserPolicy: the document, URL-encoded.
			p, err := k.api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: awssdk.String(user), PolicyName: awssdk.String(PolicyName)})
			if err := k.classify("GetUserPolicy", err); err != nil {
				if vendorapi.IsKind(err, vendorapi.NotFound) {
					return nil // not listed: noted below
				}
				return err
			}
			back = decodePolicy(awssdk.ToString(p.PolicyDocument))
			return nil
		},
	)
	switch {
	case vendorapi.IsKind(err, vendorapi.Auth):
		r.unread = true
		return offboard.Acknowledged, nil
	case vendorapi.IsKind(err, vendorapi.NotFound):
		return offboard.NotFound, nil // the user was deleted meanwhile
	case err != nil:
		return "", err
	}
	if r.disable {
		for _, key := range keys {
			if key.Status == types.StatusTypeActive {
				r.stillActive = append(r.stillActive, last4(awssdk.ToString(key.AccessKeyId)))
			}
		}
		r.passwordLeft = profileErr == nil
	}
	r.policyMissing = back != doc
	if len(r.stillActive) > 0 || r.passwordLeft || r.policyMissing {
		return offboard.Acknowledged, nil
	}
	return offboard.Verified, nil
}

// last4 shows an access key id by its last four characters: ids are not
// secret, but need not be spelled out.
func last4(id string) string {
	if len(id) <= 4 {
		return "…" + id
	}
	return "…" + id[len(id)-4:]
}
