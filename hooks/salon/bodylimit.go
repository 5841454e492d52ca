package salon

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// BodyLimits caps request bodies that are not multipart uploads (JSON above
// all). PocketBase's own limit on a collection's records is 32 MiB plus the
// maximum of each file field, meant for streamed file parts; a JSON body is
// read whole into memory and decoded into a map, several times its size, so
// it gets a small limit of its own, anonymous callers the smallest.
// Superusers keep PocketBase's limits (collection imports, settings).
// Multipart bodies are left to PocketBase: their files stream to disk or S3.
type BodyLimits struct {
	Anonymous int64            // callers without a token
	Member    int64            // members and guests
	Keys      int              // object keys in one JSON body, at any depth
	Paths     map[string]int64 // a path's own limit for anonymous callers (signed webhooks)
}

// Handler is the router-wide middleware; it runs after the rate limiter and
// the token is loaded, before anything reads the body.
func (l BodyLimits) Handler() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "salonBodyLimits",
		Priority: apis.DefaultBodyLimitMiddlewarePriority + 1,
		Func:     l.check,
	}
}

func (l BodyLimits) check(e *core.RequestEvent) error {
	switch e.Request.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return e.Next()
	}
	media, _, _ := mime.ParseMediaType(e.Request.Header.Get("Content-Type"))
	if media == "multipart/form-data" || e.HasSuperuserAuth() || e.Request.Body == nil || e.Request.Body == http.NoBody {
		return e.Next()
	}
	limit := l.Member
	if e.Auth == nil {
		limit = l.Anonymous
		if p, ok := l.Paths[e.Request.URL.Path]; ok {
			limit = p
		}
	}
	if e.Request.ContentLength > limit {
		return tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(e.Request.Body, limit+1))
	if err != nil {
		var maxErr *router.ApiError
		if errors.As(err, &maxErr) {
			return maxErr
		}
		return e.BadRequestError("Failed to read the request body.", err)
	}
	if int64(len(body)) > limit {
		return tooLarge(limit)
	}
	if media == "" || media == "application/json" || strings.HasSuffix(media, "+json") {
		if countJSONKeys(body, l.Keys) > l.Keys {
			return Refuse(http.StatusBadRequest, "too_many_keys",
				"The request has more than %d fields: send only the record's fields.", l.Keys)
		}
	}
	// what we read is what the handlers read, as often as they need to
	e.Request.Body = &router.RereadableReadCloser{ReadCloser: io.NopCloser(bytes.NewReader(body))}
	e.Request.ContentLength = int64(len(body))
	return e.Next()
}

func tooLarge(limit int64) *Refusal {
	return Refuse(http.StatusRequestEntityTooLarge, "body_too_large",
		"The request body is larger than %d KiB; files go as multipart/form-data.", limit>>10)
}

// countJSONKeys counts object keys at any depth, stopping past max; a
// malformed body counts what it has (PocketBase refuses it afterwards).
func countJSONKeys(body []byte, max int) int {
	type frame struct{ object, atKey bool }
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []frame // the open objects and arrays
	keys := 0
	for keys <= max {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			if stack[n-1].atKey {
				keys++
				stack[n-1].atKey = false // its value comes next
				continue
			}
			stack[n-1].atKey = true // this is the value: a key comes next
		}
		if d, ok := tok.(json.Delim); ok { // '{' or '['
			stack = append(stack, frame{object: d == '{', atKey: d == '{'})
		}
	}
	return keys
}
