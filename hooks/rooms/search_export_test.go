package rooms_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"salonbase/hooks/rooms"
	"salonbase/testutil"
)

func TestRoomSearchJapaneseAndEnglish(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	room := testutil.NewRoom(t, app, map[string]any{"members_can_delete_own": true})
	gold := testutil.NewRoom(t, app, map[string]any{"name": "Gold", "min_rank": testutil.RankID(t, app, "Gold")})
	mt := testutil.Token(t, member)
	ids := map[string]string{}
	for _, text := range []string{"東京で会議をします", "明日の会議は中止です", "Hello world, 100% sure", "会議室の予約", "deleted 会議"} {
		_, msg := testutil.Post(t, srv, mt, room.Id, text)
		ids[text] = msg["id"].(string)
	}
	testutil.Post(t, srv, mt, gold.Id, "会議 in the gold room")
	srv.Do(t, http.MethodDelete, testutil.MessagesURL+"/"+ids["deleted 会議"], mt, nil)
	// an edit is searchable under its new text only
	srv.Do(t, http.MethodPatch, testutil.MessagesURL+"/"+ids["会議室の予約"], mt, map[string]any{"body": "ミーティングルームの予約"})

	search := func(token, room, q string) (int, testutil.List[map[string]any]) {
		status, raw := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room+"/search?q="+testutil.Urlq(q), token, nil)
		var out testutil.List[map[string]any]
		if status == http.StatusOK {
			out = testutil.Decode[testutil.List[map[string]any]](t, raw)
			noHiddenFields(t, "search", raw)
		}
		return status, out
	}
	for q, want := range map[string][]string{
		"会議":        {"明日の会議は中止です", "東京で会議をします"}, // two characters: LIKE, newest first
		"会議をします":    {"東京で会議をします"},
		"ルームの予約":    {"ミーティングルームの予約"},
		"会議室":       {},
		"WORLD":     {"Hello world, 100% sure"},
		"100%":      {"Hello world, 100% sure"},
		"hello 中止":  {},
		`"quoted`:   {},
		"東京 会議 します": {"東京で会議をします"},
	} {
		status, got := search(mt, room.Id, q)
		if status != http.StatusOK {
			t.Fatalf("search %q: %d", q, status)
		}
		var bodies []string
		for _, m := range got.Items {
			bodies = append(bodies, m["body"].(string))
		}
		if strings.Join(bodies, "|") != strings.Join(want, "|") || got.TotalItems != len(want) {
			t.Errorf("search %q: want %v, got %v (total %d)", q, want, bodies, got.TotalItems)
		}
	}
	// newest first: the later message comes first whatever its rank
	status, raw := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/search?sort=newest&q="+testutil.Urlq("会議をします 東京"), mt, nil)
	if got := testutil.Decode[testutil.List[map[string]any]](t, raw); status != http.StatusOK || got.TotalItems != 1 || got.Items[0]["id"] != ids["東京で会議をします"] {
		t.Errorf("sort=newest: %d %s", status, raw)
	}
	_, second := testutil.Post(t, srv, mt, room.Id, "ミーティングルームの予約 again")
	_, raw = srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/search?sort=newest&q="+testutil.Urlq("ルームの予約"), mt, nil)
	if got := testutil.Decode[testutil.List[map[string]any]](t, raw); got.TotalItems != 2 || got.Items[0]["id"] != second["id"] {
		t.Errorf("sort=newest puts the newest first: %s", raw)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/search?sort=oldest&q=abc", mt, nil); status != http.StatusBadRequest {
		t.Errorf("unknown sort: want 400, got %d", status)
	}
	if status, _ := search(testutil.Token(t, bronze), gold.Id, "会議"); status != http.StatusForbidden {
		t.Errorf("searching a room above your rank: want 403, got %d", status)
	}
	if status, _ := search("", room.Id, "会議"); status != http.StatusUnauthorized {
		t.Errorf("anonymous search: want 401, got %d", status)
	}
	if status, _ := search(mt, room.Id, "  "); status != http.StatusBadRequest {
		t.Errorf("empty search: want 400, got %d", status)
	}
}

func TestRoomCSVExport(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{Name: "田中, \"タナカ\"", Rank: "Silver"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Name: "Boss"})
	room := testutil.NewRoom(t, app, map[string]any{"name": "雑談 room", "allow_guests": true})
	mt := testutil.Token(t, member)
	_, first := testutil.Post(t, srv, mt, room.Id, "一行目\n二行目")
	_, evil := testutil.Post(t, srv, mt, room.Id, "=HYPERLINK(\"http://evil\")")
	srv.Do(t, http.MethodDelete, testutil.MessagesURL+"/"+evil["id"].(string), testutil.Token(t, admin), nil)
	_, raw := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/guest-links", testutil.Token(t, admin), nil)
	_, raw = srv.Do(t, http.MethodPost, "/api/salon/guests/join", "", map[string]any{"token": testutil.Decode[map[string]any](t, raw)["token"], "name": "ゲスト"})
	testutil.Post(t, srv, testutil.Decode[map[string]any](t, raw)["token"].(string), room.Id, "guest says hi")

	url := "/api/salon/rooms/" + room.Id + "/export.csv"
	for name, token := range map[string]string{"member": mt, "anonymous": ""} {
		if status, _ := srv.Do(t, http.MethodGet, url, token, nil); status != http.StatusForbidden && status != http.StatusUnauthorized {
			t.Errorf("%s exports: want 401/403, got %d", name, status)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+url, nil)
	req.Header.Set("Authorization", testutil.Token(t, admin))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatal("the export must start with a UTF-8 BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatalf("RFC 4180: %v\n%s", err, data)
	}
	if len(rows) != 4 || rows[0][0] != "time_utc" {
		t.Fatalf("rows: %q", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	r1 := rows[1]
	if r1[col["message_id"]] != first["id"] || r1[col["author_name"]] != "田中, \"タナカ\"" || r1[col["message"]] != "一行目\n二行目" ||
		r1[col["rank_at_post"]] != "Silver" || r1[col["author_kind"]] != "member" || r1[col["ip"]] != "127.0.0.1" {
		t.Errorf("member row: %q", r1)
	}
	if r2 := rows[2]; !strings.HasPrefix(r2[col["message"]], "'=") || r2[col["deleted_at"]] == "" {
		t.Errorf("deleted formula row is kept and neutralised: %q", r2)
	}
	if r3 := rows[3]; r3[col["author_kind"]] != "guest" || r3[col["author_name"]] != "ゲスト" {
		t.Errorf("guest row: %q", r3)
	}
}

func TestRoomIPRetention(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	_, old := testutil.Post(t, srv, testutil.Token(t, member), room.Id, "old")
	_, recent := testutil.Post(t, srv, testutil.Token(t, member), room.Id, "recent")
	testutil.UpdateSettings(t, app, map[string]any{"room_ip_retention_days": 30})
	if _, err := app.DB().NewQuery("UPDATE room_messages SET created = '2020-01-01 00:00:00.000Z' WHERE id = {:id}").
		Bind(map[string]any{"id": old["id"]}).Execute(); err != nil {
		t.Fatal(err)
	}
	n, err := rooms.PurgeRoomIPs(app, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	o, _ := app.FindRecordById("room_messages", old["id"].(string))
	r, _ := app.FindRecordById("room_messages", recent["id"].(string))
	if o.GetString("ip") != "" || r.GetString("ip") == "" || o.GetString("body") != "old" {
		t.Fatalf("old ip %q (want cleared), recent ip %q (want kept)", o.GetString("ip"), r.GetString("ip"))
	}
	// 0 days: keep none
	testutil.UpdateSettings(t, app, map[string]any{"room_ip_retention_days": 0})
	if n, _ := rooms.PurgeRoomIPs(app, time.Now().Add(time.Second)); n != 1 {
		t.Fatalf("retention 0 clears every ip: %d", n)
	}
}
