package scaling

import (
	"salonbase/testutil"
)

// toolBinary returns the path of a server pinned in tools/go.mod, built once
// per version into the shared tools cache.
func toolBinary(pkg string) (string, error) {
	return testutil.ToolBinary("../tools", pkg)
}
