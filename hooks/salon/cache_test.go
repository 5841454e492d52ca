package salon_test

import (
	"errors"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// The settings and ranks are kept in memory, but a change applies to the
// next read: a save (also one in a transaction, once it commits), a write
// that bypassed the hooks and was announced with ForgetConfig. A rolled
// back change is never seen, and a caller changing its copy changes
// nothing for others.
func TestConfigCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	retention := func() int {
		t.Helper()
		s, err := salon.Settings(app)
		if err != nil {
			t.Fatal(err)
		}
		return s.GetInt("room_ip_retention_days")
	}
	testutil.UpdateSettings(t, app, map[string]any{"room_ip_retention_days": 7})
	if got := retention(); got != 7 {
		t.Fatalf("after a save: %d, want 7", got)
	}

	// a copy changed by its caller, not saved
	s, _ := salon.Settings(app)
	s.Set("room_ip_retention_days", 99)
	if got := retention(); got != 7 {
		t.Fatalf("a caller's unsaved change leaked into the cache: %d", got)
	}

	// a change in a transaction that rolls back
	_ = app.RunInTransaction(func(tx core.App) error {
		s, err := salon.Settings(tx)
		if err != nil {
			return err
		}
		s.Set("room_ip_retention_days", 30)
		if err := tx.Save(s); err != nil {
			t.Fatal(err)
		}
		return errors.New("roll back")
	})
	if got := retention(); got != 7 {
		t.Fatalf("after a rolled back change: %d, want 7", got)
	}
	// … and one that commits
	if err := app.RunInTransaction(func(tx core.App) error {
		s, err := salon.Settings(tx)
		if err != nil {
			return err
		}
		s.Set("room_ip_retention_days", 30)
		return tx.Save(s)
	}); err != nil {
		t.Fatal(err)
	}
	if got := retention(); got != 30 {
		t.Fatalf("after a committed change: %d, want 30", got)
	}

	// a write past the record hooks, announced
	if _, err := app.DB().NewQuery("UPDATE salon_settings SET room_ip_retention_days = 3").Execute(); err != nil {
		t.Fatal(err)
	}
	salon.ForgetConfig(app)
	if got := retention(); got != 3 {
		t.Fatalf("after ForgetConfig: %d, want 3", got)
	}

	// a rank's level and name
	ranks, err := app.FindCollectionByNameOrId("ranks")
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(ranks)
	r.Set("name", "Temp")
	r.Set("level", 42)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	if got, err := salon.Rank(app, r.Id); err != nil || got != (salon.RankInfo{Level: 42, Name: "Temp"}) {
		t.Fatalf("a new rank: %+v %v", got, err)
	}
	r.Set("name", "Golden")
	r.Set("level", 43)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	if got, err := salon.Rank(app, r.Id); err != nil || got != (salon.RankInfo{Level: 43, Name: "Golden"}) {
		t.Fatalf("after a rank change: %+v %v", got, err)
	}
	if err := app.Delete(r); err != nil {
		t.Fatal(err)
	}
	if _, err := salon.Rank(app, r.Id); err == nil {
		t.Fatal("a deleted rank is still found")
	}
}

// What WithInsert registers commits with the record's insert or not at
// all, and the hooks after the insert get the app, not its finished
// transaction.
func TestWithInsertCommitsWithTheRecord(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	member := testutil.CreateUser(t, app, testutil.User{})
	rooms, err := app.FindCollectionByNameOrId("rooms")
	if err != nil {
		t.Fatal(err)
	}
	var afterInTx []bool
	app.OnRecordAfterCreateSuccess("rooms").BindFunc(func(e *core.RecordEvent) error {
		afterInTx = append(afterInTx, e.App.IsTransactional())
		return e.Next()
	})
	notice := func(tx core.App) error {
		c, err := tx.FindCachedCollectionByNameOrId("notifications")
		if err != nil {
			return err
		}
		n := core.NewRecord(c)
		n.Set("user", member.Id)
		n.Set("kind", "test")
		n.Set("title", "with the room")
		return tx.Save(n)
	}

	// a failing write: neither the room nor the notice
	failing := core.NewRecord(rooms)
	failing.Set("name", "Failing")
	done := salon.WithInsert(app, failing, func(tx core.App) error {
		if err := notice(tx); err != nil {
			return err
		}
		return errors.New("the write failed")
	})
	err = app.Save(failing)
	done()
	if err == nil {
		t.Fatal("the save must fail with its write")
	}
	if n := testutil.CountRecords(t, app, "rooms", dbx.HashExp{"name": "Failing"}); n != 0 {
		t.Fatalf("the room of a failed write was kept: %d", n)
	}
	if n := testutil.NoticesOf(t, app, member, "test"); n != 0 {
		t.Fatalf("the notice of a failed write was kept: %d", n)
	}

	// a good write: both, and the hooks after see the app
	room := core.NewRecord(rooms)
	room.Set("name", "Kept")
	done = salon.WithInsert(app, room, notice)
	err = app.Save(room)
	done()
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.NoticesOf(t, app, member, "test"); n != 1 {
		t.Fatalf("the notice written with the room: %d, want 1", n)
	}
	if len(afterInTx) != 1 || afterInTx[0] {
		t.Fatalf("the hooks after the insert ran %d times, in a transaction: %v", len(afterInTx), afterInTx)
	}

	// registered once: the next save of another record writes nothing more
	other := core.NewRecord(rooms)
	other.Set("name", "Other")
	if err := app.Save(other); err != nil {
		t.Fatal(err)
	}
	if n := testutil.NoticesOf(t, app, member, "test"); n != 1 {
		t.Fatalf("a record without a write wrote a notice: %d", n)
	}
}
