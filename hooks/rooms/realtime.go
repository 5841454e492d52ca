package rooms

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/routine"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"salonbase/hooks/salon"
)

// Room fan-out. PocketBase's own realtime checks the list rule once per
// subscriber per record, on the sender's request (see BENCHMARKS.md). The
// custom topic "rooms/{id}" checks access once, when the client subscribes
// (pb.realtime.subscribe("rooms/ID", cb)), then encodes each event once and
// hands it to every granted client's queue. Grants are re-checked whenever
// something that decides access changes (the member's record, their
// membership, their group membership for a group's room, the room, a guest
// link, the settings, ranks; and the guest link's expiry time), so a removed,
// demoted or suspended member stops receiving at once.
//
// Events on the topic (JSON):
//   {"type":"message","action":"create"|"update"|"delete","record":{...}}
//   {"type":"presence","joined":[{"id","name","kind"}],"left":["id"]} (batched)
//   {"type":"typing","user":{"id","name","kind"}}

const (
	roomTopicPrefix  = "rooms/"
	roomGrantsKey    = "salon.roomGrants" // map[roomID]authID, replaced, never mutated
	roomOutboxKey    = "salon.roomOutbox"
	roomOutboxLength = 256
)

// RoomPerson is who is present or typing in a room.
type RoomPerson struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"` // member | guest | operator
}

type roomEvent struct {
	Type   string        `json:"type"`
	Action string        `json:"action,omitempty"`
	Record any           `json:"record,omitempty"`
	User   *RoomPerson   `json:"user,omitempty"`
	Joined []*RoomPerson `json:"joined,omitempty"`
	Left   []string      `json:"left,omitempty"`
}

func roomRealtimeRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	r := g.Group("/rooms/{id}")
	r.GET("/presence", roomPresence).Bind(apis.RequireAuth())
	r.POST("/typing", roomTyping).Bind(apis.RequireAuth())
}

func bindRoomRealtime(app core.App) {
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		hubOf(e.App).stop()
		return e.Next()
	})
	app.OnRealtimeSubscribeRequest().BindFunc(subscribeRooms)
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		err := e.Next() // returns when the connection ends
		for roomID, authID := range roomGrants(e.Client) {
			leaveRoom(e.App, e.Client, roomID, authID)
		}
		hubOf(e.App).closeOutbox(e.Client)
		stopGuestExpiry(e.Client)
		return err
	})

	// messages: encoded once per event
	app.OnRecordAfterCreateSuccess("room_messages").BindFunc(func(e *core.RecordEvent) error {
		publishRoomMessage(e.App, "create", e.Record)
		return e.Next()
	})
	app.OnRecordAfterUpdateSuccess("room_messages").BindFunc(func(e *core.RecordEvent) error {
		if e.Record.GetDateTime("deleted_at").IsZero() {
			publishRoomMessage(e.App, "update", e.Record)
		} else {
			publishRoomMessage(e.App, "delete", e.Record)
			sendStockDeletes(e.App, e.Record)
		}
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess("room_messages").BindFunc(func(e *core.RecordEvent) error {
		publishRoomMessage(e.App, "delete", e.Record)
		return e.Next()
	})

	// whatever decides access changed: re-check the affected grants
	app.OnRecordAfterUpdateSuccess("users").BindFunc(func(e *core.RecordEvent) error {
		user := e.Record
		recheckRoomGrants(e.App, func(_, authID string) bool { return authID == user.Id }, user)
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess("room_members").BindFunc(func(e *core.RecordEvent) error {
		room, user := e.Record.GetString("room"), e.Record.GetString("user")
		recheckRoomGrants(e.App, func(roomID, authID string) bool { return roomID == room && authID == user }, nil)
		return e.Next()
	})
	// a group's room follows the group's membership: a ban, a removal or
	// leaving (the row deleted) ends the member's live feed
	recheckGroupMember := func(e *core.RecordEvent) error {
		user := e.Record.GetString("user")
		group, err := e.App.FindRecordById("groups", e.Record.GetString("group"))
		if err == nil && group.GetString("room") != "" {
			room := group.GetString("room")
			recheckRoomGrants(e.App, func(roomID, authID string) bool { return roomID == room && authID == user }, nil)
		}
		return e.Next()
	}
	app.OnRecordAfterUpdateSuccess("group_members").BindFunc(recheckGroupMember)
	app.OnRecordAfterDeleteSuccess("group_members").BindFunc(recheckGroupMember)
	recheckThisRoom := func(e *core.RecordEvent) error {
		id := e.Record.Id
		recheckRoomGrants(e.App, func(roomID, _ string) bool { return roomID == id }, nil)
		return e.Next()
	}
	app.OnRecordAfterUpdateSuccess("rooms").BindFunc(recheckThisRoom)
	app.OnRecordAfterDeleteSuccess("rooms").BindFunc(recheckThisRoom)
	recheckRoom := func(e *core.RecordEvent) error {
		room := e.Record.GetString("room")
		recheckRoomGrants(e.App, func(roomID, _ string) bool { return roomID == room }, nil)
		return e.Next()
	}
	app.OnRecordAfterUpdateSuccess("guest_links").BindFunc(recheckRoom)
	app.OnRecordAfterUpdateSuccess("guest_links").BindFunc(func(e *core.RecordEvent) error {
		rearmLinkGuests(e.App, e.Record)
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess("guest_links").BindFunc(recheckRoom)
	recheckAll := func(e *core.RecordEvent) error {
		recheckRoomGrants(e.App, func(string, string) bool { return true }, nil)
		return e.Next()
	}
	app.OnRecordAfterUpdateSuccess("salon_settings").BindFunc(recheckAll)
	app.OnRecordAfterUpdateSuccess("ranks").BindFunc(recheckAll)
	app.OnRecordAfterDeleteSuccess("ranks").BindFunc(recheckAll)
}

// roomOutbox is a client's queue of room events: one goroutine writes them
// in order, so a slow connection never holds up the sender. A client whose
// queue is full is disconnected (the SDK reconnects and reloads).
type roomOutbox struct {
	mu     sync.Mutex
	ch     chan subscriptions.Message
	closed bool
}

// outboxOf returns client's queue, making it on first use. The first use
// may come from the subscription request and the hub's fan-out at once:
// the hub's lock makes it one queue (two would each get a writer goroutine,
// deliver out of order and one would never be closed).
func (h *roomHub) outboxOf(client subscriptions.Client) *roomOutbox {
	h.outboxMu.Lock()
	defer h.outboxMu.Unlock()
	if ob, ok := client.Get(roomOutboxKey).(*roomOutbox); ok {
		return ob
	}
	ob := &roomOutbox{ch: make(chan subscriptions.Message, roomOutboxLength)}
	client.Set(roomOutboxKey, ob)
	go func() {
		for m := range ob.ch {
			client.Send(m)
		}
	}()
	return ob
}

// closeOutbox ends client's queue when its connection has ended; a queue
// asked for later is a closed one.
func (h *roomHub) closeOutbox(client subscriptions.Client) {
	h.outboxMu.Lock()
	defer h.outboxMu.Unlock()
	if ob, ok := client.Get(roomOutboxKey).(*roomOutbox); ok {
		ob.close()
		return
	}
	client.Set(roomOutboxKey, &roomOutbox{closed: true})
}

func (o *roomOutbox) push(m subscriptions.Message) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return true
	}
	select {
	case o.ch <- m:
		return true
	default:
		return false
	}
}

func (o *roomOutbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.ch)
	}
}

func roomGrants(client subscriptions.Client) map[string]string {
	g, _ := client.Get(roomGrantsKey).(map[string]string)
	return g
}

func clientAuth(client subscriptions.Client) *core.Record {
	auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record)
	return auth
}

func roomPerson(auth *core.Record) *RoomPerson {
	switch {
	case auth.IsSuperuser():
		return &RoomPerson{ID: auth.Id, Name: "Operator", Kind: "operator"}
	case auth.Collection().Name == "guests":
		return &RoomPerson{ID: auth.Id, Name: auth.GetString("name"), Kind: "guest"}
	default:
		return &RoomPerson{ID: auth.Id, Name: auth.GetString("name"), Kind: "member"}
	}
}

// subscribeRooms checks every "rooms/{id}" topic of a subscription request
// once, refusing the whole request with the reason if one is not allowed.
func subscribeRooms(e *core.RealtimeSubscribeRequestEvent) error {
	wanted := map[string]bool{}
	for _, sub := range e.Subscriptions {
		topic, _, _ := strings.Cut(sub, "?")
		if !strings.HasPrefix(topic, roomTopicPrefix) {
			continue
		}
		id := strings.TrimPrefix(topic, roomTopicPrefix)
		room, err := e.App.FindRecordById("rooms", id)
		if err != nil {
			return e.NotFoundError("Room not found: "+topic, nil)
		}
		if err := CanReadRoom(e.App, e.Auth, room); err != nil {
			return salon.Answer(e.RequestEvent, err)
		}
		wanted[id] = true
	}
	old := roomGrants(e.Client)
	if len(wanted) == 0 && len(old) == 0 {
		return e.Next()
	}
	if err := e.Next(); err != nil {
		return err
	}

	grants := make(map[string]string, len(wanted))
	for id := range wanted {
		grants[id] = e.Auth.Id
	}
	e.Client.Set(roomGrantsKey, grants)
	if len(grants) > 0 {
		hubOf(e.App).outboxOf(e.Client)
		if e.Auth.Collection().Name == "guests" {
			armGuestExpiry(e.App, e.Client, e.Auth)
		}
	}
	hub := hubOf(e.App)
	for id, authID := range old {
		if grants[id] != authID {
			hub.depart(e.App, id, authID)
		}
	}
	for id, authID := range grants {
		if old[id] != authID {
			hub.arrive(e.App, id, roomPerson(e.Auth))
		}
	}
	return nil
}

// leaveRoom drops client's grant on roomID and counts the departure.
func leaveRoom(app core.App, client subscriptions.Client, roomID, authID string) {
	old := roomGrants(client)
	if _, ok := old[roomID]; !ok {
		return
	}
	grants := make(map[string]string, len(old))
	for id, a := range old {
		if id != roomID {
			grants[id] = a
		}
	}
	client.Set(roomGrantsKey, grants)
	hubOf(app).depart(app, roomID, authID)
}

// publishRoom encodes ev once and has the hub queue it for every client
// granted roomID whose connection still has the auth it was granted with.
func publishRoom(app core.App, roomID string, ev roomEvent) {
	data, err := json.Marshal(ev)
	if err != nil {
		app.Logger().Error("room event encode", "room", roomID, "error", err)
		return
	}
	hubOf(app).run(func() { fanOut(app, roomID, data) })
}

func fanOut(app core.App, roomID string, data []byte) {
	for _, c := range app.SubscriptionsBroker().Clients() {
		granted, ok := roomGrants(c)[roomID]
		if !ok {
			continue
		}
		// a suspension or password change unsets the client's auth
		if auth := clientAuth(c); auth == nil || auth.Id != granted {
			continue
		}
		if guestExpired(c) { // the timer revokes the grant right after
			continue
		}
		ob := hubOf(app).outboxOf(c)
		for sub := range c.Subscriptions(roomTopicPrefix + roomID + "?") {
			if !ob.push(subscriptions.Message{Name: sub, Data: data}) {
				app.Logger().Warn("room event queue full: disconnecting slow client", "client", c.Id())
				c.Discard()
				break
			}
		}
	}
}

func publishRoomMessage(app core.App, action string, msg *core.Record) {
	var record any = msg.Fresh() // hidden fields (ip, author_rank) stay out
	if action == "delete" {
		record = map[string]any{
			"id": msg.Id, "room": msg.GetString("room"), "deleted_at": msg.GetDateTime("deleted_at"),
			"collectionId": msg.Collection().Id, "collectionName": msg.Collection().Name,
		}
	}
	publishRoom(app, msg.GetString("room"), roomEvent{Type: "message", Action: action, Record: record})
}

// recheckRoomGrants re-runs CanReadRoom for the grants match selects and
// revokes those that no longer hold. fresh, when given, is the current
// version of the auth record whose grants are checked.
func recheckRoomGrants(app core.App, match func(roomID, authID string) bool, fresh *core.Record) {
	rooms := map[string]*core.Record{}
	for _, c := range app.SubscriptionsBroker().Clients() {
		for roomID, authID := range roomGrants(c) {
			if !match(roomID, authID) {
				continue
			}
			auth := clientAuth(c)
			if fresh != nil && fresh.Id == authID {
				auth = fresh
			}
			if auth != nil && auth.Collection().Name == "guests" {
				// guests' links and rooms may have changed: read afresh
				if g, err := app.FindRecordById("guests", auth.Id); err == nil {
					auth = g
				}
			}
			room, ok := rooms[roomID]
			if !ok {
				room, _ = app.FindRecordById("rooms", roomID)
				rooms[roomID] = room
			}
			allowed := auth != nil && auth.Id == authID && room != nil && CanReadRoom(app, auth, room) == nil
			if allowed {
				continue
			}
			subs := c.Subscriptions(roomTopicPrefix + roomID + "?")
			keys := make([]string, 0, len(subs))
			for k := range subs {
				keys = append(keys, k)
			}
			c.Unsubscribe(keys...)
			leaveRoom(app, c, roomID, authID)
		}
	}
}

// sendStockDeletes tells members subscribed through the stock
// subscribe('room_messages') that a message was deleted: the soft delete is
// an update that their list rule no longer matches, so PocketBase sends them
// nothing. Admins see the update itself.
func sendStockDeletes(app core.App, msg *core.Record) {
	c := msg.Collection()
	prefixes := []string{c.Name + "?", c.Id + "?", c.Name + "/*?", c.Id + "/*?", c.Name + "/" + msg.Id + "?", c.Id + "/" + msg.Id + "?"}
	data, err := json.Marshal(map[string]any{"action": "delete", "record": map[string]any{
		"id": msg.Id, "room": msg.GetString("room"), "collectionId": c.Id, "collectionName": c.Name,
	}})
	if err != nil {
		return
	}
	room, err := app.FindRecordById("rooms", msg.GetString("room"))
	if err != nil {
		return
	}
	allowed := map[string]bool{}
	for _, client := range app.SubscriptionsBroker().Clients() {
		subs := client.Subscriptions(prefixes...)
		auth := clientAuth(client)
		if len(subs) == 0 || auth == nil || salon.IsAdmin(auth) {
			continue
		}
		ok, seen := allowed[auth.Id]
		if !seen {
			ok = CanReadRoom(app, auth, room) == nil
			allowed[auth.Id] = ok
		}
		if !ok {
			continue
		}
		for sub := range subs {
			m := subscriptions.Message{Name: sub, Data: data}
			routine.FireAndForget(func() { client.Send(m) })
		}
	}
}

// roomPresence lists who is connected to the room now.
func roomPresence(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if err := CanReadRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e, err)
	}
	seen := map[string]bool{}
	items := []*RoomPerson{}
	for _, c := range e.App.SubscriptionsBroker().Clients() {
		authID, ok := roomGrants(c)[room.Id]
		auth := clientAuth(c)
		if !ok || seen[authID] || auth == nil || auth.Id != authID || c.IsDiscarded() {
			continue
		}
		seen[authID] = true
		items = append(items, roomPerson(auth))
	}
	return e.JSON(http.StatusOK, map[string]any{"items": items})
}

// roomTyping tells the room that the caller is typing. Clients send it at
// most every few seconds while the member types; nothing is stored.
func roomTyping(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if err := CanPostRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e, err)
	}
	publishRoom(e.App, room.Id, roomEvent{Type: "typing", User: roomPerson(e.Auth)})
	return e.NoContent(http.StatusNoContent)
}
