package rooms_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// Members and guests read the room attachment limit the dashboard sets
// (the attachments field's max size), so the client can refuse a file
// before uploading it; nobody else reads it.
func TestRoomAttachmentLimits(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	guest := testutil.NewGuest(t, app, room, time.Hour)
	const url = "/api/salon/rooms/attachment-limits"

	type limits struct {
		MaxSize   int64 `json:"maxSize"`
		MaxSelect int   `json:"maxSelect"`
	}
	c := testutil.MustCollection(t, app, "room_messages")
	field := c.Fields.GetByName("attachments").(*core.FileField)
	got := testutil.Decode[limits](t, testutil.WantStatus(t, srv, http.MethodGet, url, testutil.Token(t, member), nil, http.StatusOK, ""))
	if got.MaxSize != field.MaxSize || got.MaxSelect != field.MaxSelect || got.MaxSize < 1<<20 {
		t.Fatalf("want the field's limits %d / %d, got %+v", field.MaxSize, field.MaxSelect, got)
	}

	// the operator lowers it in the dashboard: the next answer says so
	field.MaxSize = 3 << 20
	if err := app.Save(c); err != nil {
		t.Fatal(err)
	}
	for who, token := range map[string]string{"member": testutil.Token(t, member), "guest": testutil.Token(t, guest)} {
		got := testutil.Decode[limits](t, testutil.WantStatus(t, srv, http.MethodGet, url, token, nil, http.StatusOK, ""))
		if got.MaxSize != 3<<20 {
			t.Errorf("%s: want 3 MB, got %d", who, got.MaxSize)
		}
	}
	testutil.WantStatus(t, srv, http.MethodGet, url, "", nil, http.StatusUnauthorized, "")
}
