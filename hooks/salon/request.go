package salon

import "github.com/pocketbase/pocketbase/core"

func AuthID(e *core.RequestEvent) string {
	if e.Auth == nil {
		return ""
	}
	return e.Auth.Id
}
