package salon

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
)

func AuthID(e *core.RequestEvent) string {
	if e.Auth == nil {
		return ""
	}
	return e.Auth.Id
}

// SetSubmitted copies fields from the request body, as the client sent it,
// into record. For anyone but superusers PocketBase drops Hidden fields from
// the data it loads into the record (and from RequestInfo().Body once the
// records handler has run), so a hook that lets a caller set such a field
// (a member's own lang, an admin suspending someone) reads it here. Fields
// absent from the body are left alone.
func SetSubmitted(e *core.RequestEvent, record *core.Record, fields ...string) error {
	body := map[string]any{}
	if err := e.BindBody(&body); err != nil {
		return fmt.Errorf("read the submitted body: %w", err)
	}
	for _, name := range fields {
		value, ok := body[name]
		if !ok {
			continue
		}
		if list, isList := value.([]string); isList && len(list) == 1 {
			value = list[0] // one multipart value
		}
		record.Set(name, value)
	}
	return nil
}
