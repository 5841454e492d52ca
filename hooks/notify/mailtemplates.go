package notify

import (
	"fmt"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// bindMailTemplates keeps the mail_templates rows the operator edits in
// the dashboard sound: a placeholder the e-mail cannot fill in, or a stray
// brace, is refused with a 400 that names it and the placeholders allowed;
// the read-only placeholders field always lists them.
func bindMailTemplates(app core.App) {
	setPlaceholders := func(e *core.RecordEvent) error {
		e.Record.Set("placeholders", braced(MailPlaceholders(e.Record.GetString("kind"))))
		return e.Next()
	}
	app.OnRecordCreate("mail_templates").BindFunc(setPlaceholders)
	app.OnRecordUpdate("mail_templates").BindFunc(setPlaceholders)

	app.OnRecordValidate("mail_templates").BindFunc(func(e *core.RecordEvent) error {
		kind := e.Record.GetString("kind")
		for _, field := range []string{"subject", "body"} {
			if err := CheckMailTemplate(kind, e.Record.GetString(field)); err != nil {
				msg := fmt.Sprintf("The %s of the %s e-mail (%s): %s.", field, kind, e.Record.GetString("lang"), err)
				return router.NewBadRequestError(msg, validation.Errors{
					field: validation.NewError("validation_mail_placeholder", strings.TrimSuffix(msg, ".")),
				})
			}
		}
		return e.Next()
	})
}
