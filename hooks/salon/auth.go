package salon

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// PocketBase's own middleware (apis' loadAuthToken) treats every failure to
// look up a request's token as "no token": when the database did not answer
// the lookup (busy under load), a signed-in member became a visitor and got
// 401 "Sign in". LoadAuth runs just before it and tells the two apart: a
// token that does not verify, or whose record is gone, still makes a
// visitor; a database that failed to answer is asked again, and then the
// member gets a 503 to retry. (PocketBase's middleware then finds e.Auth set,
// or no valid token, and does nothing.)

// authLookups is how often a token's record is looked up before giving up;
// each lookup already waits out SQLite's busy timeout.
const authLookups = 2

// LoadAuth is the router-wide middleware described above.
func LoadAuth() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "salonLoadAuth",
		Priority: apis.DefaultLoadAuthTokenMiddlewarePriority - 1,
		Func:     loadAuth,
	}
}

func loadAuth(e *core.RequestEvent) error {
	token := authToken(e.Request)
	if e.Auth != nil || token == "" {
		return e.Next()
	}
	var err error
	for range authLookups {
		var rec *core.Record
		rec, err = e.App.FindAuthRecordByToken(token, core.TokenTypeAuth)
		if err == nil {
			e.Auth = rec
			return e.Next()
		}
		if !databaseFailed(err) {
			return e.Next() // not a valid token: a visitor, as PocketBase has it
		}
	}
	e.App.Logger().Warn("auth: the token's record could not be read", "path", e.Request.URL.Path, "error", err)
	e.Response.Header().Set("Retry-After", "1")
	return Refuse(http.StatusServiceUnavailable, "auth_unavailable",
		"The server could not check your sign-in just now. Please try again.")
}

// authToken is the request's token as PocketBase reads it: the
// Authorization header, with or without "Bearer ".
func authToken(r *http.Request) string {
	token := r.Header.Get("Authorization")
	if len(token) > 7 && strings.EqualFold(token[:7], "Bearer ") {
		return token[7:]
	}
	return token
}

// databaseFailed reports whether err is the database's failure (an SQLite
// result code, a closed connection) rather than an answer about the token.
func databaseFailed(err error) bool {
	if errors.Is(err, sql.ErrNoRows) {
		return false
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) || errors.Is(err, sql.ErrConnDone)
}
