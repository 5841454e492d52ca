package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/domodwyer/mailyak/v3"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// smtpMailer sends as PocketBase's mailer.SMTPClient does (the same MIME
// through mailyak, STARTTLS when offered, PLAIN or LOGIN auth), over a
// connection that carries a deadline. mailer.SMTPClient has none: a server
// that stops answering would hold its send forever, and a send given up on
// while still running could deliver the mail after the outbox had already
// retried it. Here the connection is closed when the deadline passes, so a
// send that failed is over.
type smtpMailer struct {
	cfg     core.SMTPConfig
	timeout time.Duration
}

func (c *smtpMailer) Send(m *mailer.Message) error {
	yak := mailyak.New("", nil) // only builds the message
	if c.cfg.LocalName != "" {
		yak.LocalName(c.cfg.LocalName)
	}
	if m.From.Name != "" {
		yak.FromName(m.From.Name)
	}
	yak.From(m.From.Address)
	yak.Subject(m.Subject)
	yak.HTML().Set(m.HTML)
	yak.Plain().Set(m.Text)
	var rcpt []string
	for _, a := range m.To {
		rcpt = append(rcpt, a.Address)
	}
	yak.To(addresses(m.To)...)
	for k, v := range m.Headers {
		yak.AddHeader(k, v)
	}
	body, err := yak.MimeBuf()
	if err != nil {
		return fmt.Errorf("smtp: build message: %w", err)
	}

	deadline := time.Now().Add(c.timeout)
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	dialer := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	if c.cfg.TLS {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, &tls.Config{ServerName: c.cfg.Host})
	} else {
		conn, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: connect: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	err = c.exchange(conn, m.From.Address, rcpt, body.Bytes())
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("smtp: no answer within %s: %w", c.timeout, err)
	}
	return err
}

func (c *smtpMailer) exchange(conn net.Conn, from string, rcpt []string, body []byte) error {
	cl, err := smtp.NewClient(conn, c.cfg.Host)
	if err != nil {
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer cl.Close()
	if c.cfg.LocalName != "" {
		if err := cl.Hello(c.cfg.LocalName); err != nil {
			return fmt.Errorf("smtp: hello: %w", err)
		}
	}
	if ok, _ := cl.Extension("STARTTLS"); ok && !c.cfg.TLS {
		if err := cl.StartTLS(&tls.Config{ServerName: c.cfg.Host}); err != nil {
			return fmt.Errorf("smtp: starttls: %w", err)
		}
	}
	if c.cfg.Username != "" || c.cfg.Password != "" {
		var auth smtp.Auth = smtp.PlainAuth("", c.cfg.Username, c.cfg.Password, c.cfg.Host)
		if c.cfg.AuthMethod == mailer.SMTPAuthLogin {
			auth = &loginAuth{c.cfg.Username, c.cfg.Password, c.cfg.Host}
		}
		if err := cl.Auth(auth); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := cl.Mail(from); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	for _, to := range rcpt {
		if err := cl.Rcpt(to); err != nil {
			return fmt.Errorf("smtp: RCPT TO: %w", err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtp: message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message: %w", err)
	}
	_ = cl.Quit() // the message is accepted; a lost QUIT changes nothing
	return nil
}

func addresses(list []mail.Address) []string {
	out := make([]string, 0, len(list))
	for _, a := range list {
		if a.Name == "" {
			out = append(out, a.Address) // no angle brackets, as PocketBase writes it
		} else {
			out = append(out, a.String())
		}
	}
	return out
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks (PocketBase's own
// is unexported), with the same rule as smtp.PlainAuth: only over TLS or
// to localhost.
type loginAuth struct{ username, password, host string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("smtp: LOGIN auth needs an encrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("smtp: wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(string(fromServer)) {
	case "username:":
		return []byte(a.username), nil
	case "password:":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("smtp: unexpected LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}
