package salon_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/salon"
)

// TestRefusalCanBeLogged: PocketBase's request log stores an error's data
// as a JSON map; a refusal's data must marshal, with its code, or the
// refused request's log line is dropped.
func TestRefusalCanBeLogged(t *testing.T) {
	t.Parallel()
	err := salon.Refuse(http.StatusConflict, "client_id_reused", "This client_id was used for another message.").ApiError()
	v, jerr := types.JSONMap[any]{"details": err.RawData()}.Value() // as apis.logRequest stores it
	if jerr != nil {
		t.Fatalf("the refusal's data does not marshal: %v", jerr)
	}
	if s, _ := v.(string); !strings.Contains(s, `"code":"client_id_reused"`) || !strings.Contains(s, "another message") {
		t.Fatalf("logged data lacks the code and message: %v", v)
	}
}
