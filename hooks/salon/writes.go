package salon

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// WriteRefusal says why the caller, who may view record, may not change it
// (del false) or delete it (del true). It returns nil when it has nothing
// better to say than the default (admins_only for an admins' rule,
// not_allowed otherwise).
type WriteRefusal func(e *core.RequestEvent, record *core.Record, del bool) *Refusal

// WriteRefusals maps a collection name to its explanation.
type WriteRefusals map[string]WriteRefusal

// ExplainStockWrites gives a refused update or delete of a stock record
// (PATCH or DELETE /api/collections/{collection}/records/{id}) its reason.
//
// PocketBase checks the update and delete rules before any record request
// hook runs and answers a mismatch with 404, whether or not the caller may
// see the record. So this middleware lets the request run and only looks at
// a 404 (or the 403 of a superusers-only rule) that came back: when the
// caller may view the record after all (its view rule), the answer becomes a
// 403 with a stable code; when they may not, the 404 stays, so nobody learns
// that a record they cannot see exists. The rules keep deciding; this only
// names their refusals.
func ExplainStockWrites(explain ...WriteRefusals) func(e *core.RequestEvent) error {
	all := WriteRefusals{}
	for _, m := range explain {
		for name, f := range m {
			all[name] = f
		}
	}
	return func(e *core.RequestEvent) error {
		err := e.Next()
		if err == nil {
			return nil
		}
		if r := explainStockWrite(e, err, all); r != nil {
			return r
		}
		return err
	}
}

func explainStockWrite(e *core.RequestEvent, err error, explain WriteRefusals) *Refusal {
	method := e.Request.Method
	if (method != http.MethodPatch && method != http.MethodDelete) ||
		!strings.HasPrefix(e.Request.URL.Path, "/api/collections/") || e.Auth == nil || e.HasSuperuserAuth() {
		return nil
	}
	if _, ours := AsRefusal(err); ours {
		return nil // a hook said why already
	}
	var apiErr *router.ApiError
	if !errors.As(err, &apiErr) {
		return nil
	}
	c, cerr := e.App.FindCachedCollectionByNameOrId(e.Request.PathValue("collection"))
	id := e.Request.PathValue("id")
	if cerr != nil || id == "" || c.IsView() {
		return nil
	}
	del := method == http.MethodDelete
	rule := c.UpdateRule
	if del {
		rule = c.DeleteRule
	}
	switch {
	case apiErr.Status == http.StatusNotFound && rule != nil:
	case apiErr.Status == http.StatusForbidden && rule == nil:
	default:
		return nil // not a rule's refusal
	}
	record, ferr := e.App.FindRecordById(c, id)
	if ferr != nil {
		return nil // it does not exist: the 404 is true
	}
	info, ierr := e.RequestInfo()
	if ierr != nil {
		return nil
	}
	if ok, _ := e.App.CanAccessRecord(record, info, c.ViewRule); !ok {
		return nil // keep the 404: the caller may not know it exists
	}
	if f := explain[c.Name]; f != nil {
		if r := f(e, record, del); r != nil {
			return r
		}
	}
	what := strings.ReplaceAll(c.Name, "_", " ")
	switch {
	case rule == nil:
		return Deny("read_only", "The server writes %s: they cannot be changed or deleted here.", what)
	case *rule == adminRule:
		if del {
			return Deny("admins_only", "Only admins delete %s.", what)
		}
		return Deny("admins_only", "Only admins change %s.", what)
	}
	if del {
		return Deny("not_allowed", "You cannot delete this record of %s.", what)
	}
	return Deny("not_allowed", "You cannot change this record of %s (or these fields of it).", what)
}
