package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBinaryServesEverythingFromItself builds the binary, copies it alone
// into an empty folder and checks that it serves the API, the dashboard and
// the embedded web client on its own SQLite data dir, and that the demo
// command fills that data dir.
func TestBinaryServesEverythingFromItself(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "salonbase")
	raw, err := os.ReadFile(buildBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(dir, "pb_data")
	if out, err := exec.Command(bin, "demo", "--dir", data).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "aiko@example.com") {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "superuser", "upsert", "root@example.com", "1234567890", "--dir", data).CombinedOutput(); err != nil {
		t.Fatalf("superuser upsert: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "--http", addr, "--dir", data)
	serve.Dir = dir // no pb_public next to it: the embedded copy must be used
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Wait()
	defer cancel()

	base := "http://" + addr
	WaitFor(t, base+"/api/health")
	for path, want := range map[string]string{
		"/":                              "Salonbase",
		"/_/":                            "<html",
		"/api/health":                    "API is healthy",
		"/api/collections/ranks/records": `"totalItems":0`, // anonymous: no data
	} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, want %q in %.200s", path, res.StatusCode, want, body)
		}
	}
	checkClientRouting(t, base)
	checkCompression(t, base)
}

// checkCompression: the client's code and the API's JSON travel gzipped to
// a browser that accepts it; files keep their bytes (and byte ranges).
func checkCompression(t *testing.T, base string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	index, _ := io.ReadAll(res.Body)
	res.Body.Close()
	asset := regexp.MustCompile(`/assets/[^"]+\.js`).FindString(string(index))
	for _, path := range []string{asset, "/rooms/r1"} {
		if res := get(path, ""); res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s: %d, Content-Encoding %q, want gzip", path, res.StatusCode, res.Header.Get("Content-Encoding"))
		}
	}

	login, err := http.Post(base+"/api/collections/_superusers/auth-with-password", "application/json",
		strings.NewReader(`{"identity":"root@example.com","password":"1234567890"}`))
	if err != nil {
		t.Fatal(err)
	}
	var auth struct{ Token string }
	json.NewDecoder(login.Body).Decode(&auth)
	login.Body.Close()
	if res := get("/api/collections/users/records?perPage=50", auth.Token); res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("a page of records: %d, Content-Encoding %q, want gzip", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if res := get("/api/health", ""); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("a tiny answer is sent as it is, got Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
}

// checkClientRouting: every page of the web client, opened fresh from an
// e-mail link, gets index.html (never cached); the hashed assets are cached
// for good; unknown API paths answer a JSON 404, never the page; the
// dashboard and the API keep their own routes.
func checkClientRouting(t *testing.T, base string) {
	t.Helper()
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}

	_, index := get("/")
	for _, path := range []string{
		"/dm/abc123", "/rooms/r1?message=m1", "/events/e1", "/forum/topics/t1", "/groups/g1",
		"/live/l1", "/calls/c1", "/join/ABCD-EFGH-JKLM", "/notifications", "/guest/tok",
	} {
		res, body := get(path)
		if res.StatusCode != http.StatusOK || body != index {
			t.Errorf("GET %s: %d, want index.html, got %.120s", path, res.StatusCode, body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, cc)
		}
	}

	asset := regexp.MustCompile(`/assets/[^"]+\.js`).FindString(index)
	if asset == "" {
		t.Fatalf("index.html names no script asset: %.300s", index)
	}
	res, body := get(asset)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "javascript") || len(body) < 1000 {
		t.Errorf("GET %s: %d %s, %d bytes", asset, res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("GET %s: Cache-Control %q, want a year, immutable", asset, cc)
	}
	// a missing asset is the page, not cached as an asset
	if res, _ := get("/assets/gone-123.js"); res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("missing asset: Cache-Control %q", res.Header.Get("Cache-Control"))
	}

	for _, path := range []string{"/api/nothing-here", "/api/salon/no-such-route", "/api/collections/nope/records"} {
		res, body := get(path)
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(body, `"status":404`) {
			t.Errorf("GET %s: %d %s %.120s, want a JSON 404", path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	post, err := http.Post(base+"/api/nothing-here", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusNotFound || !strings.HasPrefix(post.Header.Get("Content-Type"), "application/json") {
		t.Errorf("POST /api/nothing-here: %d %s, want a JSON 404", post.StatusCode, post.Header.Get("Content-Type"))
	}
	res, body = get("/_/")
	if res.StatusCode != http.StatusOK || body == index {
		t.Errorf("GET /_/: %d, the dashboard must not be shadowed", res.StatusCode)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitFor waits for a started binary to answer. The limit only catches a
// server that never comes up: on a 2-core machine under a load average of
// 65, a fresh data dir took 23–45 s to serve (its migrations), so 30 s was
// a timing assertion in disguise.
func WaitFor(t *testing.T, url string) {
	t.Helper()
	waitForWithin(t, url, 3*time.Minute)
}
