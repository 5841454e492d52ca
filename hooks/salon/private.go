package salon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
)

// Private fields (users.suspended, tips.note, dm_messages.recipient_deleted
// …) are Hidden in the schema, so PocketBase itself refuses filters and sorts
// on them from anyone but superusers, on every collection and through every
// relation path. Its refusal is a bare 400; the guards below run the same
// resolver first and name the field, so that a client learns why.

// nonFilterableRe matches the resolver's refusal of a hidden field.
var nonFilterableRe = regexp.MustCompile(`non-filterable (?:back relation )?field "([^"]+)"`)

// PrivateFieldIn returns the first hidden field that filter or sort on
// collection reaches for a caller who is not a superuser ("" when none).
func PrivateFieldIn(app core.App, collection *core.Collection, info *core.RequestInfo, filter, sort string) string {
	resolver := core.NewRecordFieldResolver(app, collection, info, false)
	if filter != "" {
		if _, err := search.FilterData(filter).BuildExpr(resolver); err != nil {
			if m := nonFilterableRe.FindStringSubmatch(err.Error()); m != nil {
				return m[1]
			}
		}
	}
	for _, f := range search.ParseSortFromString(sort) {
		if _, err := resolver.Resolve(f.Name); err != nil {
			if m := nonFilterableRe.FindStringSubmatch(err.Error()); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

func privateFieldRefusal(action, field string) *Refusal {
	return Refuse(http.StatusBadRequest, "private_field", "Members cannot %s by the private field %q.", action, field)
}

// GuardPrivateFilters answers a records list whose filter or sort reaches a
// private field with a 400 that names it (router-wide middleware).
func GuardPrivateFilters(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodGet || !strings.HasPrefix(e.Request.URL.Path, "/api/collections/") {
		return e.Next()
	}
	name := e.Request.PathValue("collection")
	if name == "" || e.HasSuperuserAuth() {
		return e.Next()
	}
	collection, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil {
		return e.Next() // the records handler answers 404
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next()
	}
	q := e.Request.URL.Query()
	if f := PrivateFieldIn(e.App, collection, info, q.Get("filter"), ""); f != "" {
		return privateFieldRefusal("filter", f)
	}
	if f := PrivateFieldIn(e.App, collection, info, "", q.Get("sort")); f != "" {
		return privateFieldRefusal("sort", f)
	}
	return e.Next()
}

// GuardPrivateSubscriptions refuses a realtime subscription whose filter
// reaches a private field: which events arrive would reveal its value.
// (PocketBase would accept it and silently deliver nothing.)
func GuardPrivateSubscriptions(e *core.RealtimeSubscribeRequestEvent) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next()
	}
	for _, sub := range e.Subscriptions {
		topic, rawOptions, _ := strings.Cut(sub, "?")
		name, _, _ := strings.Cut(topic, "/")
		collection, err := e.App.FindCachedCollectionByNameOrId(name)
		if err != nil {
			continue // a custom topic (rooms/{id} …) or no collection
		}
		values, err := url.ParseQuery(rawOptions)
		if err != nil {
			continue
		}
		var options struct {
			Query map[string]any `json:"query"`
		}
		if raw := values.Get("options"); raw == "" || json.Unmarshal([]byte(raw), &options) != nil {
			continue
		}
		filter := fmt.Sprint(options.Query["filter"])
		if options.Query["filter"] == nil {
			filter = ""
		}
		if f := PrivateFieldIn(e.App, collection, info, filter, ""); f != "" {
			return privateFieldRefusal("subscribe", f)
		}
	}
	return e.Next()
}
