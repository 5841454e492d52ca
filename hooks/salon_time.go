package hooks

import (
	"time"

	"github.com/pocketbase/pocketbase/tools/types"
)

func nowUTC() types.DateTime { return types.NowDateTime() }

// dbTime formats t as PocketBase stores dates, for filters and raw SQL.
func dbTime(t time.Time) string {
	return t.UTC().Format(types.DefaultDateLayout)
}
