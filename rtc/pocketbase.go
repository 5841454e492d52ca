package rtc

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Service is the media server as part of a PocketBase app: it starts when
// the app starts serving HTTP (so CLI commands such as `migrate` never open
// UDP ports) and stops when the app terminates.
type Service struct {
	mu  sync.Mutex
	srv *Server
}

// Register binds the media API (/api/rtc/...) to app. config is read when
// the app starts serving (settings stored in the database are available by
// then); authz decides every request, events reports what happened.
func Register(app core.App, authz Authorizer, events Events, config func(core.App) (Config, error)) *Service {
	svc := &Service{}
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		cfg, err := config(e.App)
		if err != nil {
			return fmt.Errorf("rtc config: %w", err)
		}
		srv, err := New(cfg, authz, events, e.App.Logger().With("component", "rtc"))
		if err != nil {
			return fmt.Errorf("rtc server: %w", err)
		}
		svc.mu.Lock()
		old := svc.srv
		svc.srv = srv
		svc.mu.Unlock()
		if old != nil {
			_ = old.Close()
		}
		// One route per method: an any-method route would conflict with the
		// static site's "GET /{path...}" in Go's ServeMux.
		h := apis.WrapStdHandler(srv.Handler())
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			e.Router.Route(m, "/api/rtc/{path...}", h)
		}
		return e.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		svc.mu.Lock()
		srv := svc.srv
		svc.srv = nil
		svc.mu.Unlock()
		if srv != nil {
			_ = srv.Close()
		}
		return e.Next()
	})
	return svc
}

// Server is the running media server, or nil when the app is not serving.
func (v *Service) Server() *Server {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.srv
}

// EndStream disconnects a stream's publisher and viewers (no-op when not serving).
func (v *Service) EndStream(id string) {
	if srv := v.Server(); srv != nil {
		srv.EndStream(id)
	}
}

// EndCall disconnects both parties of a call (no-op when not serving).
func (v *Service) EndCall(id string) {
	if srv := v.Server(); srv != nil {
		srv.EndCall(id)
	}
}

// AwaitStream gives the publisher of a stream that was live before a
// restart the rejoin window to come back (no-op when not serving).
func (v *Service) AwaitStream(id string) {
	if srv := v.Server(); srv != nil {
		srv.AwaitStream(id)
	}
}

// AllowOffer counts user's offer against the media server's per-member
// limit (no limit when not serving).
func (v *Service) AllowOffer(user string) error {
	if srv := v.Server(); srv != nil {
		return srv.AllowOffer(user)
	}
	return nil
}
