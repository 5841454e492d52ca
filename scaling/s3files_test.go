package scaling

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFilesOnS3 switches a running salon to S3 file storage the way an
// operator does (Settings → Files storage) and checks, through the HTTP
// API as members use it, that every feature that stores files writes to
// the bucket, that protected files stay protected, that a large upload
// streams, and that deleting a record removes its objects.
func TestFilesOnS3(t *testing.T) {
	t.Parallel()
	s3 := startS3(t)
	// a GOMEMLIMIT, as the README recommends (small here, to show that the
	// peak follows the limit, not the file): without one, the S3 uploader's
	// used part buffers pile up between collections
	salon := startSalon(t, newDataDir(t), "GOMEMLIMIT="+memLimit)
	salon.settings(t, map[string]any{
		"s3": s3.settings(s3.Bucket),
		// every drill client shares 127.0.0.1: the per-IP limits would
		// throttle the drill, not a real crowd
		"rateLimits": map[string]any{"enabled": false},
	})
	salon.Root.mustJSON(t, "POST", "/api/settings/test/s3", map[string]any{"filesystem": "storage"}, nil, 204)

	aiko, ben, carl := salon.member(t), salon.member(t), salon.member(t)

	t.Run("dm attachment is protected", func(t *testing.T) {
		content := randomBytes(t, 3000)
		var msg record
		status, raw, err := aiko.multipart("POST", "/api/collections/dm_messages/records",
			map[string]string{"recipient": ben.ID, "subject": "Notes", "body": "see attached"},
			[]upload{{"attachments", "notes.txt", bytes.NewReader(content)}}, &msg)
		if err != nil || status != 200 {
			t.Fatalf("send DM with attachment: %d %v %.300s", status, err, raw)
		}
		name := msg.Attachments[0]
		assertInBucket(t, s3, salon, msg, name, int64(len(content)))

		path := fileURL("dm_messages", msg.Id, name, "")
		if status, body := get(t, salon.Base, path); status != 404 || bytes.Equal(body, content) {
			t.Errorf("no token: %d, want 404 and no content", status)
		}
		for who, c := range map[string]*client{"sender": aiko, "recipient": ben} {
			status, body := get(t, salon.Base, fileURL("dm_messages", msg.Id, name, c.fileToken(t)))
			if status != 200 || !bytes.Equal(body, content) {
				t.Errorf("%s's file token: %d, want 200 and the file", who, status)
			}
		}
		status, body := get(t, salon.Base, fileURL("dm_messages", msg.Id, name, carl.fileToken(t)))
		if status != 404 || bytes.Equal(body, content) {
			t.Errorf("a non-party's file token: %d, want 404 and no content", status)
		}

		// an admin who is not a party deletes the message for everyone
		salon.Root.mustJSON(t, "DELETE", "/api/collections/dm_messages/records/"+msg.Id, nil, nil, 204)
		assertGoneFromBucket(t, s3, msg)
	})

	var room record
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records",
		map[string]any{"name": "Lobby"}, &room, 200)

	t.Run("room attachment with thumbnails", func(t *testing.T) {
		pic := pngBytes(t, 640, 480)
		var msg record
		status, raw, err := aiko.multipart("POST", "/api/collections/room_messages/records",
			map[string]string{"room": room.Id, "body": "our venue"},
			[]upload{{"attachments", "venue.png", bytes.NewReader(pic)}}, &msg)
		if err != nil || status != 200 {
			t.Fatalf("post with picture: %d %v %.300s", status, err, raw)
		}
		name := msg.Attachments[0]
		assertInBucket(t, s3, salon, msg, name, int64(len(pic)))

		if status, body := get(t, salon.Base, fileURL("room_messages", msg.Id, name, "")); status != 404 || bytes.Equal(body, pic) {
			t.Errorf("no token: %d, want 404 and no content", status)
		}
		status, body := get(t, salon.Base, fileURL("room_messages", msg.Id, name, ben.fileToken(t))+"&thumb=100x100")
		if status != 200 || !bytes.HasPrefix(body, []byte("\x89PNG")) || bytes.Equal(body, pic) {
			t.Errorf("thumbnail: %d, want 200 and a smaller PNG", status)
		}
		thumbs := s3.keys(t, fmt.Sprintf("%s/%s/thumbs_%s/", msg.CollectionId, msg.Id, name))
		if len(thumbs) != 1 {
			t.Errorf("thumbnail objects in the bucket: %v, want one (generated on first request)", thumbs)
		}

		// deletion is soft for members and admins; a superuser deleting a
		// deleted message removes it, and its objects, thumbnails included
		salon.Root.mustJSON(t, "DELETE", "/api/collections/room_messages/records/"+msg.Id, nil, nil, 204)
		salon.Root.mustJSON(t, "DELETE", "/api/collections/room_messages/records/"+msg.Id, nil, nil, 204)
		assertGoneFromBucket(t, s3, msg)
	})

	t.Run("avatar is public and replaced", func(t *testing.T) {
		first := pngBytes(t, 64, 64)
		var user record
		status, raw, err := aiko.multipart("PATCH", "/api/collections/users/records/"+aiko.ID, nil,
			[]upload{{"avatar", "me.png", bytes.NewReader(first)}}, &user)
		if err != nil || status != 200 {
			t.Fatalf("set avatar: %d %v %.300s", status, err, raw)
		}
		firstName := user.Avatar
		assertInBucket(t, s3, salon, user, firstName, int64(len(first)))
		if status, body := get(t, salon.Base, fileURL("users", aiko.ID, firstName, "")); status != 200 || !bytes.Equal(body, first) {
			t.Errorf("avatar without token: %d, want 200 and the picture (avatars are public)", status)
		}

		second := pngBytes(t, 96, 96)
		if status, raw, err := aiko.multipart("PATCH", "/api/collections/users/records/"+aiko.ID, nil,
			[]upload{{"avatar", "me2.png", bytes.NewReader(second)}}, &user); err != nil || status != 200 {
			t.Fatalf("replace avatar: %d %v %.300s", status, err, raw)
		}
		keys := s3.keys(t, fmt.Sprintf("%s/%s/", user.CollectionId, user.Id))
		if _, ok := keys[fmt.Sprintf("%s/%s/%s", user.CollectionId, user.Id, firstName)]; ok {
			t.Errorf("the replaced avatar %s is still in the bucket", firstName)
		}
		assertInBucket(t, s3, salon, user, user.Avatar, int64(len(second)))
	})

	t.Run("forum attachment", func(t *testing.T) {
		var cat, topic, post record
		salon.Root.mustJSON(t, "POST", "/api/collections/forum_categories/records",
			map[string]any{"name": "General"}, &cat, 200)
		aiko.mustJSON(t, "POST", "/api/collections/forum_topics/records",
			map[string]any{"category": cat.Id, "title": "Slides", "body": "from the meetup"}, &topic, 200)
		slides := randomBytes(t, 5000)
		status, raw, err := aiko.multipart("POST", "/api/collections/forum_posts/records",
			map[string]string{"topic": topic.Id, "body": "here"},
			[]upload{{"attachments", "slides.txt", bytes.NewReader(slides)}}, &post)
		if err != nil || status != 200 {
			t.Fatalf("post with attachment: %d %v %.300s", status, err, raw)
		}
		name := post.Attachments[0]
		assertInBucket(t, s3, salon, post, name, int64(len(slides)))
		if status, _ := get(t, salon.Base, fileURL("forum_posts", post.Id, name, "")); status != 404 {
			t.Errorf("no token: %d, want 404", status)
		}
		if status, body := get(t, salon.Base, fileURL("forum_posts", post.Id, name, carl.fileToken(t))); status != 200 || !bytes.Equal(body, slides) {
			t.Errorf("a member who may read the category: %d, want 200 and the file", status)
		}
		salon.Root.mustJSON(t, "DELETE", "/api/collections/forum_posts/records/"+post.Id, nil, nil, 204)
		assertGoneFromBucket(t, s3, post)
	})

	t.Run("large upload streams", func(t *testing.T) {
		const size = 160 << 20
		pid := salon.proc.cmd.Process.Pid
		if err := resetPeak(pid); err != nil {
			t.Fatalf("reset peak RSS: %v", err)
		}
		rssBefore, _, err := memStatus(pid)
		if err != nil {
			t.Fatal(err)
		}
		sent := sha256.New()
		video := io.TeeReader(fakeMP4(size), sent)
		var msg record
		status, raw, err := ben.multipart("POST", "/api/collections/room_messages/records",
			map[string]string{"room": room.Id, "body": "the whole talk"},
			[]upload{{"attachments", "talk.mp4", video}}, &msg)
		if err != nil || status != 200 {
			t.Fatalf("upload %d MB: %d %v %.300s", size>>20, status, err, raw)
		}
		_, peak, err := memStatus(pid)
		if err != nil {
			t.Fatal(err)
		}
		growth := peak - rssBefore
		t.Logf("%d MiB upload: server RSS %d MiB before, peak %d MiB during (+%d MiB)",
			size>>20, rssBefore>>20, peak>>20, growth>>20)
		// the body is spooled to a temp file and sent to S3 in 6 MiB parts,
		// 5 at a time: memory stays bounded (about 85 MiB with GOMEMLIMIT
		// 96MiB, for 160 or 320 MiB alike), never the whole file
		if growth > size*3/4 {
			t.Errorf("peak RSS grew by %d MiB for a %d MiB upload: the upload is buffered in memory", growth>>20, size>>20)
		}
		name := msg.Attachments[0]
		assertInBucket(t, s3, salon, msg, name, size)

		// and it comes back whole
		res, err := http.Get(salon.Base + fileURL("room_messages", msg.Id, name, aiko.fileToken(t)))
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		n, err := io.Copy(got, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
			t.Errorf("download: %d, %d bytes, err %v; want 200 and the same %d bytes", res.StatusCode, n, err, size)
		}
	})
}

// memLimit is the server's GOMEMLIMIT in the drill.
const memLimit = "96MiB"

// record is the part of a record answer the drills read.
type record struct {
	Id           string
	CollectionId string
	Attachments  []string
	Avatar       string
	Body         string
}

// assertInBucket checks that the file is an object of the expected size in
// the bucket, and not on the server's local disk.
func assertInBucket(t *testing.T, s3 *s3Server, salon *salon, r record, name string, size int64) {
	t.Helper()
	key := fmt.Sprintf("%s/%s/%s", r.CollectionId, r.Id, name)
	keys := s3.keys(t, fmt.Sprintf("%s/%s/", r.CollectionId, r.Id))
	if got, ok := keys[key]; !ok || got != size {
		t.Errorf("object %s in the bucket: present %v, %d bytes; want %d bytes (objects: %v)", key, ok, got, size, keys)
	}
	if _, err := os.Stat(filepath.Join(salon.Dir, "storage", r.CollectionId, r.Id)); !os.IsNotExist(err) {
		t.Errorf("the file is also on local disk (pb_data/storage): %v", err)
	}
}

// assertGoneFromBucket waits briefly for a deleted record's objects to go
// (PocketBase deletes them after the transaction commits).
func assertGoneFromBucket(t *testing.T, s3 *s3Server, r record) {
	t.Helper()
	prefix := fmt.Sprintf("%s/%s/", r.CollectionId, r.Id)
	var keys map[string]int64
	for i := 0; i < 50; i++ {
		if keys = s3.keys(t, prefix); len(keys) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("objects of the deleted record are still in the bucket: %v", keys)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func pngBytes(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeMP4 streams size bytes that content sniffing takes for an MP4 video
// (an ftyp box, then pseudo-random data), without holding them in memory.
func fakeMP4(size int64) io.Reader {
	head := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(rand.Reader, size-int64(len(head))))
}
