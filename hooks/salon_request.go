package hooks

import "github.com/pocketbase/pocketbase/core"

func authID(e *core.RequestEvent) string {
	if e.Auth == nil {
		return ""
	}
	return e.Auth.Id
}
