package pb_migrations_test

import (
	"net/http"
	"testing"

	"salonbase/testutil"
)

// A room of members behind one NAT share an IP: more than 30 media POSTs
// a minute from one address pass the per-IP limit (the media server limits
// each member instead).
func TestMediaPostsPerIPAllowARoom(t *testing.T) {
	app := testutil.NewApp(t)
	testutil.EnableRateLimits(t, app)
	srv := testutil.Serve(t, app)
	for i := range 60 {
		status, body := srv.Do(t, http.MethodPost, "/api/rtc/live/nosuchstream/whep", "", "v=0")
		if status == http.StatusTooManyRequests {
			t.Fatalf("POST %d from one address: 429 %s", i+1, body)
		}
	}
}
