package salon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Refusal is the one way Salonbase refuses a caller: an HTTP status, a stable
// machine code (rank_too_low, room_archived …) and an English sentence that
// is safe to show. Policies return it as a plain error; returned from a route
// or hook it answers itself, because it unwraps to the PocketBase API error
//
//	{"status":403,"message":"…","data":{"reason":{"code":"…","message":"…"}}}
type Refusal struct {
	Status int    // HTTP status; 0 means 403
	Code   string // stable snake_case code that clients may branch on
	Reason string // English sentence for people
}

func (r *Refusal) Error() string { return r.Reason }

// Unwrap lets PocketBase's error handler find the API error (errors.As).
func (r *Refusal) Unwrap() error { return r.ApiError() }

// ApiError is the answer the caller gets.
func (r *Refusal) ApiError() *router.ApiError {
	return router.NewApiError(r.status(), r.Reason, map[string]router.SafeErrorItem{"reason": reasonItem{r}})
}

func (r *Refusal) status() int {
	if r.Status == 0 {
		return http.StatusForbidden
	}
	return r.Status
}

// reasonItem shows a refusal as a router.SafeErrorItem, the only kind of
// error data that PocketBase serializes with its code and message.
type reasonItem struct{ r *Refusal }

func (i reasonItem) Code() string  { return i.r.Code }
func (i reasonItem) Error() string { return i.r.Reason }

// MarshalJSON writes the item the way the answer shows it. PocketBase's
// request log stores the error data as JSON, and a struct without exported
// fields cannot be marshaled, so without it every refused request's log
// line was lost.
func (i reasonItem) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"code": i.r.Code, "message": i.r.Reason})
}

// Deny is a 403 refusal.
func Deny(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Refuse is a refusal with another 4xx status (401, 409, 429).
func Refuse(status int, code, format string, args ...any) *Refusal {
	return &Refusal{Status: status, Code: code, Reason: fmt.Sprintf(format, args...)}
}

// IgnoreRefusal turns a refusal into nil and keeps real failures.
func IgnoreRefusal(err error) error {
	if _, ok := AsRefusal(err); ok {
		return nil
	}
	return err
}

// AsRefusal finds a refusal in err.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// Answer answers a policy decision in a route: a refusal as itself, any
// other error as a 500 (the lookup behind the decision failed).
func Answer(e *core.RequestEvent, err error) error {
	if r, ok := AsRefusal(err); ok {
		return r
	}
	return e.InternalServerError("", err)
}
