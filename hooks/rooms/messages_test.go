package rooms_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// noHiddenFields fails if a response or event carries a hidden field.
func noHiddenFields(t testing.TB, what string, body []byte) {
	t.Helper()
	for _, f := range []string{`"ip"`, `"author_rank"`, `"deleted_by"`, "127.0.0.1"} {
		if strings.Contains(string(body), f) {
			t.Errorf("%s shows %s: %s", what, f, body)
		}
	}
}

func TestRoomMessageAuthorshipAndHiddenFields(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{Name: "Aiko", Rank: "Silver"})
	other := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	token := testutil.Token(t, me)

	stock := srv.Subscribe(t, testutil.Token(t, other), "room_messages")
	topic := srv.Subscribe(t, testutil.Token(t, other), "rooms/"+room.Id)

	status, raw := srv.Do(t, http.MethodPost, testutil.MessagesURL, token, map[string]any{
		"room": room.Id, "body": "  こんにちは  ", "author": other.Id, "ip": "6.6.6.6", "author_rank": "Platinum",
		"author_name": "Someone else", "edited": true,
	})
	if status != http.StatusOK {
		t.Fatalf("post: %d %s", status, raw)
	}
	noHiddenFields(t, "create response", raw)
	msg := testutil.Decode[map[string]any](t, raw)
	if msg["author"] != me.Id || msg["author_name"] != "Aiko" || msg["body"] != "こんにちは" || msg["edited"] != false {
		t.Fatalf("the server sets author, name and flags: %v", msg)
	}
	stored, _ := app.FindRecordById("room_messages", msg["id"].(string))
	if stored.GetString("ip") != "127.0.0.1" || stored.GetString("author_rank") != "Silver" {
		t.Fatalf("hidden fields: ip=%q rank=%q", stored.GetString("ip"), stored.GetString("author_rank"))
	}

	_, raw = srv.Do(t, http.MethodGet, testutil.MessagesURL+"/"+stored.Id, token, nil)
	noHiddenFields(t, "view", raw)
	_, raw = srv.Do(t, http.MethodGet, testutil.MessagesURL+"?filter="+testutil.Urlq("ip != ''"), token, nil)
	if !strings.Contains(string(raw), `"status":400`) && !strings.Contains(string(raw), `"totalItems":0`) {
		t.Errorf("members cannot filter by the hidden ip: %s", raw)
	}
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	_, raw = srv.Do(t, http.MethodGet, testutil.MessagesURL+"/"+stored.Id, testutil.Token(t, admin), nil)
	noHiddenFields(t, "role=admin view", raw)

	for name, rt := range map[string]*testutil.Realtime{"stock": stock, "rooms topic": topic} {
		ev, ok := rt.Next(5 * time.Second)
		for ok && strings.Contains(string(ev.Data), `"presence"`) {
			ev, ok = rt.Next(5 * time.Second)
		}
		if !ok {
			t.Fatalf("%s: no event", name)
		}
		if !strings.Contains(string(ev.Data), stored.Id) {
			t.Errorf("%s: event is not the message: %s", name, ev.Data)
		}
		noHiddenFields(t, name+" event", ev.Data)
	}

	// empty messages and replies into another room are refused
	if status, _ := testutil.Post(t, srv, token, room.Id, "   "); status != http.StatusBadRequest {
		t.Errorf("empty message: want 400, got %d", status)
	}
	elsewhere := testutil.NewRoom(t, app, map[string]any{"name": "Elsewhere"})
	status, raw = srv.Do(t, http.MethodPost, testutil.MessagesURL, token, map[string]any{"room": elsewhere.Id, "body": "re", "reply_to": stored.Id})
	if status != http.StatusBadRequest {
		t.Errorf("reply across rooms: want 400, got %d %s", status, raw)
	}
	status, raw = srv.Do(t, http.MethodPost, testutil.MessagesURL, token, map[string]any{"room": room.Id, "body": "re", "reply_to": stored.Id})
	if status != http.StatusOK || testutil.Decode[map[string]any](t, raw)["reply_to"] != stored.Id {
		t.Errorf("reply: %d %s", status, raw)
	}
	if status, _ := testutil.Post(t, srv, "", room.Id, "anonymous"); status != http.StatusBadRequest && status != http.StatusUnauthorized {
		t.Errorf("anonymous post: want 400/401, got %d", status)
	}
}

func TestRoomMessageEdit(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	other2 := testutil.NewRoom(t, app, map[string]any{"name": "Other"})
	_, msg := testutil.Post(t, srv, testutil.Token(t, me), room.Id, "helo")
	url := testutil.MessagesURL + "/" + msg["id"].(string)

	status, raw := srv.Do(t, http.MethodPatch, url, testutil.Token(t, me), map[string]any{"body": "hello"})
	if status != http.StatusOK {
		t.Fatalf("edit own: %d %s", status, raw)
	}
	edited := testutil.Decode[map[string]any](t, raw)
	if edited["body"] != "hello" || edited["edited"] != true || edited["edited_at"] == "" {
		t.Fatalf("an edit is marked: %v", edited)
	}
	noHiddenFields(t, "edit response", raw)
	stored, _ := app.FindRecordById("room_messages", msg["id"].(string))
	if stored.GetString("ip") == "" {
		t.Fatal("an edit must keep the hidden ip")
	}

	testutil.WantStatus(t, srv, http.MethodPatch, url, testutil.Token(t, other), map[string]any{"body": "mine now"}, http.StatusForbidden, `"code":"not_yours"`)
	if status, raw := srv.Do(t, http.MethodPatch, url, testutil.Token(t, me), map[string]any{"room": other2.Id}); status != http.StatusBadRequest {
		t.Errorf("move to another room: want 400, got %d %s", status, raw)
	}
	if status, _ := srv.Do(t, http.MethodPatch, url, testutil.Token(t, me), map[string]any{"author": other.Id}); status != http.StatusBadRequest {
		t.Errorf("change the author: want 400, got %d", status)
	}
	// the author cannot hide that they edited, alone or with a new text
	for _, body := range []map[string]any{{"edited": false}, {"edited_at": ""}, {"body": "hello!", "edited": false, "edited_at": ""}} {
		if status, raw := srv.Do(t, http.MethodPatch, url, testutil.Token(t, me), body); status != http.StatusBadRequest {
			t.Errorf("clear the edit mark with %v: want 400, got %d %s", body, status, raw)
		}
	}
	stored, _ = app.FindRecordById("room_messages", msg["id"].(string))
	if !stored.GetBool("edited") || stored.GetDateTime("edited_at").IsZero() {
		t.Fatalf("the edit mark was cleared: %v", stored)
	}
	if stored.GetString("body") != "hello" || stored.GetString("room") != room.Id || stored.GetString("author") != me.Id {
		t.Fatalf("refused edits changed the message: %v", stored)
	}
}

func TestRoomMessageSoftDelete(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	moderator := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	strict := testutil.NewRoom(t, app, map[string]any{"name": "Strict", "moderators": []string{moderator.Id}})
	relaxed := testutil.NewRoom(t, app, map[string]any{"name": "Relaxed", "members_can_delete_own": true})
	mt, ot := testutil.Token(t, me), testutil.Token(t, other)

	_, a := testutil.Post(t, srv, mt, strict.Id, "in strict")
	_, b := testutil.Post(t, srv, mt, relaxed.Id, "in relaxed")
	_, c := testutil.Post(t, srv, mt, strict.Id, "for the moderator")
	del := func(token string, msg map[string]any) (int, string) {
		status, raw := srv.Do(t, http.MethodDelete, testutil.MessagesURL+"/"+msg["id"].(string), token, nil)
		return status, string(raw)
	}

	watcher := srv.Subscribe(t, ot, "room_messages")

	if status, raw := del(mt, a); status != http.StatusForbidden || !strings.Contains(raw, "does not let members delete") {
		t.Errorf("delete own where the room forbids it: want 403, got %d %s", status, raw)
	}
	if status, raw := del(ot, b); status != http.StatusForbidden || !strings.Contains(raw, "your own") {
		t.Errorf("delete someone else's: want 403, got %d %s", status, raw)
	}
	if status, _ := del(mt, b); status != http.StatusNoContent {
		t.Errorf("delete own where allowed: want 204, got %d", status)
	}
	if status, _ := del(testutil.Token(t, moderator), c); status != http.StatusNoContent {
		t.Errorf("moderator deletes in their room: want 204, got %d", status)
	}
	if status, _ := del(testutil.Token(t, admin), a); status != http.StatusNoContent {
		t.Errorf("admin deletes any: want 204, got %d", status)
	}

	// gone for members, kept for moderation
	for _, room := range []string{strict.Id, relaxed.Id} {
		if got := roomMessages(t, srv, mt, room); got.TotalItems != 0 {
			t.Errorf("deleted messages are gone for members: %v", got.Items)
		}
	}
	if got := roomMessages(t, srv, testutil.Token(t, admin), strict.Id); got.TotalItems != 2 || got.Items[0]["deleted_at"] == "" {
		t.Errorf("admins still see deleted messages: %v", got.Items)
	}
	if n, _ := app.CountRecords("room_messages"); n != 3 {
		t.Fatalf("soft delete keeps the rows: %d", n)
	}
	if status, _ := del(mt, b); status != http.StatusNotFound {
		t.Errorf("deleting twice: want 404, got %d", status)
	}
	if status, _ := srv.Do(t, http.MethodPatch, testutil.MessagesURL+"/"+b["id"].(string), mt, map[string]any{"body": "undo"}); status != http.StatusNotFound {
		t.Errorf("editing a deleted message: want 404, got %d", status)
	}

	// stock subscribers learn of the deletion (the SDK removes the message)
	deleted := map[string]bool{}
	for len(deleted) < 3 {
		ev, ok := watcher.Next(5 * time.Second)
		if !ok {
			t.Fatalf("deletions seen by a stock subscriber: %v", deleted)
		}
		var data struct {
			Action string
			Record map[string]any
		}
		_ = json.Unmarshal(ev.Data, &data)
		if data.Action == "delete" {
			deleted[data.Record["id"].(string)] = true
		}
		if strings.Contains(string(ev.Data), "in strict") && data.Action != "create" {
			t.Errorf("a deletion event carries the text: %s", ev.Data)
		}
	}

	// a superuser may remove a deleted message for good
	if status, _ := del(testutil.SuperuserToken(t, app), a); status != http.StatusNoContent {
		t.Fatalf("superuser purge: %d", status)
	}
	if _, err := app.FindRecordById("room_messages", a["id"].(string)); err == nil {
		t.Fatal("the purged message is still stored")
	}
}

func TestMentionsAndRoomNotifications(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{Name: "Aiko", Rank: "Gold"})
	hanako := testutil.CreateUser(t, app, testutil.User{Name: "山田 花子", Rank: "Gold"})
	muted := testutil.CreateUser(t, app, testutil.User{Name: "Ken", Rank: "Gold"})
	testutil.CreateUser(t, app, testutil.User{Name: "Lowrank", Rank: "Bronze"})
	fan := testutil.CreateUser(t, app, testutil.User{Name: "Fan", Rank: "Gold"})
	// quiet follows the room like Fan but turned room notices off in the
	// notification preferences ("New room messages": off)
	quiet := testutil.CreateUser(t, app, testutil.User{Name: "Quiet", Rank: "Gold"})
	if status, out := srv.Do(t, http.MethodPost, "/api/salon/notifications/prefs", testutil.Token(t, quiet), map[string]any{"room_post": "off"}); status != http.StatusOK {
		t.Fatalf("set prefs: %d %s", status, out)
	}
	room := testutil.NewRoom(t, app, map[string]any{"name": "Gold chat", "min_rank": testutil.RankID(t, app, "Gold"), "notify_members": true})
	for _, u := range []*core.Record{hanako, muted, fan, quiet, author} {
		if status, raw := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/join", testutil.Token(t, u), nil); status != http.StatusOK {
			t.Fatalf("join: %d %s", status, raw)
		}
	}
	setNotify := func(u *core.Record, value string) {
		m, err := app.FindFirstRecordByFilter("room_members", "room = {:r} && user = {:u}", map[string]any{"r": room.Id, "u": u.Id})
		if err != nil {
			t.Fatal(err)
		}
		status, raw := srv.Do(t, http.MethodPatch, "/api/collections/room_members/records/"+m.Id, testutil.Token(t, u), map[string]any{"notify": value})
		if status != http.StatusOK {
			t.Fatalf("set notify: %d %s", status, raw)
		}
	}
	setNotify(muted, "none")
	setNotify(hanako, "mentions")

	status, msg := testutil.Post(t, srv, testutil.Token(t, author), room.Id, "@山田 花子 @Ken @Lowrank 明日の会議の資料です")
	if status != http.StatusOK {
		t.Fatalf("post: %d %v", status, msg)
	}
	mentions, _ := msg["mentions"].([]any)
	if len(mentions) != 2 || !containsAny(mentions, hanako.Id) || !containsAny(mentions, muted.Id) {
		t.Fatalf("mentions are the named members who can read the room (not Lowrank): %v", mentions)
	}

	want := map[string]string{hanako.Id: "mention", fan.Id: "room_post"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := map[string]string{}
		records, _ := app.FindAllRecords("notifications")
		for _, n := range records {
			got[n.GetString("user")] = n.GetString("kind")
			if n.GetString("source_id") != msg["id"] {
				t.Fatalf("notification source: %v", n)
			}
		}
		if len(got) == len(want) && got[hanako.Id] == "mention" && got[fan.Id] == "room_post" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications: want %v, got %v (muted, author, low-rank and quiet members get none)", want, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func containsAny(list []any, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestLargeVideoAttachment(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	// 40 MiB: over PocketBase's default 32 MiB body limit, so this passes only
	// because the collection's file limit (500 MiB) raises it
	size := 40 << 20
	status, raw := testutil.UploadVideo(t, srv, testutil.Token(t, member), room.Id, size)
	if status != http.StatusOK {
		t.Fatalf("upload: %d %s", status, raw)
	}
	msg := testutil.Decode[map[string]any](t, raw)
	files := msg["attachments"].([]any)
	if len(files) != 1 {
		t.Fatalf("attachments: %v", msg)
	}
	rec, _ := app.FindRecordById("room_messages", msg["id"].(string))
	fsys, err := app.NewFilesystem()
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	attrs, err := fsys.Attributes(rec.BaseFilesPath() + "/" + files[0].(string))
	if err != nil || attrs.Size != int64(size) {
		t.Fatalf("stored file: %v %v", attrs, err)
	}
	// protected: no download without a file token
	status, _ = srv.Do(t, http.MethodGet, "/api/files/room_messages/"+rec.Id+"/"+files[0].(string), "", nil)
	if status != http.StatusNotFound && status != http.StatusForbidden {
		t.Fatalf("protected attachment downloaded without a token: %d", status)
	}
}
