//go:build !unix

package testutil

import "os"

// lockFile does not lock where flock is missing: test binaries that start
// together may each migrate a template, and the atomic rename in
// sharedTemplate keeps the one that lands first.
func lockFile(*os.File) error { return nil }
