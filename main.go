// Salonbase: the backend of an online salon in one binary.
package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/hook"

	"salonbase/hooks"
	"salonbase/hooks/demo"
	"salonbase/hooks/salon"
	_ "salonbase/pb_migrations"
)

// The web client is embedded, so a built binary copied alone to another
// folder still serves it.
//
//go:embed all:pb_public
var embeddedPublic embed.FS

func main() {
	// Quiet by default, also under `go run` (PocketBase would turn on dev
	// mode there and print every SQL statement); `--dev` turns it on.
	// Transactions begin IMMEDIATE (salon.DBConnect): under Litestream a
	// deferred one could hold every write for seconds.
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDev: false, DBConnect: salon.DBConnect})
	app.RootCmd.Use = "salonbase"
	app.RootCmd.Short = "Salonbase: an online salon in one binary"
	app.RootCmd.Version = buildVersion()

	var publicDir string
	var automigrate bool
	app.RootCmd.PersistentFlags().StringVar(
		&publicDir,
		"publicDir",
		"",
		"serve the web client from this directory instead of the embedded copy (for development)",
	)
	app.RootCmd.PersistentFlags().BoolVar(
		&automigrate,
		"automigrate",
		false,
		"write a Go migration into ./pb_migrations for every collection change made in the dashboard (for development)",
	)
	app.RootCmd.ParseFlags(os.Args[1:])

	// Go migrations in pb_migrations/. Automigrate only when asked for: it
	// writes source files, which a running salon must never do by surprise.
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{
		Dir:         "pb_migrations",
		Automigrate: automigrate,
	})

	hooks.Register(app)
	app.RootCmd.AddCommand(demo.Command(app))

	bindPublic(app, publicDir)

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// bindPublic serves the web client at / (the embedded copy, or dir). The
// client routes its own pages (/dm/ID, /rooms/ID, /join/CODE ...), so every
// path that is not a file gets index.html; /api/ paths that no route took
// get a JSON 404 instead, so API clients never parse HTML.
func bindPublic(app core.App, dir string) {
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(e *core.ServeEvent) error {
			if !e.Router.HasRoute(http.MethodGet, "/{path...}") {
				e.Router.GET("/{path...}", serveClient(publicFS(dir))).Bind(apis.Gzip())
			}
			e.Router.Bind(gzipAPI())
			return e.Next()
		},
		Priority: 999, // last, so that our own routes win
	})
}

// serveClient serves the client's files with cache headers: the build names
// its assets after their content hash, so they never change and are cached
// for a year; everything else (index.html above all) is revalidated.
func serveClient(fsys fs.FS) func(*core.RequestEvent) error {
	static := apis.Static(fsys, true)
	return func(e *core.RequestEvent) error {
		p := e.Request.URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") || p == "/_" {
			return e.NotFoundError("No such API route: "+p, nil)
		}
		if strings.HasPrefix(p, "/assets/") && fileExists(fsys, strings.TrimPrefix(p, "/")) {
			e.Response.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			e.Response.Header().Set("Cache-Control", "no-cache")
		}
		return static(e)
	}
}

// gzipAPI compresses the API's JSON answers (a page of messages shrinks to a
// fifth: what a member on a slow phone connection waits for). Files keep
// their own encoding and byte ranges (videos seek), and the realtime stream
// is left as it is.
func gzipAPI() *hook.Handler[*core.RequestEvent] {
	gz := apis.GzipWithConfig(apis.GzipConfig{MinLength: 1024})
	return &hook.Handler[*core.RequestEvent]{
		Id: "salonGzipAPI",
		Func: func(e *core.RequestEvent) error {
			p := e.Request.URL.Path
			if !strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api/files/") ||
				strings.HasPrefix(p, "/api/backups/") || strings.HasPrefix(p, "/api/realtime") {
				return e.Next()
			}
			return gz.Func(e)
		},
	}
}

func fileExists(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && !fi.IsDir()
}

func publicFS(dir string) fs.FS {
	if dir != "" {
		return os.DirFS(dir)
	}
	sub, err := fs.Sub(embeddedPublic, "pb_public")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// buildVersion names this build for --version: the module version the Go
// toolchain stamps from the git tag (v1.2.0, or a pseudo-version between
// releases), else the commit, plus the PocketBase it embeds.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "-" + s.Value[:12]
			}
			if s.Key == "vcs.modified" && s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/pocketbase/pocketbase" {
			v += " (PocketBase " + dep.Version + ")"
		}
	}
	return v
}
