// Command mailcapture is the web client's e2e mail server: a real SMTP
// server (go-smtp) on a free loopback port. It prints "listening HOST:PORT",
// then every message it receives as one JSON line (to, subject, text,
// html), so a test can follow the links a salon's e-mails carry.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"salonbase/testutil"
)

type capture struct {
	mu  sync.Mutex
	out *json.Encoder
}

type session struct {
	c  *capture
	to []string
}

func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := testutil.ParseMail(raw)
	if err != nil {
		return fmt.Errorf("parse mail: %w", err)
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.out.Encode(map[string]any{"to": s.to, "subject": m.Subject, "text": m.Text, "html": m.HTML})
}

func main() {
	c := &capture{out: json.NewEncoder(os.Stdout)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening", l.Addr().String())
	log.Fatal(srv.Serve(l))
}
