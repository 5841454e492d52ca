package live_test

import (
	"testing"

	"salonbase/testutil"
)

// TestMain removes the test data template if this binary made its own.
func TestMain(m *testing.M) { testutil.Main(m) }
