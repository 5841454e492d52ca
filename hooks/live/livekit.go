package live

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// LiveKit as the media backend (salon_settings.media_backend = livekit).
// Our routes mint LiveKit access tokens after the very checks the embedded
// media server makes (the rtcAuthz methods, hence the policies in
// policy.go); LiveKit's webhooks move the records (livekit_webhook.go); and
// a member whose access is revoked is removed through LiveKit's RoomService
// (livekit_revoke.go). rtc/ knows nothing of LiveKit.

// lkTokenTTL is how long a minted token may be used to join. LiveKit checks
// it when the member connects and refreshes it itself for connected members,
// so it only needs to outlast loading the page.
const lkTokenTTL = 5 * time.Minute

// liveKit holds the LiveKit settings in effect.
type liveKit struct {
	URL       string
	APIKey    string
	APISecret string
}

// errBuiltinBackend answers the LiveKit routes while the embedded media
// server is in use.
var errBuiltinBackend = salon.Refuse(http.StatusConflict, "media_builtin",
	"Media runs on the embedded media server; use /api/rtc.")

// mediaBackend returns "builtin" or "livekit" and, for livekit, its
// settings: the environment (LIVEKIT_URL, LIVEKIT_API_KEY,
// LIVEKIT_API_SECRET) wins over salon_settings, as for the Stripe keys.
func mediaBackend(app core.App) (string, liveKit, error) {
	s, err := salon.Settings(app)
	if err != nil {
		return "", liveKit{}, err
	}
	if s.GetString("media_backend") != "livekit" {
		return "builtin", liveKit{}, nil
	}
	lk := liveKit{URL: os.Getenv("LIVEKIT_URL"), APIKey: os.Getenv("LIVEKIT_API_KEY"), APISecret: os.Getenv("LIVEKIT_API_SECRET")}
	if lk.URL == "" {
		lk.URL = s.GetString("livekit_url")
	}
	if lk.APIKey == "" {
		lk.APIKey = s.GetString("livekit_api_key")
	}
	if lk.APISecret == "" {
		if lk.APISecret, err = salon.DecryptSecret(app, s.GetString("livekit_api_secret")); err != nil {
			return "", liveKit{}, fmt.Errorf("livekit_api_secret: %w", err)
		}
	}
	if lk.URL == "" || lk.APIKey == "" || lk.APISecret == "" {
		return "", liveKit{}, salon.Refuse(http.StatusServiceUnavailable, "livekit_unconfigured",
			"The media backend is LiveKit but its URL, API key or secret is missing.")
	}
	return "livekit", lk, nil
}

// liveKitInUse returns the LiveKit settings, or errBuiltinBackend.
func liveKitInUse(app core.App) (liveKit, error) {
	backend, lk, err := mediaBackend(app)
	if err != nil {
		return lk, err
	}
	if backend != "livekit" {
		return lk, errBuiltinBackend
	}
	return lk, nil
}

func (lk liveKit) rooms() *lksdk.RoomServiceClient {
	return lksdk.NewRoomServiceClient(lk.URL, lk.APIKey, lk.APISecret)
}

// LiveKit rooms: one per live stream, one per call.
const (
	lkLivePrefix = "live-"
	lkCallPrefix = "call-"
)

func liveRoom(streamID string) string { return lkLivePrefix + streamID }
func callRoom(callID string) string   { return lkCallPrefix + callID }

// token mints a LiveKit access token for one room. Only publishers may
// publish; nobody sends data messages (chat goes through our collections).
func (lk liveKit) token(room, identity, name string, publish bool) (string, error) {
	g := &auth.VideoGrant{RoomJoin: true, Room: room}
	g.SetCanPublish(publish)
	g.SetCanSubscribe(true)
	g.SetCanPublishData(false)
	g.SetCanUpdateOwnMetadata(false)
	at := auth.NewAccessToken(lk.APIKey, lk.APISecret).
		SetVideoGrant(g).
		SetIdentity(identity).
		SetName(name).
		SetValidFor(lkTokenTTL)
	jwt, err := at.ToJWT()
	if err != nil {
		return "", fmt.Errorf("livekit token: %w", err)
	}
	return jwt, nil
}

func liveKitRoutes(g *router.RouterGroup[*core.RequestEvent], a *rtcAuthz) {
	g.GET("/media", mediaInfo)
	g.POST("/live/{id}/livekit", a.liveToken)
	g.POST("/calls/{id}/livekit", a.callToken)
	g.POST("/livekit/webhook", a.liveKitWebhook)
}

// mediaInfo tells clients which media backend to use.
func mediaInfo(e *core.RequestEvent) error {
	backend, lk, err := mediaBackend(e.App)
	var d *salon.Refusal
	if errors.As(err, &d) {
		backend, err = "livekit", nil // selected but unusable: the token routes say why
	}
	if err != nil {
		return err
	}
	out := map[string]any{"backend": backend}
	if backend == "livekit" {
		out["url"] = lk.URL
	}
	return e.JSON(http.StatusOK, out)
}

// liveToken: the host (by their token, or the stream key) gets a token that
// publishes; anyone else whom AuthorizeView lets watch gets one that only
// subscribes.
func (a *rtcAuthz) liveToken(e *core.RequestEvent) error {
	lk, err := liveKitInUse(e.App)
	if err != nil {
		return err
	}
	id := e.Request.PathValue("id")
	stream, err := e.App.FindRecordById("live_streams", id)
	if err != nil {
		return e.NotFoundError("No such live stream.", nil)
	}
	var g rtc.Grant
	publish := false
	if u := a.member(e.Request); u == nil || u.Id == stream.GetString("host") {
		g, err = a.authorizePublish(e.Request, id)
		publish = true
	} else {
		g, err = a.authorizeView(e.Request, id)
	}
	if err != nil {
		return apiError(err)
	}
	return a.tokenResponse(e, lk, liveRoom(id), g.User, publish)
}

// callToken: the two parties, when AuthorizeCall lets them in.
func (a *rtcAuthz) callToken(e *core.RequestEvent) error {
	lk, err := liveKitInUse(e.App)
	if err != nil {
		return err
	}
	id := e.Request.PathValue("id")
	g, err := a.authorizeCall(e.Request, id)
	if err != nil {
		return apiError(err)
	}
	return a.tokenResponse(e, lk, callRoom(id), g.User, true)
}

func (a *rtcAuthz) tokenResponse(e *core.RequestEvent, lk liveKit, room, userID string, publish bool) error {
	name := ""
	if u, err := e.App.FindRecordById("users", userID); err == nil {
		name = u.GetString("name")
	}
	tok, err := lk.token(room, userID, name, publish)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{
		"url":         lk.URL,
		"token":       tok,
		"room":        room,
		"identity":    userID,
		"can_publish": publish,
		"expires_in":  int(lkTokenTTL.Seconds()),
	})
}

// apiError turns an rtc refusal into the same status and message as an API
// error.
func apiError(err error) error {
	var re *rtc.Error
	if errors.As(err, &re) {
		return router.NewApiError(re.Status, re.Message, nil)
	}
	return err
}

// builtinOnly refuses the embedded media server's routes while LiveKit is
// the backend, so that no member gets around a LiveKit token's limits.
func (a *rtcAuthz) builtinOnly() error {
	backend, _, err := mediaBackend(a.app)
	if err != nil {
		var d *salon.Refusal
		if !errors.As(err, &d) {
			return err
		}
		backend = "livekit"
	}
	if backend != "builtin" {
		return rtc.Conflict("Media runs on LiveKit: ask POST /api/salon/live/{id}/livekit or /api/salon/calls/{id}/livekit for a token.")
	}
	return nil
}
