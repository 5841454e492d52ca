package members

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// UnconfirmedSignupTTL is how long an anonymous signup waits for its address
// to be confirmed before PurgeUnconfirmedSignups deletes it. It is longer
// than the confirmation link lives (PocketBase's default: 3 days), so a
// member who asked for a fresh link still has time to follow it.
const UnconfirmedSignupTTL = 7 * 24 * time.Hour

func bindSignupPurge(app core.App) {
	app.Cron().MustAdd("salonUnconfirmedSignups", "41 * * * *", func() {
		if n, err := PurgeUnconfirmedSignups(app, time.Now()); err != nil {
			app.Logger().Error("purge unconfirmed signups", "error", err)
		} else if n > 0 {
			app.Logger().Info("purged unconfirmed signups", "count", n)
		}
	})
}

// PurgeUnconfirmedSignups deletes the accounts of anonymous signups whose
// address was not confirmed within UnconfirmedSignupTTL before now, so that
// an address somebody else typed is free again and a salon keeps no data of
// people who never joined. It returns how many it deleted.
func PurgeUnconfirmedSignups(app core.App, now time.Time) (int, error) {
	cutoff := now.Add(-UnconfirmedSignupTTL).UTC().Format("2006-01-02 15:04:05.000Z")
	stale, err := app.FindAllRecords("users",
		dbx.HashExp{"signup_pending": true, "verified": false},
		dbx.NewExp("created < {:cutoff}", dbx.Params{"cutoff": cutoff}))
	if err != nil {
		return 0, fmt.Errorf("find unconfirmed signups: %w", err)
	}
	for i, user := range stale {
		if err := app.Delete(user); err != nil {
			return i, fmt.Errorf("delete unconfirmed signup %s: %w", user.Id, err)
		}
	}
	return len(stale), nil
}
