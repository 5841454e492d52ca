package live

import (
	"context"
	"errors"

	"github.com/livekit/protocol/livekit"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// bindLiveKit binds the LiveKit routes, keeps its API secret encrypted at
// rest, and removes members from LiveKit rooms when a change takes their
// access away (the embedded media server re-checks its peers itself).
func (a *rtcAuthz) bindLiveKit(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		liveKitRoutes(se.Router.Group("/api/salon"), a)
		if err := sealLiveKitSecret(se.App); err != nil {
			return err
		}
		a.lkResumeRecordings(se.App)
		return se.Next()
	})
	app.OnRecordCreate("salon_settings").BindFunc(encryptLiveKitSecret)
	app.OnRecordUpdate("salon_settings").BindFunc(encryptLiveKitSecret)

	// Changes that may take access away: re-check every LiveKit room (a
	// member's rank, role or suspension; a rank's level; the settings'
	// minimum ranks), or the one room of a stream or call.
	app.OnRecordAfterUpdateSuccess("users").BindFunc(func(e *core.RecordEvent) error {
		o := e.Record.Original()
		for _, f := range []string{"rank", "role", "suspended"} {
			if e.Record.GetString(f) != o.GetString(f) {
				a.lkRecheckAll()
				break
			}
		}
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess("users").BindFunc(func(e *core.RecordEvent) error {
		a.lkRecheckAll()
		return e.Next()
	})
	app.OnRecordAfterUpdateSuccess("ranks", "salon_settings").BindFunc(func(e *core.RecordEvent) error {
		a.lkRecheckAll()
		return e.Next()
	})
	app.OnRecordAfterUpdateSuccess("live_streams").BindFunc(func(e *core.RecordEvent) error {
		if e.Record.GetString("status") == "ended" {
			a.lkStopRecordingLater(e.Record.Id)
			a.lkCloseRoomLater(liveRoom(e.Record.Id))
		} else if e.Record.GetString("min_rank") != e.Record.Original().GetString("min_rank") {
			a.lkRecheckRoomLater(liveRoom(e.Record.Id))
		}
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess("live_streams").BindFunc(func(e *core.RecordEvent) error {
		a.lkStopRecordingLater(e.Record.Id)
		a.lkCloseRoomLater(liveRoom(e.Record.Id))
		return e.Next()
	})
	app.OnRecordAfterUpdateSuccess("calls").BindFunc(func(e *core.RecordEvent) error {
		if callOver[e.Record.GetString("status")] {
			a.lkCloseRoomLater(callRoom(e.Record.Id))
		}
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess("calls").BindFunc(func(e *core.RecordEvent) error {
		a.lkCloseRoomLater(callRoom(e.Record.Id))
		return e.Next()
	})

	// No LiveKit work may run on a closed app.
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		a.lkMu.Lock()
		a.lkOff = true
		for k, t := range a.lkTimers {
			t.Stop()
			delete(a.lkTimers, k)
		}
		a.lkStopRecordingsForShutdown()
		a.lkMu.Unlock()
		a.lkWork.Wait()
		// a recording that ended just before hands its upload over only now
		salon.WaitBackground(e.App)
		return e.Next()
	})
	// after the shutdown above: no new relayed publisher once it ran
	a.bindLiveKitWHIP(app)
}

// lkBegin counts one piece of work with LiveKit (shutdown waits for it)
// unless the server is stopping or under, run under lkMu, says no. The
// caller calls lkWork.Done when the work ends.
func (a *rtcAuthz) lkBegin(under func() bool) bool {
	a.lkMu.Lock()
	defer a.lkMu.Unlock()
	if a.lkOff || (under != nil && !under()) {
		return false
	}
	a.lkWork.Add(1)
	return true
}

// lkLater runs f off the request that triggered it (the change is saved
// already) when LiveKit is the media backend.
func (a *rtcAuthz) lkLater(f func(ctx context.Context, lk liveKit)) {
	backend, lk, err := mediaBackend(a.app)
	if err != nil || backend != "livekit" {
		return
	}
	if !a.lkBegin(nil) {
		return
	}
	go func() {
		defer a.lkWork.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*lkTimeout)
		defer cancel()
		f(ctx, lk)
	}()
}

func (a *rtcAuthz) lkRecheckAll() {
	a.lkLater(func(ctx context.Context, lk liveKit) {
		res, err := lk.rooms().ListRooms(ctx, &livekit.ListRoomsRequest{})
		if err != nil {
			a.app.Logger().Warn("livekit: list rooms", "error", err)
			return
		}
		for _, r := range res.GetRooms() {
			a.lkRecheckRoom(ctx, lk, r.GetName())
		}
	})
}

func (a *rtcAuthz) lkRecheckRoomLater(room string) {
	a.lkLater(func(ctx context.Context, lk liveKit) { a.lkRecheckRoom(ctx, lk, room) })
}

// lkRecheckRoom removes from a room everyone whom StillAllowed, the check
// the embedded media server makes every 2 s, no longer lets in.
func (a *rtcAuthz) lkRecheckRoom(ctx context.Context, lk liveKit, room string) {
	kind, id := parseRoom(room)
	if kind == "" {
		return
	}
	rooms := lk.rooms()
	res, err := rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
	if err != nil {
		a.app.Logger().Warn("livekit: list participants", "room", room, "error", err)
		return
	}
	for _, p := range res.GetParticipants() {
		if lkHidden(p) {
			continue // the recorder, whose token only this server mints
		}
		g := rtc.Grant{Resource: id, User: p.GetIdentity()}
		switch {
		case kind == "call":
			g.Kind = rtc.KindCallSend
		case p.GetPermission().GetCanPublish():
			g.Kind = rtc.KindPublish
		default:
			g.Kind = rtc.KindView
		}
		if a.StillAllowed(g) {
			continue
		}
		_, err := rooms.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: p.GetIdentity()})
		if err != nil {
			a.app.Logger().Warn("livekit: remove participant", "room", room, "identity", p.GetIdentity(), "error", err)
		}
	}
}

// lkCloseRoomLater ends a stream's or call's room for everyone in it.
func (a *rtcAuthz) lkCloseRoomLater(room string) {
	a.lkLater(func(ctx context.Context, lk liveKit) {
		_, err := lk.rooms().DeleteRoom(ctx, &livekit.DeleteRoomRequest{Room: room})
		if err != nil && !isNotFound(err) {
			a.app.Logger().Warn("livekit: close room", "room", room, "error", err)
		}
	})
}

func isNotFound(err error) bool {
	var te interface{ Code() string }
	return errors.As(err, &te) && te.Code() == "not_found"
}

// encryptLiveKitSecret stores a plain LiveKit secret written into
// salon_settings encrypted when the app has a key (as the Stripe secrets).
func encryptLiveKitSecret(e *core.RecordEvent) error {
	if v := e.Record.GetString("livekit_api_secret"); v != "" && !salon.IsEncrypted(v) {
		sealed, err := salon.EncryptSecret(e.App, v)
		if err != nil {
			return err
		}
		e.Record.Set("livekit_api_secret", sealed)
	}
	return e.Next()
}

// sealLiveKitSecret encrypts a secret stored in plain text before the key
// was set, when the server starts with a key.
func sealLiveKitSecret(app core.App) error {
	if salon.EncryptionKey(app) == "" {
		return nil
	}
	s, err := salon.Settings(app)
	if err != nil {
		return err
	}
	if v := s.GetString("livekit_api_secret"); v != "" && !salon.IsEncrypted(v) {
		return app.Save(s)
	}
	return nil
}
