package demo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"salonbase/hooks/salon"
)

// Password is the password of every demo member, printed by the demo
// command. Demo data is for trying Salonbase out, never for production.
const Password = "salon-demo-2026"

type demoMember struct {
	Name, Email, Rank, Role, Lang, Bio string
}

var demoMembers = []demoMember{
	{"Aiko Tanaka", "aiko@example.com", "Platinum", salon.RoleAdmin, "ja", "サロン運営者です。Salon operator."},
	{"Ken Sato", "ken@example.com", "Platinum", salon.RoleTutor, "ja", "Web marketing tutor."},
	{"Mika Ito", "mika@example.com", "Gold", salon.RoleTutor, "ja", "Design tutor."},
	{"Daichi Kobayashi", "daichi@example.com", "Platinum", salon.RoleMember, "ja", "Founder of a small studio."},
	{"Sakura Watanabe", "sakura@example.com", "Gold", salon.RoleMember, "ja", "Freelance illustrator."},
	{"Olivia Brown", "olivia@example.com", "Gold", salon.RoleMember, "en", "Product manager in Osaka."},
	{"Ren Yamada", "ren@example.com", "Silver", salon.RoleMember, "ja", "Learning to code."},
	{"Lucas Martin", "lucas@example.com", "Silver", salon.RoleMember, "en", "Photographer."},
	{"Yuto Kato", "yuto@example.com", "Bronze", salon.RoleMember, "ja", ""},
	{"Emily Clark", "emily@example.com", "Bronze", salon.RoleMember, "en", ""},
	{"Hana Suzuki", "hana@example.com", "Free", salon.RoleMember, "ja", "Just joined!"},
}

// Command is `salonbase demo`: it fills an empty data dir with a small,
// realistic salon so that a new user can try it at once.
func Command(app core.App) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Fill an empty salon with demo members, ranks and settings",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			code, err := Seed(app)
			if err != nil {
				return err
			}
			salon.WaitBackground(app) // the event's announcement
			printDemo(os.Stdout, code, app.Settings().Meta.AppURL)
			return nil
		},
	}
}

// ErrNotEmpty is returned by Seed when the salon already has members.
var ErrNotEmpty = errors.New("the salon already has members: demo data goes only into an empty data dir")

// Seed writes the demo salon in one transaction and returns its invite
// code. It refuses to touch a salon that already has members.
func Seed(app core.App) (inviteCode string, err error) {
	n, err := app.CountRecords("users")
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", ErrNotEmpty
	}

	return inviteCode, app.RunInTransaction(func(tx core.App) error {
		ranks := map[string]string{}
		all, err := tx.FindAllRecords("ranks")
		if err != nil {
			return err
		}
		for _, r := range all {
			ranks[r.GetString("name")] = r.Id
		}

		users, err := tx.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		ids := map[string]string{}
		for _, m := range demoMembers {
			u := core.NewRecord(users)
			u.SetEmail(m.Email)
			u.SetPassword(Password)
			u.SetVerified(true)
			u.Set("name", m.Name)
			u.Set("rank", ranks[m.Rank])
			u.Set("role", m.Role)
			u.Set("lang", m.Lang)
			u.Set("bio", m.Bio)
			if err := tx.Save(u); err != nil {
				return fmt.Errorf("demo member %s: %w", m.Email, err)
			}
			ids[m.Email] = u.Id
		}

		// the seed's own example: Gold and above DM members, Platinum and
		// above contact tutors
		settings, err := salon.Settings(tx)
		if err != nil {
			return err
		}
		settings.Set("dm_mode", "open")
		settings.Set("dm_member_min_rank", ranks["Gold"])
		settings.Set("dm_tutor_min_rank", ranks["Platinum"])
		settings.Set("member_invites", true)
		if err := tx.Save(settings); err != nil {
			return fmt.Errorf("demo settings: %w", err)
		}
		appSettings, err := tx.Settings().Clone()
		if err != nil {
			return err
		}
		appSettings.Meta.AppName = "Demo Salon"
		if err := tx.Save(appSettings); err != nil {
			return fmt.Errorf("demo application name: %w", err)
		}

		codes, err := tx.FindCollectionByNameOrId("invite_codes")
		if err != nil {
			return err
		}
		invite := core.NewRecord(codes)
		invite.Set("owner", ids["aiko@example.com"])
		invite.Set("rank", ranks["Bronze"])
		invite.Set("max_uses", 20)
		invite.Set("expires_at", time.Now().AddDate(0, 1, 0))
		invite.Set("note", "Spring campaign: joins as Bronze")
		if err := tx.Save(invite); err != nil {
			return fmt.Errorf("demo invite: %w", err)
		}
		inviteCode = invite.GetString("code")

		follows, err := tx.FindCollectionByNameOrId("follows")
		if err != nil {
			return err
		}
		for _, pair := range [][2]string{
			{"hana@example.com", "ken@example.com"},
			{"ren@example.com", "ken@example.com"},
			{"olivia@example.com", "mika@example.com"},
			{"sakura@example.com", "aiko@example.com"},
		} {
			f := core.NewRecord(follows)
			f.Set("follower", ids[pair[0]])
			f.Set("followee", ids[pair[1]])
			if err := tx.Save(f); err != nil {
				return fmt.Errorf("demo follow: %w", err)
			}
		}
		return seedLife(tx, ranks, ids)
	})
}

func printDemo(w io.Writer, inviteCode, appURL string) {
	if appURL == "" {
		appURL = "http://127.0.0.1:8090"
	}
	fmt.Fprintf(w, "Demo salon created. Every member's password is %q.\n\n", Password)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tRANK\tROLE")
	for _, m := range demoMembers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Email, m.Name, m.Rank, m.Role)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nIn the salon: rooms Lounge, Gold lounge (Gold and above) and Study room (password "+RoomPassword+"),")
	fmt.Fprintln(w, "the forum (Announcements, General), the group Design club, the Spring meetup in two weeks,")
	fmt.Fprintln(w, "the Salon notebook in the shop and Ken's Marketing Q&A live in three days.")
	fmt.Fprintln(w, "DM settings: Gold and above may DM members; Platinum and above may contact tutors.")
	fmt.Fprintf(w, "\nInvite code (joins as Bronze): %s\n", inviteCode)
	fmt.Fprintf(w, "\nStart the server (salonbase serve), then open:\n")
	tw = tabwriter.NewWriter(w, 0, 2, 3, ' ', 0)
	fmt.Fprintf(tw, "  %s/\tthe web client: log in as aiko@example.com (admin) or hana@example.com\n", appURL)
	fmt.Fprintf(tw, "  %s/join/%s\tsign up with the invite code\n", appURL, inviteCode)
	fmt.Fprintf(tw, "  %s/_/\tthe dashboard; create its login first:\n", appURL)
	tw.Flush()
	fmt.Fprintln(w, "      salonbase superuser upsert you@example.com <password>")
}
