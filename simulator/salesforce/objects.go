package salesforce

import (
	"strings"
	"time"
)

// object is one sObject the fake can query: its name, its fields and the
// batch size of its query answers (2,000 by default; 500 for OauthToken,
// whose reference says a query returns up to 500 rows at a time).
type object struct {
	name   string
	fields []string
	batch  int
}

var objects = []*object{
	{name: "User", fields: []string{"Id", "Username", "Email", "IsActive"}, batch: 2000},
	// https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_authsession.htm
	{name: "AuthSession", fields: []string{"Id", "UsersId", "SessionType", "LoginType", "SourceIp", "NumSecondsValid"}, batch: 2000},
	// https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_oauthtoken.htm
	{name: "OauthToken", fields: []string{"Id", "UserId", "AppName", "DeleteToken", "UseCount"}, batch: 500},
}

// lookup finds an object by name, in any case.
func lookup(name string) *object {
	for _, o := range objects {
		if strings.EqualFold(o.name, name) {
			return o
		}
	}
	return nil
}

// field is the object's spelling of f, or "" for no such field.
func (o *object) field(f string) string {
	for _, name := range o.fields {
		if strings.EqualFold(name, f) {
			return name
		}
	}
	return ""
}

// condFields are the fields the query's conditions name.
func condFields(q *soql) []string {
	var out []string
	for _, c := range q.conds {
		out = append(out, c.field)
	}
	return out
}

// rows are every record of o, with every field; v.mu must be held.
func (v *salesforce) rows(o *object, version string) []map[string]any {
	var out []map[string]any
	for _, id := range v.users.IDs() {
		u := v.users.ByID(id)
		switch o.name {
		case "User":
			out = append(out, map[string]any{"attributes": attributes(o, version, u.id),
				"Id": u.id, "Username": u.email, "Email": u.email, "IsActive": true})
		case "AuthSession":
			for _, s := range u.sessions {
				out = append(out, map[string]any{"attributes": attributes(o, version, s),
					"Id": s, "UsersId": u.id, "SessionType": "UI", "LoginType": "Application", "SourceIp": "192.0.2.10",
					"NumSecondsValid": int((2 * time.Hour).Seconds())})
			}
		case "OauthToken":
			for _, t := range u.tokens {
				// Id is "reserved for future use" and always null.
				out = append(out, map[string]any{"attributes": map[string]string{"type": o.name},
					"Id": nil, "UserId": u.id, "AppName": t.app, "DeleteToken": t.deleteToken, "UseCount": 1})
			}
		}
	}
	return out
}

// attributes is a record's "attributes": its type and its URL.
func attributes(o *object, version, id string) map[string]string {
	return map[string]string{"type": o.name, "url": "/services/data/" + version + "/sobjects/" + o.name + "/" + id}
}

// project keeps the attributes and the selected fields of row, in the
// object's spelling.
func project(row map[string]any, o *object, fields []string) map[string]any {
	out := map[string]any{"attributes": row["attributes"]}
	for _, f := range fields {
		name := o.field(f)
		out[name] = row[name]
	}
	return out
}

// batchOf is the batch size of the object records belong to.
func batchOf(records []map[string]any) int {
	if len(records) > 0 {
		if a, ok := records[0]["attributes"].(map[string]string); ok {
			if o := lookup(a["type"]); o != nil {
				return o.batch
			}
		}
	}
	return 2000
}
