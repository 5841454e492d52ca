package members

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/spf13/cast"

	"salonbase/hooks/salon"
)

// privilegedUserFields are the users fields a member can never set on their
// own record; only superusers and role=admin members change them.
var privilegedUserFields = []string{"rank", "role", "invited_by", "suspended", "verified"}

// privateUserFields are hidden in the schema (so nobody but superusers
// filters, sorts or subscribes by them) and given back to the member
// themselves and to admins: others see only the public profile (name,
// avatar, bio, rank, role).
var privateUserFields = []string{"verified", "invited_by", "suspended", "lang"}

func bindUsers(app core.App) {
	app.OnRecordCreateRequest("users").BindFunc(anonymousSignup) // runs signup through e.Next
	app.OnRecordCreateRequest("users").BindFunc(signup)
	app.OnRecordAuthWithPasswordRequest("users").BindFunc(refuseUnconfirmedLogin)
	app.OnRecordAuthRequest("users").BindFunc(func(e *core.RecordAuthRequestEvent) error {
		if salon.IsSuspended(e.Record) {
			return salon.Deny("suspended", "This account is suspended. Contact the salon operator.")
		}
		return e.Next()
	})
	app.OnRecordEnrich("users").BindFunc(hidePrivateUserFields)
	app.OnRecordUpdateRequest("users").BindFunc(setPrivateUserFields)
	// model hooks run for every save: API, dashboard and Go
	app.OnRecordCreate("users").BindFunc(func(e *core.RecordEvent) error {
		e.Record.SetEmailVisibility(false)
		if e.Record.GetString("role") == "" {
			e.Record.Set("role", salon.RoleMember)
		}
		return e.Next()
	})
	app.OnRecordUpdate("users").BindFunc(func(e *core.RecordEvent) error {
		e.Record.SetEmailVisibility(false)
		if e.Record.Verified() {
			e.Record.Set("signup_pending", false) // the address is confirmed
		}
		// a suspension logs the member out everywhere at once: their tokens
		// stop working and their realtime connection loses its auth
		if e.Record.GetBool("suspended") && !e.Record.Original().GetBool("suspended") {
			// the old key still tells this member's tokens from forged ones
			// (ExplainSuspendedToken), so their app can say why it was logged out
			e.Record.Set("suspended_token_key", e.Record.TokenKey())
			e.Record.RefreshTokenKey()
		}
		if !e.Record.GetBool("suspended") {
			e.Record.Set("suspended_token_key", "")
		}
		return e.Next()
	})
}

// RefuseSuspendedAuth denies every request made with a suspended member's
// token. Suspension refreshes the token key, so this is a second line for
// tokens minted around that moment.
func RefuseSuspendedAuth(e *core.RequestEvent) error {
	if e.Auth != nil && e.Auth.Collection().Name == "users" && e.Auth.GetBool("suspended") {
		return salon.Deny("suspended", "This account is suspended. Contact the salon operator.")
	}
	return e.Next()
}

// ExplainSuspendedToken answers a request whose token stopped working
// because its member was suspended (the suspension changed their token key)
// with a 401 that says so, code "suspended", instead of treating it as a
// request without a token. Only a token that verifies against the member's
// key from before the suspension gets this answer, so nobody learns from a
// made-up token whether a member is suspended.
func ExplainSuspendedToken(e *core.RequestEvent) error {
	if e.Auth != nil {
		return e.Next()
	}
	token := strings.TrimPrefix(e.Request.Header.Get("Authorization"), "Bearer ")
	if token != "" && suspendedToken(e.App, token) {
		return salon.Refuse(http.StatusUnauthorized, "suspended", "This account is suspended. Contact the salon operator.")
	}
	return e.Next()
}

func suspendedToken(app core.App, token string) bool {
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil || claims["type"] != core.TokenTypeAuth {
		return false
	}
	users, err := app.FindCachedCollectionByNameOrId("users")
	if err != nil || claims["collectionId"] != users.Id {
		return false
	}
	id, _ := claims["id"].(string)
	user, err := app.FindRecordById(users, id)
	if err != nil || !user.GetBool("suspended") || user.GetString("suspended_token_key") == "" {
		return false
	}
	_, err = security.ParseJWT(token, user.GetString("suspended_token_key")+users.AuthToken.Secret)
	return err == nil
}

// GuardUserPrivileges answers a member's attempt to set a privileged field
// on signup or on their own record with a clear 400, before the API rules
// (which refuse the same with a generic message) run.
func GuardUserPrivileges(e *core.RequestEvent) error {
	method := e.Request.Method
	if method != "POST" && method != "PATCH" {
		return e.Next()
	}
	if !strings.HasPrefix(e.Request.URL.Path, "/api/collections/") || salon.IsAdmin(e.Auth) {
		return e.Next()
	}
	name := e.Request.PathValue("collection")
	if name == "" {
		return e.Next()
	}
	collection, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || collection.Name != "users" {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next() // the records handler reports the malformed body
	}

	var original *core.Record
	if id := e.Request.PathValue("id"); id != "" && method == "PATCH" {
		original, _ = e.App.FindRecordById("users", id)
	}
	if fields := privilegedChanges(info.Body, original); len(fields) > 0 {
		return e.BadRequestError(
			fmt.Sprintf("Only admins can set %s.", strings.Join(fields, ", ")),
			nil,
		)
	}
	return e.Next()
}

// privilegedChanges lists the privileged fields that body would set (on
// signup, original is nil) or change (on update).
func privilegedChanges(body map[string]any, original *core.Record) []string {
	var changed []string
	for key, value := range body {
		field := strings.Trim(key, "+-")
		if !isPrivilegedUserField(field) {
			continue
		}
		if original == nil || field != key || !sameValue(field, value, original) {
			changed = append(changed, field)
		}
	}
	return changed
}

func isPrivilegedUserField(name string) bool {
	for _, f := range privilegedUserFields {
		if f == name {
			return true
		}
	}
	return false
}

// sameValue compares a submitted (JSON or multipart) value with the stored
// one, so a client that sends back its whole record unchanged is not refused.
func sameValue(field string, value any, original *core.Record) bool {
	switch field {
	case "suspended", "verified":
		if list, ok := value.([]string); ok && len(list) == 1 {
			value = list[0]
		}
		return cast.ToBool(value) == original.GetBool(field)
	default:
		if list, ok := value.([]string); ok && len(list) == 1 {
			value = list[0]
		}
		return cast.ToString(value) == original.GetString(field)
	}
}

// hidePrivateUserFields keeps a member's private fields to themselves and
// the admins, in lists, views, expands and realtime events alike.
func hidePrivateUserFields(e *core.RecordEnrichEvent) error {
	auth := e.RequestInfo.Auth
	if salon.IsAdmin(auth) {
		e.Record.Unhide(privateUserFields...)
		return e.Next()
	}
	own := auth != nil && auth.Collection().Name == "users" && auth.Id == e.Record.Id
	if own {
		e.Record.Unhide(privateUserFields...)
	} else {
		e.Record.Hide("email", "emailVisibility")
	}
	if err := e.Next(); err != nil {
		return err
	}
	// expansion runs inside e.Next() and does not look at hidden fields:
	// drop what would reveal who invited whom
	if expand := e.Record.Expand(); expand != nil {
		_, via := expand["users_via_invited_by"]
		_, by := expand["invited_by"]
		if via || (by && !own) {
			delete(expand, "users_via_invited_by")
			if !own {
				delete(expand, "invited_by")
			}
			e.Record.SetExpand(expand)
		}
	}
	return nil
}

// setPrivateUserFields applies what the caller may set among the hidden
// fields, which PocketBase leaves out of the loaded data: a member their own
// lang, admins (role=admin; superusers are loaded as usual) all of them.
// GuardUserPrivileges has already refused a member's privileged fields.
func setPrivateUserFields(e *core.RecordRequestEvent) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	fields := []string{"lang"}
	if salon.IsAdmin(e.Auth) {
		fields = privateUserFields
	} else if e.Auth == nil || e.Auth.Id != e.Record.Id {
		return e.Next()
	}
	if err := salon.SetSubmitted(e.RequestEvent, e.Record, fields...); err != nil {
		return e.BadRequestError("Failed to read the submitted data.", err)
	}
	return e.Next()
}

// signup sets up a new member: default role and rank, and the invite code,
// redeemed in the same transaction as the record so that a failed signup
// never uses up a code.
func signup(e *core.RecordRequestEvent) error {
	admin := salon.IsAdmin(e.Auth)
	if !admin {
		// second line behind GuardUserPrivileges, for signups that do not go
		// through the records route (OAuth2)
		for _, f := range []string{"rank", "role", "invited_by"} {
			if e.Record.GetString(f) != "" {
				return e.BadRequestError(fmt.Sprintf("Only admins can set %s.", f), nil)
			}
		}
		if e.Record.GetBool("suspended") {
			return e.BadRequestError("Only admins can set suspended.", nil)
		}
	}

	info, err := e.RequestInfo()
	if err != nil {
		return e.BadRequestError("Failed to read the request.", err)
	}
	code := NormalizeInviteCode(cast.ToString(info.Body["invite_code"]))
	// hidden fields are left out of the loaded data (see setPrivateUserFields)
	if !e.HasSuperuserAuth() {
		fields := []string{"lang"}
		if admin {
			fields = privateUserFields
		}
		if err := salon.SetSubmitted(e.RequestEvent, e.Record, fields...); err != nil {
			return e.BadRequestError("Failed to read the submitted data.", err)
		}
	}

	return salon.ChainInTx(&e.App, func(tx core.App) error {
		if code == "" && !admin {
			settings, err := salon.Settings(tx)
			if err != nil {
				return err
			}
			if settings.GetBool("invite_only") {
				return inviteRefusal("invite_required", "An invite code is required to join this salon.")
			}
		}

		if code != "" {
			invite, err := RedeemInvite(tx, code)
			if err != nil {
				return err
			}
			if e.Record.GetString("invited_by") == "" {
				e.Record.Set("invited_by", invite.GetString("owner"))
			}
			if rank := invite.GetString("rank"); rank != "" && e.Record.GetString("rank") == "" {
				e.Record.Set("rank", rank)
			}
		}

		if e.Record.GetString("rank") == "" {
			lowest, err := salon.LowestRankID(tx)
			if err != nil {
				return fmt.Errorf("default rank: %w", err)
			}
			e.Record.Set("rank", lowest)
		}
		if e.Record.GetString("role") == "" {
			e.Record.Set("role", salon.RoleMember)
		}
		return e.Next()
	})
}

// inviteRefusal is a signup refused for its invite code: a 400 (the input
// cannot be used) with a code the sign-up form can put in words.
func inviteRefusal(code, msg string) error {
	return salon.Refuse(http.StatusBadRequest, code, "%s", msg)
}
