package scaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	rootEmail    = "root@example.com"
	rootPassword = "drill-password-0123"
)

// newDataDir makes a fresh pb_data folder with the schema and an operator
// (superuser) account, as `salonbase superuser upsert` does on a new host.
func newDataDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pb_data")
	runCmd(t, env.salonbase, "superuser", "upsert", rootEmail, rootPassword, "--dir", dir)
	return dir
}

func runCmd(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = drillEnviron()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// salon is a running salonbase server and an operator session on it.
type salon struct {
	Base string
	Dir  string
	proc *proc
	Root *client
}

// startSalon runs `salonbase serve` on dataDir; extraEnv as for startProc.
func startSalon(t testing.TB, dataDir string, extraEnv ...string) *salon {
	t.Helper()
	addr := freeAddr(t)
	s := &salon{Base: "http://" + addr, Dir: dataDir}
	s.proc = startProc(t, extraEnv, env.salonbase, "serve", "--http", addr, "--dir", dataDir)
	waitHealthy(t, s.proc, s.Base+"/api/health")
	s.login(t)
	return s
}

// startSalonWith runs salonbase through a wrapper command (litestream
// replicate -exec): the caller gives the wrapper's arguments and the
// address salonbase listens on.
func startSalonWith(t testing.TB, dataDir, addr, wrapper string, args ...string) *salon {
	t.Helper()
	s := &salon{Base: "http://" + addr, Dir: dataDir}
	s.proc = startProc(t, nil, wrapper, args...)
	waitHealthy(t, s.proc, s.Base+"/api/health")
	s.login(t)
	return s
}

func (s *salon) login(t testing.TB) {
	t.Helper()
	s.Root = &client{base: s.Base}
	var auth struct{ Token string }
	s.Root.mustJSON(t, "POST", "/api/collections/_superusers/auth-with-password",
		map[string]any{"identity": rootEmail, "password": rootPassword}, &auth, 200)
	s.Root.token = auth.Token
}

var memberSeq atomic.Int64

// member adds a new member as the operator (a signup would wait for its
// address to be confirmed by mail) and logs them in.
func (s *salon) member(t testing.TB) *client {
	t.Helper()
	n := memberSeq.Add(1)
	email := fmt.Sprintf("member%d-%d@example.com", n, time.Now().UnixNano())
	anon := &client{base: s.Base}
	s.Root.mustJSON(t, "POST", "/api/collections/users/records", map[string]any{
		"email": email, "password": rootPassword, "passwordConfirm": rootPassword,
		"name": fmt.Sprintf("Member %d", n), "verified": true,
	}, nil, 200)
	var auth struct {
		Token  string
		Record struct{ Id string }
	}
	anon.mustJSON(t, "POST", "/api/collections/users/auth-with-password",
		map[string]any{"identity": email, "password": rootPassword}, &auth, 200)
	return &client{base: s.Base, token: auth.Token, ID: auth.Record.Id}
}

// settings patches the app settings as the operator (the dashboard's
// Settings pages do the same call).
func (s *salon) settings(t testing.TB, patch map[string]any) {
	t.Helper()
	s.Root.mustJSON(t, "PATCH", "/api/settings", patch, nil, 200)
}

// client is an HTTP API session (a member, a guest or the operator).
type client struct {
	base  string
	token string
	ID    string
	http  http.Client
}

// do sends a JSON body (or none) and decodes a JSON answer into out.
func (c *client) do(method, path string, body any, out any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

func (c *client) send(req *http.Request, out any) (int, []byte, error) {
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	if out != nil && res.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, raw, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return res.StatusCode, raw, nil
}

func (c *client) mustJSON(t testing.TB, method, path string, body, out any, want int) {
	t.Helper()
	status, raw, err := c.do(method, path, body, out)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %v, want %d: %.300s", method, path, status, err, want, raw)
	}
}

// upload is a file part of a multipart form.
type upload struct {
	Field string
	Name  string
	Body  io.Reader
}

// multipart sends fields and files the way the SDKs send FormData; the
// body is streamed, never held whole in the test's memory.
func (c *client) multipart(method, path string, fields map[string]string, files []upload, out any) (int, []byte, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for k, v := range fields {
				if err := mw.WriteField(k, v); err != nil {
					return err
				}
			}
			for _, f := range files {
				part, err := mw.CreateFormFile(f.Field, f.Name)
				if err != nil {
					return err
				}
				if _, err := io.Copy(part, f.Body); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(method, c.base+path, pr)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req, out)
}

// fileToken asks for a short-lived token for protected files.
func (c *client) fileToken(t testing.TB) string {
	t.Helper()
	var out struct{ Token string }
	c.mustJSON(t, "POST", "/api/files/token", nil, &out, 200)
	return out.Token
}

// get fetches a URL path without the Authorization header (as an <img> or
// a download link would), returning the status and body.
func get(t testing.TB, base, path string) (int, []byte) {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

func fileURL(collection, record, name, token string) string {
	u := fmt.Sprintf("/api/files/%s/%s/%s", collection, record, url.PathEscape(name))
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	return u
}
