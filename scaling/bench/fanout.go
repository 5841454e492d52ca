package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// fanoutSection is the room fan-out part of the table: scaling/fanbench,
// built from this checkout, run against the same salonbase binary (it
// starts its own server in a child process and holds the subscribers'
// SSE connections in its own), and its table printed as it prints it.
// fanbench stays a command of its own for runs with other sizes.
func fanoutSection(b *bench) (string, error) {
	bin := filepath.Join(b.dir, "fanbench")
	if out, err := exec.Command("go", "build", "-o", bin, "./scaling/fanbench").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./scaling/fanbench (run from the repository root): %w\n%s", err, out)
	}
	sizes, messages := b.fanout, "20"
	if sizes == "" {
		sizes, messages = "0,1000", "10"
		if b.full {
			sizes, messages = "0,1000,5000", "20"
		}
	}
	cmd := exec.Command(bin, "-bin", b.bin, "-n", sizes, "-messages", messages)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("fanbench -n %s: %w", sizes, err)
	}
	return fmt.Sprintf("Room fan-out: one member posts %s messages into a room of N subscribers, each once the previous one"+
		" reached every subscriber (goal: delivery p99 < 200 ms at 5,000 subscribers, the create call flat in room size;"+
		" `go run ./scaling/fanbench -bin BINARY -n %s -messages %s`)\n\n%s", messages, sizes, messages, out), nil
}
