package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// ToolBinary returns the path of a server pinned as a Go tool in the module
// at moduleDir (tools/, or a module of its own when its dependencies clash),
// building it the first time a given version is asked for. The binaries live
// in a cache folder keyed by module version (SALONBASE_TOOLS_CACHE, default
// $XDG_CACHE_HOME/salonbase-tools), so only a version bump rebuilds them.
func ToolBinary(moduleDir, pkg string) (string, error) {
	moduleDir, err := filepath.Abs(moduleDir)
	if err != nil {
		return "", err
	}
	list := exec.Command("go", "list", "-f", "{{.Module.Version}}", pkg)
	list.Dir = moduleDir
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s (in %s): %w", pkg, moduleDir, err)
	}
	version := strings.TrimSpace(string(out))

	cache, err := toolsCache()
	if err != nil {
		return "", err
	}
	name := path.Base(pkg)
	if name == "server" || name == "cmd" {
		// livekit-server's command is …/cmd/server: name it after its module
		name = path.Base(strings.TrimSuffix(strings.TrimSuffix(pkg, "/"+name), "/cmd"))
	}
	bin := filepath.Join(cache, fmt.Sprintf("%s-%s-%s-%s", name, version, runtime.GOOS, runtime.GOARCH), name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}

	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	// build next to the final path and rename, so that a concurrent run
	// never sees a half-written binary
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	build := exec.Command("go", "build", "-trimpath", "-o", tmp, pkg)
	build.Dir = moduleDir
	if out, err := build.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

func toolsCache() (string, error) {
	if dir := os.Getenv("SALONBASE_TOOLS_CACHE"); dir != "" {
		return dir, nil
	}
	userCache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("tools cache: %w", err)
	}
	return filepath.Join(userCache, "salonbase-tools"), nil
}
