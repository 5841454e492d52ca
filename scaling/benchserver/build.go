package benchserver

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Build compiles the salonbase binary of the current directory (the
// repository root) into dir, once, for a bench that starts several servers.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "salonbase")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build (run from the repository root): %w\n%s", err, out)
	}
	return bin, nil
}
