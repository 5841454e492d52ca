package dm_test

import (
	"net/http"
	"testing"
	"time"

	"salonbase/testutil"
)

type canWrite struct {
	Allowed bool   `json:"allowed"`
	ReplyTo string `json:"reply_to"`
	Reason  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reason"`
}

// The compose box asks before the member types; the answer must be the one
// a send would get, reply rule included.
func TestDMCanWriteAgreesWithSend(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"dm_member_min_rank": testutil.RankID(t, app, "Gold")})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Rank: "Free"})
	silverTok, goldTok := testutil.Token(t, silver), testutil.Token(t, gold)

	ask := func(token, to string) canWrite {
		t.Helper()
		status, body := srv.Do(t, http.MethodGet, "/api/salon/dm/can-write/"+to, token, nil)
		if status != http.StatusOK {
			t.Fatalf("can-write %s: %d %s", to, status, body)
		}
		return testutil.Decode[canWrite](t, body)
	}

	// refused: the policy's code and sentence, and a send is refused alike
	got := ask(silverTok, gold.Id)
	if got.Allowed || got.Reason == nil || got.Reason.Code != "dm_rank_too_low" || got.Reason.Message == "" {
		t.Fatalf("silver → gold: %+v", got)
	}
	if status, _ := sendDM(t, srv, silverTok, gold.Id, nil); status != http.StatusForbidden {
		t.Fatalf("silver → gold send: %d, the answer said refused", status)
	}
	// allowed both ways where the policy allows
	if got := ask(goldTok, silver.Id); !got.Allowed || got.Reason != nil || got.ReplyTo != "" {
		t.Fatalf("gold → silver: %+v", got)
	}
	if got := ask(silverTok, admin.Id); !got.Allowed {
		t.Fatalf("silver → admin: %+v", got)
	}

	// once gold has written, silver may answer: allowed, as a reply to it
	msg := mustSendDM(t, srv, goldTok, silver.Id, nil)
	got = ask(silverTok, gold.Id)
	if !got.Allowed || got.ReplyTo != msg.ID {
		t.Fatalf("silver → gold after gold wrote: %+v, want reply_to %s", got, msg.ID)
	}
	if status, body := sendDM(t, srv, silverTok, gold.Id, map[string]any{"reply_to": got.ReplyTo}); status != http.StatusOK {
		t.Fatalf("the reply the answer offered was refused: %d %s", status, body)
	}

	// settings apply at once
	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "off"})
	if got := ask(goldTok, silver.Id); got.Allowed || got.Reason == nil || got.Reason.Code != "dm_off" {
		t.Fatalf("dm off: %+v", got)
	}
}

func TestDMCanWriteRefusesOthers(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	room := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	testutil.UpdateSettings(t, app, map[string]any{"guest_chat": true})
	guest := testutil.NewGuest(t, app, room, time.Hour)

	url := "/api/salon/dm/can-write/" + member.Id
	testutil.WantStatus(t, srv, http.MethodGet, url, "", nil, http.StatusUnauthorized, "")
	testutil.WantStatus(t, srv, http.MethodGet, url, testutil.Token(t, guest), nil, http.StatusForbidden, "")
	body := testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/dm/can-write/nosuchmember00", testutil.Token(t, member), nil, http.StatusNotFound, "No such member.")
	if string(body) == "" {
		t.Fatal("empty 404")
	}
}
