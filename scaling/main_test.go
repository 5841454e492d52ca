// Package scaling holds the operator drills for running Salonbase past one
// machine: files and backups on a real S3 server, continuous replication
// with Litestream, and kill -9 / restore counts. Each drill drives the built
// salonbase binary over HTTP, as members and operators would, next to the
// real servers (versitygw for S3, litestream) built from tools/go.mod.
package scaling

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// drill holds what every test of the package shares: the salonbase binary
// built once per run and the tool binaries (built once per version).
type drill struct {
	salonbase  string
	versitygw  string
	litestream string
}

// env is set up by TestMain; tests read it only.
var env drill

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scaling:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "salonbase-drill-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)

	env.salonbase = filepath.Join(tmp, "salonbase")
	build := exec.Command("go", "build", "-o", env.salonbase, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build salonbase: %w\n%s", err, out)
	}
	if env.versitygw, err = toolBinary("github.com/versity/versitygw/cmd/versitygw"); err != nil {
		return 0, err
	}
	if env.litestream, err = toolBinary("github.com/benbjohnson/litestream/cmd/litestream"); err != nil {
		return 0, err
	}
	return m.Run(), nil
}
