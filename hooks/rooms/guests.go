package rooms

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/salon"
)

// Guests: people without an account admitted to one room through a guest
// link. An admin or the room's moderator creates the link (the token is
// shown once); the guest opens it, gives a name and gets a guests auth
// token good for that room only, while the link is live.

const (
	guestLinkDefaultHours = 7 * 24
	guestLinkMaxHours     = 90 * 24
)

func guestRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.POST("/rooms/{id}/guest-links", createGuestLink).Bind(apis.RequireAuth("users", core.CollectionNameSuperusers))
	g.POST("/guests/join", joinAsGuest)
}

func bindGuests(app core.App) {
	app.OnRecordUpdateRequest("guest_links").BindFunc(updateGuestLink)

	// guests are created only by joinAsGuest (or an admin in the dashboard)
	app.OnRecordCreateRequest("guests").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			return salon.Deny("guest_use_link", "Guests join through a guest link: POST /api/salon/guests/join.")
		}
		return e.Next()
	})
}

func hashGuestToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func createGuestLink(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if !e.HasSuperuserAuth() && !CanModerateRoom(e.Auth, room) {
		return salon.Deny("room_moderators_only", "Only admins and the room's moderators can invite guests.")
	}
	if !room.GetBool("allow_guests") {
		return salon.Deny("guests_off", "This room does not allow guests: turn on allow_guests first.")
	}
	settings, err := salon.Settings(e.App)
	if err != nil {
		return e.InternalServerError("", err)
	}
	if !settings.GetBool("guest_chat") {
		return salon.Deny("guests_off", "Guest chat is turned off in the salon settings.")
	}

	var body struct {
		Label          string `json:"label"`
		ExpiresInHours int    `json:"expires_in_hours"`
	}
	if e.Request.ContentLength != 0 {
		if err := e.BindBody(&body); err != nil {
			return e.BadRequestError("Invalid JSON body.", err)
		}
	}
	if body.ExpiresInHours == 0 {
		body.ExpiresInHours = guestLinkDefaultHours
	}
	if body.ExpiresInHours < 1 || body.ExpiresInHours > guestLinkMaxHours {
		return e.BadRequestError("expires_in_hours must be between 1 and 2160 (90 days).", nil)
	}
	if utf8.RuneCountInString(body.Label) > 100 {
		return e.BadRequestError("The label can be at most 100 characters.", nil)
	}

	collection, err := e.App.FindCachedCollectionByNameOrId("guest_links")
	if err != nil {
		return e.InternalServerError("", err)
	}
	token := security.RandomString(40)
	expires, _ := types.ParseDateTime(time.Now().Add(time.Duration(body.ExpiresInHours) * time.Hour))
	link := core.NewRecord(collection)
	link.Set("room", room.Id)
	link.Set("label", strings.TrimSpace(body.Label))
	link.Set("token_hash", hashGuestToken(token))
	link.Set("expires_at", expires)
	if e.Auth.Collection().Name == "users" {
		link.Set("created_by", e.Auth.Id)
	}
	if err := e.App.Save(link); err != nil {
		return e.BadRequestError("Could not create the guest link.", err)
	}
	return e.JSON(http.StatusOK, map[string]any{
		"id":         link.Id,
		"room":       room.Id,
		"label":      link.GetString("label"),
		"token":      token,                                                                    // shown once; only its hash is stored
		"url":        strings.TrimRight(e.App.Settings().Meta.AppURL, "/") + "/guest/" + token, // the web client's guest page
		"expires_at": link.GetDateTime("expires_at"),
	})
}

// updateGuestLink keeps a plain update within what creating a link allows:
// a link lives at most 90 days from its creation, and only admins restore a
// revoked link (a moderator cannot undo an admin's revocation).
func updateGuestLink(e *core.RecordRequestEvent) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	link, original := e.Record, e.Record.Original()
	if original.GetBool("revoked") && !link.GetBool("revoked") && !salon.IsAdmin(e.Auth) {
		return salon.Deny("admins_only", "Only admins can restore a revoked guest link.")
	}
	expires := link.GetDateTime("expires_at").Time()
	if !expires.Equal(original.GetDateTime("expires_at").Time()) {
		created := original.GetDateTime("created").Time()
		if created.IsZero() {
			created = time.Now()
		}
		if expires.After(created.Add(guestLinkMaxHours * time.Hour)) {
			return salon.Refuse(http.StatusBadRequest, "link_too_long",
				"A guest link lives at most 90 days from its creation (this one: until %s).",
				created.Add(guestLinkMaxHours*time.Hour).UTC().Format(time.RFC3339))
		}
	}
	return e.Next()
}

func joinAsGuest(e *core.RequestEvent) error {
	var body struct {
		Token string `json:"token"`
		Name  string `json:"name"`
	}
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Send {\"token\": \"...\", \"name\": \"...\"}.", err)
	}
	body.Name = strings.TrimSpace(body.Name)
	if body.Name == "" || utf8.RuneCountInString(body.Name) > 50 {
		return e.BadRequestError("Give a display name of 1 to 50 characters.", nil)
	}
	if body.Token == "" {
		return e.BadRequestError("The guest link token is missing.", nil)
	}
	link, err := e.App.FindFirstRecordByFilter("guest_links", "token_hash = {:h}", dbx.Params{"h": hashGuestToken(body.Token)})
	if err != nil {
		return e.NotFoundError("This guest link does not exist.", nil)
	}
	room, err := e.App.FindRecordById("rooms", link.GetString("room"))
	if err != nil {
		return e.NotFoundError("This guest link's room no longer exists.", nil)
	}
	if err := GuestLinkLive(link, room.Id); err != nil {
		return salon.Answer(e, err)
	}

	var guest *core.Record
	err = e.App.RunInTransaction(func(tx core.App) error {
		guests, err := tx.FindCachedCollectionByNameOrId("guests")
		if err != nil {
			return err
		}
		guest = core.NewRecord(guests)
		guest.Set("name", body.Name)
		guest.Set("room", room.Id)
		guest.Set("guest_link", link.Id)
		// guests never log in with a password; this one only satisfies the schema
		guest.SetPassword(security.RandomString(40))
		if err := tx.Save(guest); err != nil {
			return err
		}
		// guestMayEnter reads the same settings and room: check inside the
		// transaction so a refusal leaves no guest behind
		if err := guestMayEnter(tx, guest, room); err != nil {
			return err
		}
		_, err = tx.DB().NewQuery("UPDATE guest_links SET uses = uses + 1 WHERE id = {:id}").
			Bind(dbx.Params{"id": link.Id}).Execute()
		return err
	})
	if err != nil {
		return salon.Answer(e, err)
	}
	return apis.RecordAuthResponse(e, guest, "", nil)
}
