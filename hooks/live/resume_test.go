package live_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// Streams still live in the database when the server starts were live when
// it last stopped: the host who publishes again within the rejoin window
// keeps the stream (and the followers are not told a second time); a stream
// whose host stays away ends.
func TestStreamsLiveAtStartAreResumed(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.UpdateSettings(t, app, map[string]any{"live_min_rank": testutil.RankID(t, app, "Silver")})
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Rank: "Gold"})
	fan := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	if err := app.Save(testutil.NewRecord(testutil.MustCollection(t, app, "follows"), map[string]any{"follower": fan.Id, "followee": host.Id})); err != nil {
		t.Fatal(err)
	}
	streams := testutil.MustCollection(t, app, "live_streams")
	ids := map[string]string{}
	for _, name := range []string{"back", "gone"} {
		r := testutil.NewRecord(streams, map[string]any{
			"title": name, "host": host.Id, "status": "live", "viewer_count": 7, "started_at": types.NowDateTime(),
		})
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
		ids[name] = r.Id
	}

	srv := serveRTC(t, app)
	for name, id := range ids {
		if r := record(t, app, "live_streams", id); r.GetString("status") != "live" || r.GetInt("viewer_count") != 0 {
			t.Fatalf("%s at start: %s, %d viewers", name, r.GetString("status"), r.GetInt("viewer_count"))
		}
	}
	pub := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+ids["back"]+"/whip", testutil.Token(t, host))
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish again: %d %s", pub.Result.Status, pub.Result.Body)
	}
	// 409 until the media arrives, then the fan watches
	var fanView *rtctest.Viewer
	rtctest.Eventually(t, 20*time.Second, "the resumed stream takes viewers", func() bool {
		fanView = rtctest.View(t, srv.URL+"/api/rtc/live/"+ids["back"]+"/whep", testutil.Token(t, fan))
		return fanView.Result.Status == http.StatusCreated
	})
	waitPicture(t, fanView, "the fan")
	rtctest.Eventually(t, 40*time.Second, "the stream whose host stayed away ends", func() bool {
		return record(t, app, "live_streams", ids["gone"]).GetString("status") == "ended"
	})
	if r := record(t, app, "live_streams", ids["back"]); r.GetString("status") != "live" {
		t.Fatalf("the resumed stream: %s", r.GetString("status"))
	}
	if n, err := app.CountRecords("notifications", testutil.DbxHash("user", fan.Id), testutil.DbxHash("kind", "live")); err != nil || n != 0 {
		t.Fatalf("the fan was told again that the stream is live: %d %v", n, err)
	}
}
