package aws

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// response is an action's answer: <{Action}Response><{Action}Result>…
// <ResponseMetadata><RequestId>; actions that change something have no
// Result.
type response struct {
	XMLName xml.Name
	Xmlns   string `xml:"xmlns,attr"`
	Result  any    `xml:",omitempty"`
	Meta    struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

type userElem struct {
	Path       string
	UserName   string
	UserID     string `xml:"UserId"`
	Arn        string
	CreateDate string
}

type tagElem struct{ Key, Value string }

type keyElem struct {
	UserName    string
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string
	CreateDate  string
}

type page struct {
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (v *iam) answer(w http.ResponseWriter, action string, result any) {
	resp := response{XMLName: xml.Name{Local: action + "Response"}, Xmlns: xmlns, Result: result}
	resp.Meta.RequestID = "sim-" + action
	writeXML(w, http.StatusOK, resp)
}

func (u *iamUser) elem() userElem {
	return userElem{Path: "/", UserName: u.name, UserID: u.id, Arn: "arn:aws:iam::" + account + ":user/" + u.name, CreateDate: u.created.Format(time.RFC3339)}
}

// serve dispatches on Action; the form was parsed by Subject.
func (v *iam) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fail(w, http.StatusBadRequest, "Sender", "MalformedQueryString", "the body is not a form")
		return
	}
	f := r.PostForm
	action := f.Get("Action")
	switch {
	case action == "":
		fail(w, http.StatusBadRequest, "Sender", "MissingAction", "The request must contain the parameter Action.")
		return
	case f.Get("Version") != version:
		fail(w, http.StatusBadRequest, "Sender", "InvalidAction", "Could not find operation "+action+" for version "+f.Get("Version"))
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if action == "ListUsers" {
		v.listUsers(w, f)
		return
	}
	if action == "GetUser" && f.Get("UserName") == "" {
		// [GetUser] without UserName: the caller, here the simulator's
		// own IAM user.
		v.answer(w, action, struct {
			XMLName xml.Name `xml:"GetUserResult"`
			User    userElem
		}{User: userElem{Path: "/", UserName: "sim-offboarder", UserID: "AIDASIMOFFBOARDER0001", Arn: "arn:aws:iam::" + account + ":user/sim-offboarder", CreateDate: "2024-01-01T00:00:00Z"}})
		return
	}
	handlers := map[string]func(http.ResponseWriter, url.Values, *iamUser){
		"GetUser": v.getUser, "ListUserTags": v.listUserTags, "ListAccessKeys": v.listAccessKeys,
		"UpdateAccessKey": v.updateAccessKey, "GetLoginProfile": v.getLoginProfile, "DeleteLoginProfile": v.deleteLoginProfile,
		"PutUserPolicy": v.putUserPolicy, "GetUserPolicy": v.getUserPolicy,
	}
	h, ok := handlers[action]
	if !ok {
		fail(w, http.StatusBadRequest, "Sender", "InvalidAction", "Could not find operation "+action+" for version "+version)
		return
	}
	name := f.Get("UserName")
	if name == "" {
		fail(w, http.StatusBadRequest, "Sender", "ValidationError", "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
		return
	}
	u := v.users.ByID(name)
	if u == nil {
		fail(w, http.StatusNotFound, "Sender", "NoSuchEntity", "The user with name "+name+" cannot be found.")
		return
	}
	h(w, f, u)
}

// window reads Marker (an offset this fake issued) and MaxItems (1 to
// 1000, default 100) and returns the slice bounds and the next page.
func window(w http.ResponseWriter, f url.Values, n int) (from, to int, next page, ok bool) {
	max := 100
	if s := f.Get("MaxItems"); s != "" {
		m, err := strconv.Atoi(s)
		if err != nil || m < 1 || m > 1000 {
			fail(w, http.StatusBadRequest, "Sender", "ValidationError", "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
			return 0, 0, page{}, false
		}
		max = m
	}
	if s := f.Get("Marker"); s != "" {
		m, err := strconv.Atoi(s)
		if err != nil || m < 0 || m > n {
			fail(w, http.StatusBadRequest, "Sender", "InvalidInput", "Invalid Marker.")
			return 0, 0, page{}, false
		}
		from = m
	}
	to = min(from+max, n)
	if to < n {
		next = page{IsTruncated: true, Marker: strconv.Itoa(to)}
	}
	return from, to, next, true
}

func (v *iam) listUsers(w http.ResponseWriter, f url.Values) {
	names := v.users.IDs()
	from, to, next, ok := window(w, f, len(names))
	if !ok {
		return
	}
	res := struct {
		XMLName xml.Name   `xml:"ListUsersResult"`
		Users   []userElem `xml:"Users>member"`
		page
	}{page: next}
	for _, n := range names[from:to] {
		res.Users = append(res.Users, v.users.ByID(n).elem())
	}
	v.answer(w, "ListUsers", res)
}

func (v *iam) getUser(w http.ResponseWriter, _ url.Values, u *iamUser) {
	v.answer(w, "GetUser", struct {
		XMLName xml.Name `xml:"GetUserResult"`
		User    struct {
			userElem
			Tags []tagElem `xml:"Tags>member"`
		}
	}{User: struct {
		userElem
		Tags []tagElem `xml:"Tags>member"`
	}{u.elem(), []tagElem{{EmailTag, u.email}}}})
}

func (v *iam) listUserTags(w http.ResponseWriter, f url.Values, u *iamUser) {
	tags := []tagElem{{EmailTag, u.email}}
	from, to, next, ok := window(w, f, len(tags))
	if !ok {
		return
	}
	v.answer(w, "ListUserTags", struct {
		XMLName xml.Name  `xml:"ListUserTagsResult"`
		Tags    []tagElem `xml:"Tags>member"`
		page
	}{Tags: tags[from:to], page: next})
}

func (v *iam) listAccessKeys(w http.ResponseWriter, f url.Values, u *iamUser) {
	from, to, next, ok := window(w, f, len(u.keys))
	if !ok {
		return
	}
	res := struct {
		XMLName xml.Name  `xml:"ListAccessKeysResult"`
		Keys    []keyElem `xml:"AccessKeyMetadata>member"`
		page
	}{page: next}
	for _, k := range u.keys[from:to] {
		status := "Inactive"
		if k.active {
			status = "Active"
		}
		res.Keys = append(res.Keys, keyElem{UserName: u.name, AccessKeyID: k.id, Status: status, CreateDate: u.created.Format(time.RFC3339)})
	}
	v.answer(w, "ListAccessKeys", res)
}

func (v *iam) updateAccessKey(w http.ResponseWriter, f url.Values, u *iamUser) {
	status := f.Get("Status")
	if status != "Active" && status != "Inactive" {
		fail(w, http.StatusBadRequest, "Sender", "ValidationError", "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
		return
	}
	i := slices.IndexFunc(u.keys, func(k accessKey) bool { return k.id == f.Get("AccessKeyId") })
	if i < 0 {
		fail(w, http.StatusNotFound, "Sender", "NoSuchEntity", "The Access Key with id "+f.Get("AccessKeyId")+" cannot be found.")
		return
	}
	u.keys[i].active = status == "Active"
	v.answer(w, "UpdateAccessKey", nil)
}

func (v *iam) getLoginProfile(w http.ResponseWriter, _ url.Values, u *iamUser) {
	if !u.password {
		fail(w, http.StatusNotFound, "Sender", "NoSuchEntity", "Login Profile for User "+u.name+" cannot be found.")
		return
	}
	v.answer(w, "GetLoginProfile", struct {
		XMLName      xml.Name `xml:"GetLoginProfileResult"`
		LoginProfile struct {
			UserName, CreateDate  string
			PasswordResetRequired bool
		}
	}{LoginProfile: struct {
		UserName, CreateDate  string
		PasswordResetRequired bool
	}{u.name, u.created.Format(time.RFC3339), false}})
}

func (v *iam) deleteLoginProfile(w http.ResponseWriter, _ url.Values, u *iamUser) {
	if !u.password {
		fail(w, http.StatusNotFound, "Sender", "NoSuchEntity", "Login Profile for User "+u.name+" cannot be found.")
		return
	}
	u.password = false
	v.answer(w, "DeleteLoginProfile", nil)
}

func (v *iam) putUserPolicy(w http.ResponseWriter, f url.Values, u *iamUser) {
	name, doc := f.Get("PolicyName"), f.Get("PolicyDocument")
	if name == "" || doc == "" {
		fail(w, http.StatusBadRequest, "Sender", "ValidationError", "PolicyName and PolicyDocument are required")
		return
	}
	if _, err := parsePolicy(doc); err != nil {
		fail(w, http.StatusBadRequest, "Sender", "MalformedPolicyDocument", "Syntax errors in policy.")
		return
	}
	u.policies[name] = doc
	v.answer(w, "PutUserPolicy", nil)
}

func (v *iam) getUserPolicy(w http.ResponseWriter, f url.Values, u *iamUser) {
	doc, ok := u.policies[f.Get("PolicyName")]
	if !ok {
		fail(w, http.StatusNotFound, "Sender", "NoSuchEntity", "The user policy with name "+f.Get("PolicyName")+" cannot be found.")
		return
	}
	v.answer(w, "GetUserPolicy", struct {
		XMLName                              xml.Name `xml:"GetUserPolicyResult"`
		UserName, PolicyName, PolicyDocument string
	}{UserName: u.name, PolicyName: f.Get("PolicyName"), PolicyDocument: url.PathEscape(doc)}) // URL-encoded, as IAM returns it
}

// statement is one policy statement; Action and Resource may be a string
// or a list.
type statement struct {
	Effect    string
	Action    json.RawMessage
	Resource  json.RawMessage
	Condition map[string]map[string]string
}

// parsePolicy reads a policy's statements (one object or a list).
func parsePolicy(doc string) ([]statement, error) {
	var p struct{ Statement json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, err
	}
	var list []statement
	if err := json.Unmarshal(p.Statement, &list); err == nil {
		return list, nil
	}
	var one statement
	err := json.Unmarshal(p.Statement, &one)
	return []statement{one}, err
}

// all reports whether a raw Action or Resource is "*" or ["*"].
func all(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var l []string
	return json.Unmarshal(raw, &l) == nil && slices.Contains(l, "*")
}

// denied reports whether an inline policy denies everything to temporary
// credentials issued at: a Deny of * on * with no condition, or with
// DateLessThan aws:TokenIssueTime after at.
func (u *iamUser) denied(at time.Time) bool {
	for _, doc := range u.policies {
		stmts, _ := parsePolicy(doc)
		for _, s := range stmts {
			if s.Effect != "Deny" || !all(s.Action) || !all(s.Resource) {
				continue
			}
			if len(s.Condition) == 0 {
				return true
			}
			if t, err := time.Parse(time.RFC3339, s.Condition["DateLessThan"]["aws:TokenIssueTime"]); err == nil && len(s.Condition) == 1 && at.Before(t) {
				return true
			}
		}
	}
	return false
}
