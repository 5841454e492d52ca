package rooms

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"golang.org/x/crypto/bcrypt"

	"salonbase/hooks/salon"
)

// Chat rooms: the rooms themselves, joining (with a password where set),
// and the IP retention job. Messages, guests, search, export and realtime
// live in the other rooms_*.go / room_*.go files; bindRooms binds them all.

const (
	// joinMaxFailures wrong passwords per member and room within
	// joinFailureWindow lock that member out of that room's join for the
	// rest of the window (the per-IP rate limit is a second line).
	joinMaxFailures   = 5
	joinFailureWindow = 15 * time.Minute
)

func bindRooms(app core.App) {
	app.OnRecordCreate("rooms").BindFunc(keepRoomPassword)
	app.OnRecordUpdate("rooms").BindFunc(keepRoomPassword)
	app.OnRecordCreateRequest("rooms").BindFunc(adminRoomPassword)
	app.OnRecordUpdateRequest("rooms").BindFunc(adminRoomPassword)

	app.OnRecordCreate("room_members").BindFunc(func(e *core.RecordEvent) error {
		if e.Record.GetString("notify") == "" {
			e.Record.Set("notify", "all")
		}
		return e.Next()
	})

	app.Cron().MustAdd("rooms_ip_retention", "17 3 * * *", func() {
		if n, err := PurgeRoomIPs(app, time.Now()); err != nil {
			app.Logger().Error("room IP retention", "error", err)
		} else if n > 0 {
			app.Logger().Info("room IP retention", "cleared", n)
		}
	})

	bindRoomMessages(app)
	bindGuests(app)
	bindRoomRealtime(app)
}

func roomRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.POST("/rooms/{id}/join", joinRoom).Bind(apis.RequireAuth("users"))
}

// keepRoomPassword hashes a room password the moment it is written, by the
// dashboard, the API or Go: rooms.password is a hidden text field (the
// dashboard has an input for it) that only ever stores a bcrypt hash. A value
// that is already a hash is kept (the dashboard sends the stored hash back
// with every edit, password_protected with it); anything else is plain text and is hashed; an empty value
// removes the password. password_protected is true exactly when a hash is
// stored: unticking it removes the password, ticking it without one is refused.
func keepRoomPassword(e *core.RecordEvent) error {
	r := e.Record
	value, old := r.GetString("password"), ""
	if !r.IsNew() {
		old = r.Original().GetString("password")
	}
	switch {
	case value != "" && !isBcryptHash(value): // a new password in plain text
		if n := len(value); n < 4 || n > 71 {
			return apis.NewBadRequestError("A room password needs 4 to 71 bytes.", nil)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(value), bcrypt.DefaultCost)
		if err != nil {
			return fmt.Errorf("hash room password: %w", err)
		}
		r.Set("password", string(hash))
		r.Set("password_protected", true)
	case value != "" && !r.GetBool("password_protected"): // unticked
		r.Set("password", "")
	case value == "" && old != "": // emptied
		r.Set("password_protected", false)
	case value == "" && r.GetBool("password_protected"):
		return apis.NewBadRequestError("Set a password for the room, or untick password_protected.", nil)
	}
	return e.Next()
}

// adminRoomPassword lets an app admin set a room password as a superuser
// does: PocketBase drops hidden fields from other callers' request data, so
// the password is read from the (re-readable) body itself.
func adminRoomPassword(e *core.RecordRequestEvent) error {
	if !e.HasSuperuserAuth() && salon.IsAdmin(e.Auth) {
		var body struct {
			Password *string `json:"password" form:"password"`
		}
		if err := e.BindBody(&body); err != nil {
			return e.BadRequestError("Could not read the request body.", err)
		}
		if body.Password != nil {
			e.Record.Set("password", *body.Password)
		}
	}
	return e.Next()
}

// isBcryptHash reports whether s is a bcrypt hash (as stored), not plain text.
func isBcryptHash(s string) bool {
	if len(s) != 60 || !strings.HasPrefix(s, "$2") {
		return false
	}
	_, err := bcrypt.Cost([]byte(s))
	return err == nil
}

// joinRoom records that the member joined the room: the password is
// checked when the room has one. Joining twice is harmless.
func joinRoom(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if err := CanJoinRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e, err)
	}

	var body struct {
		Password string `json:"password"`
	}
	if e.Request.ContentLength != 0 {
		if err := e.BindBody(&body); err != nil {
			return e.BadRequestError("Send the password as JSON: {\"password\": \"...\"}.", err)
		}
	}

	membership, err := e.App.FindFirstRecordByFilter("room_members", "room = {:room} && user = {:user}",
		dbx.Params{"room": room.Id, "user": e.Auth.Id})
	if err == nil {
		return e.JSON(http.StatusOK, membership)
	}

	if room.GetBool("password_protected") && !salon.IsAdmin(e.Auth) {
		key := "rooms.joinFailures:" + room.Id + ":" + e.Auth.Id
		if f, ok := e.App.Store().Get(key).(joinFailures); ok && f.locked(time.Now()) {
			return salon.Refuse(http.StatusTooManyRequests, "room_password_locked", "Too many wrong passwords. Try again in %d minutes.",
				int(time.Until(f.since.Add(joinFailureWindow)).Minutes())+1)
		}
		if body.Password == "" {
			return salon.Deny("password_required", "This room has a password.")
		}
		hash := room.GetString("password")
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(body.Password)) != nil {
			e.App.Store().SetFunc(key, func(old any) any {
				f, _ := old.(joinFailures)
				return f.add(time.Now())
			})
			return salon.Deny("room_password_wrong", "Wrong password.")
		}
		e.App.Store().Remove(key)
	}

	collection, err := e.App.FindCachedCollectionByNameOrId("room_members")
	if err != nil {
		return e.InternalServerError("", err)
	}
	membership = core.NewRecord(collection)
	membership.Set("room", room.Id)
	membership.Set("user", e.Auth.Id)
	membership.Set("notify", "all")
	membership.Set("last_read_at", types.NowDateTime())
	if err := e.App.Save(membership); err != nil {
		return e.BadRequestError("Could not join the room.", err)
	}
	return e.JSON(http.StatusOK, membership)
}

// joinFailures counts wrong passwords in the current window.
type joinFailures struct {
	n     int
	since time.Time
}

func (f joinFailures) add(now time.Time) joinFailures {
	if now.Sub(f.since) > joinFailureWindow {
		return joinFailures{n: 1, since: now}
	}
	f.n++
	return f
}

func (f joinFailures) locked(now time.Time) bool {
	return f.n >= joinMaxFailures && now.Sub(f.since) <= joinFailureWindow
}

// PurgeRoomIPs clears the IP address of room messages older than the
// retention set in salon_settings.room_ip_retention_days and returns how
// many it cleared.
func PurgeRoomIPs(app core.App, now time.Time) (int64, error) {
	s, err := salon.Settings(app)
	if err != nil {
		return 0, err
	}
	days := s.GetInt("room_ip_retention_days")
	cutoff, err := types.ParseDateTime(now.AddDate(0, 0, -days))
	if err != nil {
		return 0, err
	}
	res, err := app.DB().NewQuery("UPDATE room_messages SET ip = '' WHERE ip != '' AND created < {:cutoff}").
		Bind(dbx.Params{"cutoff": cutoff.String()}).Execute()
	if err != nil {
		return 0, fmt.Errorf("purge room IPs: %w", err)
	}
	return res.RowsAffected()
}
