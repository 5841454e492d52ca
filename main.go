// Salonbase: the backend of an online salon in one binary.
package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"
	"os"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/osutils"

	"salonbase/hooks"
	"salonbase/hooks/demo"
	_ "salonbase/pb_migrations"
)

// The web client is embedded, so a built binary copied alone to another
// folder still serves it.
//
//go:embed all:pb_public
var embeddedPublic embed.FS

func main() {
	app := pocketbase.New()

	var publicDir string
	app.RootCmd.PersistentFlags().StringVar(
		&publicDir,
		"publicDir",
		"",
		"serve the web client from this directory instead of the embedded copy (for development)",
	)
	app.RootCmd.ParseFlags(os.Args[1:])

	// Go migrations in pb_migrations/; automigrate only while developing
	// with `go run`, so a production binary never writes migration files.
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{
		Dir:         "pb_migrations",
		Automigrate: osutils.IsProbablyGoRun(),
	})

	hooks.Register(app)
	app.RootCmd.AddCommand(demo.Command(app))

	bindPublic(app, publicDir)

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// bindPublic serves the web client at / (the embedded copy, or dir).
func bindPublic(app core.App, dir string) {
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(e *core.ServeEvent) error {
			if !e.Router.HasRoute(http.MethodGet, "/{path...}") {
				e.Router.GET("/{path...}", apis.Static(publicFS(dir), true))
			}
			return e.Next()
		},
		Priority: 999, // last, so that our own routes win
	})
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
