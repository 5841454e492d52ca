package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsWorkWithEncryptionKey: every command an operator runs works
// with --encryptionEnv, and a Stripe key saved in salon_settings is not in
// the database files in plain text. Sequential: it sets the key in the
// environment the commands inherit.
func TestCommandsWorkWithEncryptionKey(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "pb_data")
	t.Setenv("SALONBASE_TEST_KEY", "0123456789abcdef0123456789abcdef")
	key := []string{"--dir", data, "--encryptionEnv", "SALONBASE_TEST_KEY"}
	for _, args := range [][]string{
		{"demo"},
		{"superuser", "upsert", "root@example.com", "1234567890"},
		{"migrate", "up"},
	} {
		if out, err := exec.Command(bin, append(args, key...)...).CombinedOutput(); err != nil {
			t.Fatalf("%s with the key: %v\n%s", args[0], err, out)
		}
	}

	addr := freeAddr(t)
	srv := startLogged(t, dir, bin, append([]string{"serve", "--http", addr}, key...)...)
	base := "http://" + addr
	WaitFor(t, base+"/api/health")
	token := superuserToken(t, base)
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	if status, body := do(http.MethodGet, "/api/settings", ""); status != http.StatusOK {
		t.Fatalf("PocketBase settings with the key: %d %s", status, body)
	}
	status, body := do(http.MethodGet, "/api/collections/salon_settings/records", "")
	id := between(body, `"id":"`, `"`)
	if status != http.StatusOK || id == "" {
		t.Fatalf("salon_settings: %d %s", status, body)
	}
	const secret = "sk_test_plaintext_must_not_reach_the_disk"
	const lkSecret = "livekit-secret-plaintext-must-not-reach-the-disk"
	if status, body := do(http.MethodPatch, "/api/collections/salon_settings/records/"+id,
		`{"stripe_secret_key":"`+secret+`","livekit_api_secret":"`+lkSecret+`"}`); status != http.StatusOK {
		t.Fatalf("save the Stripe key and the LiveKit secret: %d %s", status, body)
	}
	srv.stop()

	files, _ := filepath.Glob(filepath.Join(data, "data.db*"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("%s holds the Stripe key in plain text", filepath.Base(f))
		}
		if bytes.Contains(raw, []byte(lkSecret)) {
			t.Fatalf("%s holds the LiveKit secret in plain text", filepath.Base(f))
		}
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
