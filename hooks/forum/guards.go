package forum

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cast"

	"salonbase/hooks/salon"
)

// GuardAuthorFields answers, before the create rules (see
// salon.StockCreate), a topic or post in someone else's name.
func GuardAuthorFields(e *core.RequestEvent) error {
	c, ok := salon.StockCreate(e)
	if !ok || (c.Name != "forum_topics" && c.Name != "forum_posts") || !salon.IsMember(e.Auth) {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next() // the records handler reports the malformed body
	}
	if a, ok := info.Body["author"]; ok && cast.ToString(a) != e.Auth.Id {
		return salon.Deny("not_yours", "You can only write as yourself.")
	}
	return e.Next()
}
