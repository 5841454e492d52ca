package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBinaryServesEverythingFromItself builds the binary, copies it alone
// into an empty folder and checks that it serves the API, the dashboard and
// the embedded web client on its own SQLite data dir, and that the demo
// command fills that data dir.
func TestBinaryServesEverythingFromItself(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "salonbase")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = os.Environ()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
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
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func WaitFor(t *testing.T, url string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server did not come up at %s", url)
}
