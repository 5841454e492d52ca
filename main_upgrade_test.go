package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"salonbase/hooks/notify"
)

// previousRelease is v0.1.0 (CHANGELOG.md): the last commit of main before
// the first change listed under "Unreleased".
const previousRelease = "379df712e52ae89819f134e94943415425db358c"

// TestUpgradeFromThePreviousRelease: a salon made and used by the previous
// release's binary (its migrations, its demo, members writing through its
// API) is opened by this build's binary. The new migrations run at start,
// and the members, their messages, the room password and the salon's name
// are all still there and work.
func TestUpgradeFromThePreviousRelease(t *testing.T) {
	t.Parallel()
	oldBin := previousReleaseBinary(t)
	newBin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "pb_data")

	// the previous release makes the salon
	for _, args := range [][]string{
		{"demo"},
		{"superuser", "upsert", "root@example.com", "1234567890"},
	} {
		if out, err := exec.Command(oldBin, append(args, "--dir", data)...).CombinedOutput(); err != nil {
			t.Fatalf("previous release %s: %v\n%s", args[0], err, out)
		}
	}
	addr := freeAddr(t)
	old := startLogged(t, dir, oldBin, "serve", "--http", addr, "--dir", data)
	api := &apiClient{t: t, base: "http://" + addr}
	WaitFor(t, api.base+"/api/health")
	root := superuserToken(t, api.base)
	aiko, hana, ren := api.login("aiko@example.com"), api.login("hana@example.com"), api.login("ren@example.com")

	settings := api.must(http.MethodGet, "/api/collections/salon_settings/records", root, nil)
	settingsID := settings["items"].([]any)[0].(map[string]any)["id"].(string)
	api.must(http.MethodPatch, "/api/collections/salon_settings/records/"+settingsID, root, map[string]any{"salon_name": "Old Salon"})
	lounge := api.must(http.MethodPost, "/api/collections/rooms/records", root, map[string]any{"name": "Lounge"})["id"].(string)
	study := api.must(http.MethodPost, "/api/collections/rooms/records", root,
		map[string]any{"name": "Study", "password": "room-pass-2026", "password_protected": true})["id"].(string)
	api.must(http.MethodPost, "/api/salon/rooms/"+lounge+"/join", ren.token, map[string]any{})
	msg := api.must(http.MethodPost, "/api/collections/room_messages/records", ren.token, map[string]any{"room": lounge, "body": "Hello from v0.1.0"})["id"].(string)
	dm := api.must(http.MethodPost, "/api/collections/dm_messages/records", aiko.token,
		map[string]any{"recipient": hana.id, "subject": "Welcome", "body": "Written before the upgrade"})["id"].(string)
	old.stop()

	// this build opens it: the new migrations run at start
	addr = freeAddr(t)
	startLogged(t, dir, newBin, "serve", "--http", addr, "--dir", data)
	api.base = "http://" + addr
	WaitFor(t, api.base+"/api/health")
	root = superuserToken(t, api.base)
	hana, ren, aiko = api.login("hana@example.com"), api.login("ren@example.com"), api.login("aiko@example.com")

	if got := api.must(http.MethodGet, "/api/collections/users/records?perPage=1", root, nil)["totalItems"]; got != float64(11) {
		t.Fatalf("members after the upgrade: %v, want the 11 demo members", got)
	}
	if got := api.must(http.MethodGet, "/api/collections/dm_messages/records/"+dm, hana.token, nil); got["body"] != "Written before the upgrade" {
		t.Fatalf("the DM after the upgrade: %v", got)
	}
	if got := api.must(http.MethodGet, "/api/collections/room_messages/records/"+msg, ren.token, nil); got["body"] != "Hello from v0.1.0" {
		t.Fatalf("the room message after the upgrade: %v", got)
	}
	// the room password set by the previous release still opens the room, and only it
	if status, body := api.do(http.MethodPost, "/api/salon/rooms/"+study+"/join", ren.token, map[string]any{"password": "wrong"}); status != http.StatusForbidden {
		t.Fatalf("a wrong room password after the upgrade: %d %s", status, body)
	}
	api.must(http.MethodPost, "/api/salon/rooms/"+study+"/join", ren.token, map[string]any{"password": "room-pass-2026"})
	// the salon's name moved into Settings → Application name
	if got := api.must(http.MethodGet, "/api/settings", root, nil)["meta"].(map[string]any)["appName"]; got != "Old Salon" {
		t.Fatalf("Application name after the upgrade: %v", got)
	}
	// what this release added is there, and writing works
	if got := api.must(http.MethodGet, "/api/collections/mail_templates/records?perPage=1", root, nil)["totalItems"]; got != float64(2*len(notify.Kinds)) {
		t.Fatalf("mail templates after the upgrade: %v", got)
	}
	api.must(http.MethodPost, "/api/collections/dm_messages/records", aiko.token,
		map[string]any{"recipient": hana.id, "subject": "After", "body": "Written after the upgrade"})
	if got := api.must(http.MethodGet, "/api/salon/dm/unread", hana.token, nil)["unread"]; got != float64(2) {
		t.Fatalf("hana's unread DMs after the upgrade: %v, want the old and the new one", got)
	}
}

type apiClient struct {
	t    *testing.T
	base string
}

type member struct{ id, token string }

func (c *apiClient) do(method, path, token string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

func (c *apiClient) must(method, path, token string, body any) map[string]any {
	c.t.Helper()
	status, out := c.do(method, path, token, body)
	var m map[string]any
	if status != http.StatusOK || json.Unmarshal(out, &m) != nil {
		c.t.Fatalf("%s %s: %d %s", method, path, status, out)
	}
	return m
}

// login signs a demo member in (every demo member has the same password).
func (c *apiClient) login(email string) member {
	c.t.Helper()
	auth := c.must(http.MethodPost, "/api/collections/users/auth-with-password", "",
		map[string]any{"identity": email, "password": "salon-demo-2026"})
	return member{id: auth["record"].(map[string]any)["id"].(string), token: auth["token"].(string)}
}

// previousReleaseBinary builds the previous release from the git history,
// once per machine: the binary is kept in the tools cache
// (SALONBASE_TOOLS_CACHE, default $XDG_CACHE_HOME/salonbase-tools).
func previousReleaseBinary(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("SALONBASE_TOOLS_CACHE")
	if cache == "" {
		userCache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(userCache, "salonbase-tools")
	}
	bin := filepath.Join(cache, fmt.Sprintf("salonbase-%s-%s-%s", previousRelease[:12], runtime.GOOS, runtime.GOARCH), "salonbase")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	archive, err := exec.Command("git", "archive", "--format=tar", previousRelease).Output()
	if err != nil {
		t.Fatalf("the upgrade test builds the previous release (%s) from the git history, which this checkout lacks "+
			"(a shallow clone? run git fetch --unshallow): %v", previousRelease[:12], err)
	}
	src := t.TempDir()
	if err := untar(bytes.NewReader(archive), src); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", bin+".tmp", ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the previous release: %v\n%s", err, out)
	}
	if err := os.Rename(bin+".tmp", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("untar: %s leaves the folder", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
				var f *os.File
				if f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777); err == nil {
					_, err = io.Copy(f, tr)
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
}
