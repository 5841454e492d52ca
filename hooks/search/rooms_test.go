package search_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"salonbase/hooks/rooms"
	"salonbase/testutil"
)

type roomSearchResult struct {
	Items []struct {
		Kind       string `json:"kind"`
		ID         string `json:"id"`
		Room       string `json:"room"`
		RoomName   string `json:"roomName"`
		Author     string `json:"author"`
		AuthorName string `json:"authorName"`
		Created    string `json:"created"`
		Snippet    string `json:"snippet"`
	} `json:"items"`
	HasMore bool `json:"hasMore"`
}

// The site search finds room messages in exactly the rooms the caller may
// read (rank, password joined, group membership), never deleted ones, and
// ranks them with forum hits under the same filters.
func TestSiteSearchRoomMessages(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	bronze := testutil.CreateUser(t, app, testutil.User{Name: "Bronze Bo", Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Name: "Gold Gi", Rank: "Gold"})
	joiner := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	owner := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	bt, gt, jt, ot, at := testutil.Token(t, bronze), testutil.Token(t, gold), testutil.Token(t, joiner), testutil.Token(t, owner), testutil.Token(t, admin)

	open := testutil.NewRoom(t, app, map[string]any{"name": "Lobby", "allow_guests": true})
	goldRoom := testutil.NewRoom(t, app, map[string]any{"name": "Gold lounge", "min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.NewRoom(t, app, map[string]any{"name": "Back room", "password": "open sesame"})
	group := testutil.MustCreate(t, srv, testutil.GroupsURL, ot, map[string]any{"name": "Hikers", "theme": "hobby", "visibility": "open"})
	groupRoom := group["room"].(string)
	testutil.WantStatus(t, srv, http.MethodPost, "/api/salon/rooms/"+secret.Id+"/join", jt, map[string]any{"password": "open sesame"}, 200, "")

	send := func(token, room, body string) string {
		t.Helper()
		status, out := testutil.Post(t, srv, token, room, body)
		if status != http.StatusOK {
			t.Fatalf("post %q: %d %v", body, status, out)
		}
		return out["id"].(string)
	}
	inOpen := send(bt, open.Id, "The aurora was bright over the <b>lake</b> tonight")
	inGold := send(gt, goldRoom.Id, "aurora photos for gold members")
	inSecret := send(at, secret.Id, "aurora meetup details")
	inGroup := send(ot, groupRoom, "aurora hike on Saturday")
	gone := send(bt, open.Id, "aurora spoiler, deleting this")
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.MessagesURL+"/"+gone, at, nil, 204, "")
	jp := send(gt, open.Id, "来週の勉強会は東京で開催します。オーロラの写真も見せます。")

	find := func(token, query string) roomSearchResult {
		t.Helper()
		body := testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?"+query, token, nil, 200, "")
		return testutil.Decode[roomSearchResult](t, body)
	}
	ids := func(r roomSearchResult) []string {
		var out []string
		for _, it := range r.Items {
			out = append(out, it.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }

	for name, c := range map[string]struct {
		token string
		want  []string
	}{
		"bronze (below the gold room, not joined, not in the group)": {bt, sorted(inOpen)},
		"gold (not joined to the password room)":                     {gt, sorted(inOpen, inGold)},
		"joined the password room":                                   {jt, sorted(inOpen, inGold, inSecret)},
		"group member (bronze)":                                      {ot, sorted(inOpen, inGroup)},
		"admin":                                                      {at, sorted(inOpen, inGold, inSecret, inGroup)},
	} {
		if got := ids(find(c.token, "q=aurora&kind=room_message")); !slices.Equal(got, c.want) {
			t.Errorf("%s finds %v, want %v", name, got, c.want)
		}
	}

	// a hit says where it is and who wrote it; the snippet is escaped and marked
	r := find(bt, "q=aurora")
	if len(r.Items) != 1 {
		t.Fatalf("bronze: %+v", r)
	}
	hit := r.Items[0]
	if hit.Kind != "room_message" || hit.Room != open.Id || hit.RoomName != "Lobby" || hit.Author != bronze.Id ||
		hit.AuthorName != "Bronze Bo" || hit.Created == "" || !strings.Contains(hit.Snippet, "<mark>aurora</mark>") ||
		strings.Contains(hit.Snippet, "<b>") || !strings.Contains(hit.Snippet, "&lt;b&gt;") {
		t.Fatalf("room hit: %+v", hit)
	}

	// Japanese: a 3-character word through the trigram index, a 2-character one by LIKE
	for _, q := range []string{"勉強会", "東京", "オーロラ 東京"} {
		r := find(bt, "q="+testutil.Urlq(q))
		if len(r.Items) != 1 || r.Items[0].ID != jp || !strings.Contains(r.Items[0].Snippet, "<mark>") {
			t.Errorf("japanese %q: %+v", q, r)
		}
	}

	// the deleted message is gone for everyone, admins included
	for _, token := range []string{bt, at} {
		if got := ids(find(token, "q=spoiler")); len(got) != 0 {
			t.Errorf("deleted message found: %v", got)
		}
	}

	// forum and rooms ranked and paged together; filters apply sensibly
	general := testutil.NewCategory(t, app, "General", nil)
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, bt, map[string]any{"category": general.Id, "title": "Aurora season", "body": "When to see it", "tags": []string{"sky"}})
	if got := ids(find(bt, "q=aurora")); !slices.Equal(got, sorted(inOpen, topic["id"].(string))) {
		t.Fatalf("forum and rooms together: %v", got)
	}
	if r := find(bt, "q=aurora&perPage=1"); len(r.Items) != 1 || r.Items[0].ID != topic["id"] || !r.HasMore {
		t.Fatalf("the title match ranks first, a second page follows: %+v", r)
	}
	if r := find(bt, "q=aurora&perPage=1&page=2"); len(r.Items) != 1 || r.Items[0].ID != inOpen || r.HasMore {
		t.Fatalf("page 2: %+v", r)
	}
	for _, f := range []string{"kind=topic", "category=" + general.Id, "tag=sky"} {
		if got := ids(find(at, "q=aurora&"+f)); !slices.Equal(got, []string{topic["id"].(string)}) {
			t.Errorf("%s leaves room messages out: %v", f, got)
		}
	}
	if got := ids(find(at, "q=aurora&author="+gold.Id)); !slices.Equal(got, []string{inGold}) {
		t.Errorf("author filter: %v", got)
	}
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q=aurora&kind=rooms", bt, nil, 400, "room_message")

	// guests do not use the site search, even for their own room
	guest := testutil.NewGuest(t, app, open, time.Hour)
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q=aurora", testutil.Token(t, guest), nil, 401, "")
}

// ReadableRoomIDs is the batch form of CanReadRoom: both agree for every
// member and room.
func TestReadableRoomIDsAgreesWithCanReadRoom(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	users := map[string]*testutil.User{
		"bronze": {Rank: "Bronze"}, "gold": {Rank: "Gold"}, "joined": {Rank: "Gold"},
		"owner": {}, "admin": {Role: "admin"}, "suspended": {Rank: "Platinum", Suspended: true},
	}
	recs := map[string]string{}
	for name, u := range users {
		recs[name] = testutil.CreateUser(t, app, *u).Id
	}
	owner, _ := app.FindRecordById("users", recs["owner"])
	group := testutil.MustCreate(t, srv, testutil.GroupsURL, testutil.Token(t, owner), map[string]any{"name": "Inner", "theme": "business", "visibility": "secret"})
	testutil.NewRoom(t, app, map[string]any{"name": "Open"})
	testutil.NewRoom(t, app, map[string]any{"name": "Gold", "min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.NewRoom(t, app, map[string]any{"name": "Secret", "password": "open sesame"})
	members, _ := app.FindCollectionByNameOrId("room_members")
	if err := app.Save(testutil.NewRecord(members, map[string]any{"room": secret.Id, "user": recs["joined"]})); err != nil {
		t.Fatal(err)
	}
	allRooms, err := app.FindAllRecords("rooms")
	if err != nil || len(allRooms) != 4 {
		t.Fatalf("rooms (with the group's %v): %d %v", group["room"], len(allRooms), err)
	}
	for name, id := range recs {
		user, _ := app.FindRecordById("users", id)
		got, err := rooms.ReadableRoomIDs(app, user)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, room := range allRooms {
			if rooms.CanReadRoom(app, user, room) == nil {
				want = append(want, room.Id)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: ReadableRoomIDs %v, CanReadRoom admits %v", name, got, want)
		}
	}
}
