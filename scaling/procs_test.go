package scaling

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is a server process started by a test, in its own process group so
// that kill -9 reaches its children too (litestream -exec runs salonbase).
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startProc starts name with args; extraEnv (KEY=value) adds to the
// inherited environment.
func startProc(t testing.TB, extraEnv []string, name string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(drillEnviron(), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill9()
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", filepath.Base(name), p.logTail(40))
		}
	})
	return p
}

// kill9 kills the process group at once, as a lost machine would.
func (p *proc) kill9() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop asks the process group to shut down gracefully and waits.
func (p *proc) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.kill9()
	}
}

// waitLog waits until the process's log has a line containing want.
func (p *proc) waitLog(t testing.TB, want string, timeout time.Duration) {
	t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if b, _ := os.ReadFile(p.log); strings.Contains(string(b), want) {
			return
		}
	}
	t.Fatalf("no %q in the log within %s", want, timeout)
}

func (p *proc) logTail(lines int) string {
	b, _ := os.ReadFile(p.log)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHealthy polls url until it answers 200, or fails the test when p
// exits or the test binary's deadline nears (a fresh data dir's migrations
// take seconds on a quiet machine and minutes on a loaded one, beside the
// drills that run in parallel).
func waitHealthy(t testing.TB, p *proc, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok && end.Add(-30*time.Second).After(deadline) {
			deadline = end.Add(-30 * time.Second)
		}
	}
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before serving:\n%s", p.cmd.Path, p.logTail(40))
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer at %s:\n%s", p.cmd.Path, url, p.logTail(40))
}

// memStatus reads VmRSS and VmHWM (peak RSS) of pid, in bytes.
func memStatus(pid int) (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak, s.Err()
}

// resetPeak makes VmHWM start again from the current RSS.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// drillEnviron is the test's environment minus AWS_* settings: the drills
// pass their S3 credentials explicitly, and a shell's AWS_CA_BUNDLE or
// profile must not change what they test (litestream's AWS SDK refuses to
// start with AWS_CA_BUNDLE and its own HTTP client).
func drillEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
