package live

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/webhook"
	"github.com/pocketbase/pocketbase/core"
	"google.golang.org/protobuf/encoding/protojson"

	"salonbase/rtc"
)

// lkGrace is how long a host or call party who left LiveKit has to come
// back (a reload, a network change) before the stream or call ends: the
// same 15 s as on the embedded media server.
const lkGrace = 15 * time.Second

// lkTimeout bounds one call to LiveKit's API.
const lkTimeout = 10 * time.Second

// parseRoom splits a LiveKit room name into "live" or "call" and the id of
// the stream or call; kind is "" for rooms that are not ours.
func parseRoom(name string) (kind, id string) {
	switch {
	case strings.HasPrefix(name, lkLivePrefix):
		return "live", strings.TrimPrefix(name, lkLivePrefix)
	case strings.HasPrefix(name, lkCallPrefix):
		return "call", strings.TrimPrefix(name, lkCallPrefix)
	}
	return "", ""
}

// liveKitWebhook receives LiveKit's events (livekit.yaml: webhook.urls) and
// moves the records: a stream goes live when its host publishes, viewer
// counts follow joins and leaves, and a stream or call ends when its host or
// a party stays away. Requests not signed with our API key and secret get
// 401 and change nothing.
func (a *rtcAuthz) liveKitWebhook(e *core.RequestEvent) error {
	lk, err := liveKitInUse(e.App)
	if err != nil {
		return err
	}
	body, err := webhook.Receive(e.Request, auth.NewSimpleKeyProvider(lk.APIKey, lk.APISecret))
	if err != nil {
		return e.UnauthorizedError("The webhook is not signed with this salon's LiveKit API key and secret.", nil)
	}
	var ev livekit.WebhookEvent
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &ev); err != nil {
		return e.BadRequestError("The webhook's body is not a LiveKit event.", nil)
	}
	kind, id := parseRoom(ev.GetRoom().GetName())
	identity := ev.GetParticipant().GetIdentity()
	switch kind {
	case "live":
		a.liveKitStreamEvent(lk, ev.GetEvent(), id, identity)
	case "call":
		a.liveKitCallEvent(lk, ev.GetEvent(), id, identity)
	}
	return e.NoContent(http.StatusNoContent)
}

func (a *rtcAuthz) liveKitStreamEvent(lk liveKit, event, id, identity string) {
	stream, err := a.app.FindRecordById("live_streams", id)
	if err != nil {
		return
	}
	host := identity != "" && identity == stream.GetString("host")
	room := liveRoom(id)
	if identity == lkRecorderIdentity {
		return // our recorder (livekit_record.go): nobody's viewer
	}
	switch event {
	case "participant_joined":
		if host {
			a.lkCancelLeave(room, identity)
		}
		a.lkRecheckRoomLater(room) // their token may be older than a change that took access away
		a.lkCountViewers(lk, stream, "")
	case "track_published":
		if host && stream.GetString("status") == "scheduled" {
			a.streamLive(id, rtc.Grant{Kind: rtc.KindPublish, Resource: id, User: identity})
		}
		if host {
			a.lkRecord(lk, stream)
		}
	case "participant_left", "participant_connection_aborted":
		if host {
			a.lkLeaveAfterGrace(lk, room, identity, func() { a.streamEnded(id) })
			return
		}
		a.lkCountViewers(lk, stream, identity)
	case "room_finished":
		if stream.GetString("status") == "live" {
			a.streamEnded(id)
		}
	}
}

func (a *rtcAuthz) liveKitCallEvent(lk liveKit, event, id, identity string) {
	room := callRoom(id)
	switch event {
	case "participant_joined":
		a.lkCancelLeave(room, identity)
		a.lkRecheckRoomLater(room) // their token may be older than a change that took access away
	case "participant_left", "participant_connection_aborted":
		a.lkLeaveAfterGrace(lk, room, identity, func() {
			a.callLeft(id, rtc.Grant{Kind: rtc.KindCallSend, Resource: id, User: identity})
		})
	}
}

// lkCountViewers counts the members in a stream's room other than its host
// and the recorder (left: one who just left and may still be listed).
func (a *rtcAuthz) lkCountViewers(lk liveKit, stream *core.Record, left string) {
	ctx, cancel := context.WithTimeout(context.Background(), lkTimeout)
	defer cancel()
	res, err := lk.rooms().ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: liveRoom(stream.Id)})
	if err != nil {
		a.app.Logger().Warn("livekit: list participants", "stream", stream.Id, "error", err)
		return
	}
	n := 0
	for _, p := range res.GetParticipants() {
		if id := p.GetIdentity(); id != stream.GetString("host") && id != left && !lkHidden(p) &&
			p.GetState() != livekit.ParticipantInfo_DISCONNECTED {
			n++
		}
	}
	a.viewerCount(stream.Id, n)
}

// lkLeaveAfterGrace runs gone after lkGrace unless the member is back in the
// room by then (joined again: lkCancelLeave, or listed by LiveKit).
func (a *rtcAuthz) lkLeaveAfterGrace(lk liveKit, room, identity string, gone func()) {
	key := room + "/" + identity
	a.lkMu.Lock()
	defer a.lkMu.Unlock()
	if a.lkOff {
		return
	}
	if a.lkTimers == nil {
		a.lkTimers = map[string]*time.Timer{}
	}
	if t := a.lkTimers[key]; t != nil {
		t.Stop()
	}
	a.lkTimers[key] = time.AfterFunc(lkGrace, func() {
		if !a.lkBegin(func() bool { delete(a.lkTimers, key); return true }) {
			return
		}
		defer a.lkWork.Done()

		ctx, cancel := context.WithTimeout(context.Background(), lkTimeout)
		defer cancel()
		p, err := lk.rooms().GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
		if err == nil && p.GetState() != livekit.ParticipantInfo_DISCONNECTED {
			return // back
		}
		gone()
	})
}

func (a *rtcAuthz) lkCancelLeave(room, identity string) {
	a.lkMu.Lock()
	defer a.lkMu.Unlock()
	if t := a.lkTimers[room+"/"+identity]; t != nil {
		t.Stop()
		delete(a.lkTimers, room+"/"+identity)
	}
}
