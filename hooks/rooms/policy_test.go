package rooms_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/rooms"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestCanReadAndPostRoom(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	joined := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Rank: "Free"})
	goldRoom := testutil.NewRoom(t, app, map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.NewRoom(t, app, map[string]any{"password": "secret!"})
	archived := testutil.NewRoom(t, app, map[string]any{"archived": true})
	guestRoom := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	members, _ := app.FindCollectionByNameOrId("room_members")
	if err := app.Save(testutil.NewRecord(members, map[string]any{"room": secret.Id, "user": joined.Id})); err != nil {
		t.Fatal(err)
	}
	guest := testutil.NewGuest(t, app, guestRoom, time.Hour)

	for _, c := range []struct {
		name      string
		auth      *core.Record
		room      *core.Record
		read, pst string // "" = allowed, else the refusal code
	}{
		{"anonymous", nil, guestRoom, "login", "login"},
		{"rank high enough", gold, goldRoom, "", ""},
		{"rank too low", bronze, goldRoom, "rank_too_low", "rank_too_low"},
		{"suspended", suspended, guestRoom, "suspended", "suspended"},
		{"admin below rank", admin, goldRoom, "", ""},
		{"password not joined", gold, secret, "password_required", "password_required"},
		{"password joined", joined, secret, "", ""},
		{"admin skips password", admin, secret, "", ""},
		{"archived", gold, archived, "", "archived"},
		{"guest in their room", guest, guestRoom, "", ""},
		{"guest elsewhere", guest, archived, "guest_other_room", "guest_other_room"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := code(rooms.CanReadRoom(app, c.auth, c.room)); got != c.read {
				t.Errorf("read: want %q, got %q", c.read, got)
			}
			if got := code(rooms.CanPostRoom(app, c.auth, c.room)); got != c.pst {
				t.Errorf("post: want %q, got %q", c.pst, got)
			}
		})
	}

	// RoomReaders agrees with CanReadRoom for members, in one query
	all := []string{bronze.Id, gold.Id, joined.Id, suspended.Id, admin.Id}
	for _, room := range []*core.Record{goldRoom, secret, guestRoom} {
		got, err := rooms.RoomReaders(app, room, all)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*core.Record{bronze, gold, joined, suspended, admin} {
			if want := rooms.CanReadRoom(app, u, room) == nil; slices.Contains(got, u.Id) != want {
				t.Errorf("room %s user %s: RoomReaders says %v, CanReadRoom %v", room.GetString("name"), u.Id, !want, want)
			}
		}
	}

	// moderators
	modRoom := testutil.NewRoom(t, app, map[string]any{"moderators": []string{gold.Id}})
	if !rooms.CanModerateRoom(gold, modRoom) || rooms.CanModerateRoom(bronze, modRoom) || !rooms.CanModerateRoom(admin, modRoom) || rooms.CanModerateRoom(guest, modRoom) {
		t.Error("moderators: listed members and admins only")
	}
}

func TestGuestLinkLive(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	room := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	other := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	live := testutil.NewGuest(t, app, room, time.Hour)
	link, _ := app.FindRecordById("guest_links", live.GetString("guest_link"))
	if err := rooms.GuestLinkLive(link, room.Id); err != nil {
		t.Fatalf("live link: %v", err)
	}
	if code(rooms.GuestLinkLive(link, other.Id)) != "guest_other_room" {
		t.Error("a link is for its own room only")
	}
	link.Set("revoked", true)
	if code(rooms.GuestLinkLive(link, room.Id)) != "link_revoked" {
		t.Error("revoked")
	}
	link.Set("revoked", false)
	link.Set("expires_at", time.Now().Add(-time.Second))
	if code(rooms.GuestLinkLive(link, room.Id)) != "link_expired" {
		t.Error("expired")
	}
	// the room or the salon turning guests off closes the door too
	room.Set("allow_guests", false)
	if code(rooms.CanReadRoom(app, live, room)) != "guests_off" {
		t.Error("allow_guests off")
	}
	room.Set("allow_guests", true)
	testutil.UpdateSettings(t, app, map[string]any{"guest_chat": false})
	if code(rooms.CanReadRoom(app, live, room)) != "guests_off" {
		t.Error("guest_chat off")
	}
}

func code(err error) string {
	if err == nil {
		return ""
	}
	var d *salon.Refusal
	if errors.As(err, &d) {
		return d.Code
	}
	return "error: " + err.Error()
}
