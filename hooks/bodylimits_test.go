package hooks_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// jsonBody streams a JSON object of n keys {"k0":0,...} padded to size
// bytes by one long string, without holding it in memory.
func jsonBody(keys, pad int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		var b strings.Builder
		b.WriteString(`{"body":"x"`)
		for i := range keys {
			fmt.Fprintf(&b, `,"k%d":0`, i)
			if b.Len() > 64<<10 {
				if _, err := pw.Write([]byte(b.String())); err != nil {
					return
				}
				b.Reset()
			}
		}
		if pad > 0 {
			b.WriteString(`,"pad":"`)
			pw.Write([]byte(b.String()))
			b.Reset()
			chunk := []byte(strings.Repeat("a", 1<<20))
			for left := pad; left > 0; left -= len(chunk) {
				if _, err := pw.Write(chunk[:min(left, len(chunk))]); err != nil {
					return
				}
			}
			b.WriteString(`"`)
		}
		b.WriteString(`}`)
		pw.Write([]byte(b.String()))
		pw.Close()
	}()
	return pr
}

func post(t *testing.T, srv *testutil.Server, token string, body io.Reader, length int64) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+testutil.MessagesURL, body)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = length // -1: chunked, the size unknown until read
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

// A JSON body is read whole and decoded into memory, so it gets a small
// limit of its own whatever the collection's file fields allow: an
// anonymous caller cannot make the server read 100 MiB, a member cannot
// send 1M unknown keys, and files still stream as multipart.
func TestJSONBodiesHaveSmallLimits(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	token := testutil.Token(t, member)
	room := testutil.NewRoom(t, app, map[string]any{})
	const tooLarge = `"code":"body_too_large"`

	// anonymous: 100 MiB announced, or 1 MiB sent without a length
	if status, body := post(t, srv, "", jsonBody(0, 100<<20), 100<<20+21); status != http.StatusRequestEntityTooLarge || !strings.Contains(body, tooLarge) {
		t.Fatalf("anonymous 100 MiB: %d %s", status, body)
	}
	if status, body := post(t, srv, "", jsonBody(0, 1<<20), -1); status != http.StatusRequestEntityTooLarge || !strings.Contains(body, tooLarge) {
		t.Fatalf("anonymous 1 MiB chunked: %d %s", status, body)
	}
	// a member: 2 MiB, or 1M unknown keys (~10 MB), or 5,000 keys within the limit
	if status, body := post(t, srv, token, jsonBody(0, 2<<20), -1); status != http.StatusRequestEntityTooLarge || !strings.Contains(body, tooLarge) {
		t.Fatalf("member 2 MiB: %d %s", status, body)
	}
	if status, body := post(t, srv, token, jsonBody(1_000_000, 0), -1); status != http.StatusRequestEntityTooLarge || !strings.Contains(body, tooLarge) {
		t.Fatalf("member 1M keys: %d %s", status, body)
	}
	if status, body := post(t, srv, token, jsonBody(5000, 0), -1); status != http.StatusBadRequest || !strings.Contains(body, `"code":"too_many_keys"`) {
		t.Fatalf("member 5,000 keys: %d %s", status, body)
	}
	if n := testutil.CountRecords(t, app, "room_messages", nil); n != 0 {
		t.Fatalf("%d messages stored by refused requests", n)
	}

	// what members really send still works: the longest message body, and
	// a 40 MiB file streamed as multipart
	if status, out := testutil.Post(t, srv, token, room.Id, strings.Repeat("長", 10000)); status != http.StatusOK {
		t.Fatalf("a 10,000-character message: %d %v", status, out)
	}
	if status, body := testutil.UploadVideo(t, srv, token, room.Id, 40<<20); status != http.StatusOK {
		t.Fatalf("a 40 MiB upload: %d %s", status, body)
	}
	// the signed Stripe webhook has room for a large event (refused for
	// its signature here, not for its size)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/salon/stripe/webhook", jsonBody(0, 200<<10))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusRequestEntityTooLarge {
		t.Fatal("a 200 KiB webhook event was refused for its size")
	}
}
