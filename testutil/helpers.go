package testutil

import (
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

func NewRecord(c *core.Collection, values map[string]any) *core.Record {
	r := core.NewRecord(c)
	for k, v := range values {
		r.Set(k, v)
	}
	return r
}

// Decode unmarshals a JSON response body or fails the test.
func Decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

type ApiError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

type List[T any] struct {
	Items      []T `json:"items"`
	TotalItems int `json:"totalItems"`
}

func Urlq(s string) string { return url.QueryEscape(s) }

func DbxHash(k string, v any) dbx.Expression { return dbx.HashExp{k: v} }

// UploadVideo posts a message with an MP4 attachment of size bytes, streamed
// from a pipe so the test never holds it in memory.
func UploadVideo(t testing.TB, srv *Server, token, room string, size int) (int, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("room", room)
		_ = mw.WriteField("body", "video")
		part, err := mw.CreateFormFile("attachments", "clip.mp4")
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		// an ISO BMFF "ftyp" box, so the content sniffs as video/mp4
		head := []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1'}
		_, _ = part.Write(head)
		chunk := make([]byte, 1<<20)
		for left := size - len(head); left > 0; left -= len(chunk) {
			_, _ = part.Write(chunk[:min(left, len(chunk))])
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/collections/room_messages/records", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}
