package hooks_test

import (
	"encoding/json"
	"net/url"

	"github.com/pocketbase/dbx"
	"testing"

	"github.com/pocketbase/pocketbase/core"
)

func newRecord(c *core.Collection, values map[string]any) *core.Record {
	r := core.NewRecord(c)
	for k, v := range values {
		r.Set(k, v)
	}
	return r
}

// decode unmarshals a JSON response body or fails the test.
func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

type apiError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

type list[T any] struct {
	Items      []T `json:"items"`
	TotalItems int `json:"totalItems"`
}

func urlq(s string) string { return url.QueryEscape(s) }

func dbxHash(k string, v any) dbx.Expression { return dbx.HashExp{k: v} }
