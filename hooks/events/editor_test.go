package events_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

const eventsURL = "/api/collections/events/records"

// The event editor links one of the organizer's own live streams: the
// organizer links theirs, an admin organizing for a tutor links the
// tutor's; nobody links a stream someone else hosts or one that does not
// exist, and handing the event to another organizer keeps that true.
func TestEventStreamIsTheOrganizers(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	tutor := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	other := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	tt, at := testutil.Token(t, tutor), testutil.Token(t, admin)
	stream := func(token string) string {
		return testutil.MustCreate(t, srv, "/api/collections/live_streams/records", token, map[string]any{"title": "Q&A"})["id"].(string)
	}
	mine, others, admins := stream(tt), stream(testutil.Token(t, other)), stream(at)
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"title": "Q&A live", "kind": "live", "starts_at": "2030-12-01T19:00:00+09:00", "published": true}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}

	ev := testutil.MustCreate(t, srv, eventsURL, tt, body(map[string]any{"stream": mine}))
	if ev["stream"] != mine {
		t.Fatalf("the organizer's own stream: %v", ev)
	}
	for _, id := range []string{others, "nosuchstream123"} {
		testutil.WantStatus(t, srv, http.MethodPost, eventsURL, tt, body(map[string]any{"stream": id}), 400, "validation_event_stream")
		testutil.WantStatus(t, srv, http.MethodPatch, eventsURL+"/"+ev["id"].(string), tt, map[string]any{"stream": id}, 400, "validation_event_stream")
	}
	// an admin organizing for the tutor links the tutor's stream, not their own
	forTutor := testutil.MustCreate(t, srv, eventsURL, at, body(map[string]any{"organizer": tutor.Id, "stream": mine}))
	if forTutor["organizer"] != tutor.Id || forTutor["stream"] != mine {
		t.Fatalf("admin for a tutor: %v", forTutor)
	}
	testutil.WantStatus(t, srv, http.MethodPost, eventsURL, at, body(map[string]any{"organizer": tutor.Id, "stream": admins}), 400, "validation_event_stream")
	// handing the event to another organizer needs their stream too
	testutil.WantStatus(t, srv, http.MethodPatch, eventsURL+"/"+forTutor["id"].(string), at, map[string]any{"organizer": other.Id}, 400, "validation_event_stream")
	testutil.WantStatus(t, srv, http.MethodPatch, eventsURL+"/"+forTutor["id"].(string), at, map[string]any{"organizer": other.Id, "stream": others}, 200, "")
	// unchanged, the link stays; the organizer edits other fields freely
	testutil.WantStatus(t, srv, http.MethodPatch, eventsURL+"/"+ev["id"].(string), tt, map[string]any{"title": "Q&A live 2"}, 200, "")
	if n := testutil.CountRecords(t, app, "events", nil); n != 2 {
		t.Fatalf("events saved: %d, want 2", n)
	}
}

// An event's cover is an image of at most 5 MB, served only to those who
// may see the event (with a file token), not to a lower rank nor without
// a token.
func TestEventCoverOnlyForThoseWhoSeeTheEvent(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	tutor := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	gold := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	free := testutil.Member(t, app, testutil.User{}, "en")
	fields := map[string]string{"title": "Gold dinner", "kind": "offline", "starts_at": "2030-12-01 10:00:00.000Z",
		"published": "true", "min_rank": testutil.RankID(t, app, "Gold")}

	var pic bytes.Buffer
	if err := png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 60, 30))); err != nil {
		t.Fatal(err)
	}
	status, out := uploadEvent(t, srv, testutil.Token(t, tutor), fields, "cover.png", pic.Bytes())
	if status != 200 {
		t.Fatalf("cover upload: %d %s", status, out)
	}
	ev := testutil.Decode[map[string]any](t, out)
	cover := "/api/files/events/" + ev["id"].(string) + "/" + ev["cover"].(string)

	fileToken := func(u *core.Record) string {
		_, body := srv.Do(t, http.MethodPost, "/api/files/token", testutil.Token(t, u), nil)
		return testutil.Decode[map[string]string](t, body)["token"]
	}
	get := func(query string) (int, []byte) {
		res, err := http.Get(srv.URL + cover + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if status, body := get("?token=" + fileToken(gold)); status != 200 || !bytes.Equal(body, pic.Bytes()) {
		t.Fatalf("a Gold member's cover: %d (%d bytes)", status, len(body))
	}
	if status, _ := get("?thumb=600x300&token=" + fileToken(gold)); status != 200 {
		t.Fatalf("the cover's thumbnail: %d", status)
	}
	for name, query := range map[string]string{"no token": "", "a lower rank": "?token=" + fileToken(free)} {
		if status, body := get(query); status != 404 || bytes.Equal(body, pic.Bytes()) {
			t.Fatalf("%s gets the cover: %d", name, status)
		}
	}

	// images only, up to 5 MB
	if status, out := uploadEvent(t, srv, testutil.Token(t, tutor), fields, "cover.png", []byte("#!/bin/sh\necho not an image\n")); status != 400 || !strings.Contains(string(out), "cover") {
		t.Fatalf("a text file as cover: %d %s", status, out)
	}
	big := append(append([]byte{}, pic.Bytes()...), make([]byte, 5<<20)...)
	if status, out := uploadEvent(t, srv, testutil.Token(t, tutor), fields, "big.png", big); status != 400 || !strings.Contains(string(out), "cover") {
		t.Fatalf("a cover over 5 MB: %d %s", status, out)
	}
	if n := testutil.CountRecords(t, app, "events", nil); n != 1 {
		t.Fatalf("events saved: %d, want 1", n)
	}
}

func uploadEvent(t *testing.T, srv *testutil.Server, token string, fields map[string]string, name string, data []byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("cover", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+eventsURL, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}
