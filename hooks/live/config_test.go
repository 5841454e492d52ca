package live_test

import (
	"testing"

	"salonbase/hooks/live"
)

// The binary takes loopback candidates from SALON_RTC_LOOPBACK=1 (demos, the
// browser tests); nothing else turns them on.
func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"1": true, "": false, "0": false, "true": false} {
		got := live.ConfigFromEnv(func(k string) string {
			if k == "SALON_RTC_LOOPBACK" {
				return v
			}
			return ""
		})
		if got.Loopback != want {
			t.Errorf("SALON_RTC_LOOPBACK=%q: loopback %v, want %v", v, got.Loopback, want)
		}
	}
}
