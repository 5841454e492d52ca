package salon

import (
	"time"

	"github.com/pocketbase/pocketbase/tools/types"
)

func NowUTC() types.DateTime { return types.NowDateTime() }

// DbTime formats t as PocketBase stores dates, for filters and raw SQL.
func DbTime(t time.Time) string {
	return t.UTC().Format(types.DefaultDateLayout)
}
