package salon

import (
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// PocketBase checks a collection's create rule before any create hook runs
// and answers a refusal with a bare 400 "Failed to create record.", so a
// client cannot tell what to change. The guards here and in the features
// (members.GuardMemberCreates, live.GuardChatWrites …) run before the rule,
// as router middlewares, and answer the refusals a caller can meet in normal
// use with a code and a reason. The rules still decide the same.

// Rule prefixes the migrations give every create rule for active members
// only, and for admins only.
const (
	memberRulePrefix = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
	adminRule        = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
)

// StockCreate returns the collection of a stock record create
// (POST /api/collections/{collection}/records) by anyone but a superuser.
func StockCreate(e *core.RequestEvent) (*core.Collection, bool) {
	if e.Request.Method != http.MethodPost || !strings.HasPrefix(e.Request.URL.Path, "/api/collections/") ||
		e.Request.PathValue("id") != "" || e.HasSuperuserAuth() {
		return nil, false
	}
	name := e.Request.PathValue("collection")
	if name == "" || !strings.HasSuffix(strings.TrimRight(e.Request.URL.Path, "/"), "/records") {
		return nil, false
	}
	c, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || c.CreateRule == nil {
		return nil, false
	}
	return c, true
}

// GuardCallerKind names the refusal of a create by the wrong kind of caller:
// a visitor or a guest where the rule wants an active member, a member where
// it wants an admin.
func GuardCallerKind(e *core.RequestEvent) error {
	c, ok := StockCreate(e)
	if !ok {
		return e.Next()
	}
	rule := *c.CreateRule
	switch {
	case rule == adminRule && !IsAdmin(e.Auth):
		if e.Auth == nil {
			return Refuse(http.StatusUnauthorized, "login", "Sign in as an admin.")
		}
		return Deny("admins_only", "Only admins create %s.", strings.ReplaceAll(c.Name, "_", " "))
	case strings.HasPrefix(rule, memberRulePrefix) && !IsMember(e.Auth):
		if e.Auth == nil {
			return Refuse(http.StatusUnauthorized, "login", "Sign in as a member.")
		}
		return Deny("not_member", "Only members create %s.", strings.ReplaceAll(c.Name, "_", " "))
	}
	return e.Next()
}
