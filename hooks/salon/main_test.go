package salon_test

import (
	"testing"

	"salonbase/testutil"
)

// TestMain removes the shared migrated data dir after the tests.
func TestMain(m *testing.M) { testutil.Main(m) }
