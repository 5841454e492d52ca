package testutil

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// MailServer is a real SMTP server (go-smtp) on a free local port that
// keeps what it receives.
type MailServer struct {
	Host string
	Port int

	mu       sync.Mutex
	msgs     []ReceivedMail
	failNext int           // reject this many DATA commands
	delay    time.Duration // wait before accepting each message
	open     int           // sessions not yet over
	stallN   int           // stall this many RCPT commands …
	stall    time.Duration // … for this long before answering
	arrived  chan struct{}
}

type ReceivedMail struct {
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	Header  mail.Header
}

func StartMailServer(t testing.TB) *MailServer {
	t.Helper()
	ms := &MailServer{arrived: make(chan struct{}, 100000)}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ms.mu.Lock()
		ms.open++
		ms.mu.Unlock()
		return &mailSession{ms: ms}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	addr := l.Addr().(*net.TCPAddr)
	ms.Host, ms.Port = "127.0.0.1", addr.Port
	return ms
}

// FailNext makes the server reject the next n messages (DATA commands).
func (ms *MailServer) FailNext(n int) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.failNext = n
}

// SetDelay makes the server wait d before accepting each message.
func (ms *MailServer) SetDelay(d time.Duration) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.delay = d
}

// StallNext makes the server wait d before answering each of the next n
// RCPT commands, as a hung server does; the conversation goes on after it
// if the client is still there.
func (ms *MailServer) StallNext(n int, d time.Duration) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.stallN, ms.stall = n, d
}

// Messages returns a copy of what arrived so far.
func (ms *MailServer) Messages() []ReceivedMail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]ReceivedMail(nil), ms.msgs...)
}

// WaitFor waits until n messages arrived in total, or fails.
func (ms *MailServer) WaitFor(t testing.TB, n int) []ReceivedMail {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := ms.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-ms.arrived:
		case <-deadline:
			t.Fatalf("waited for %d e-mails, got %d", n, len(ms.Messages()))
		}
	}
}

// WaitIdle waits until every SMTP conversation has ended, or fails.
func (ms *MailServer) WaitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms.mu.Lock()
		open := ms.open
		ms.mu.Unlock()
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d SMTP conversations still open", open)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type mailSession struct {
	ms   *MailServer
	from string
	to   []string
}

func (s *mailSession) Reset() { s.from, s.to = "", nil }
func (s *mailSession) Logout() error {
	s.ms.mu.Lock()
	s.ms.open--
	s.ms.mu.Unlock()
	return nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ms.mu.Lock()
	var stall time.Duration
	if s.ms.stallN > 0 {
		s.ms.stallN--
		stall = s.ms.stall
	}
	s.ms.mu.Unlock()
	time.Sleep(stall)
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.mu.Lock()
	fail := s.ms.failNext > 0
	if fail {
		s.ms.failNext--
	}
	delay := s.ms.delay
	s.ms.mu.Unlock()
	if fail {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	time.Sleep(delay)
	m, err := parseMail(raw)
	if err != nil {
		return err
	}
	m.From, m.To = s.from, s.to
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, m)
	s.ms.mu.Unlock()
	s.ms.arrived <- struct{}{}
	return nil
}

// parseMail reads the subject and the text and HTML parts of a message.
func parseMail(raw []byte) (ReceivedMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ReceivedMail{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return ReceivedMail{}, err
	}
	out := ReceivedMail{Subject: subject, Header: msg.Header}
	err = walkParts(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &out)
	return out, err
}

func walkParts(contentType, encoding string, body io.Reader, out *ReceivedMail) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkParts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, out); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		out.Text = string(b)
	case "text/html":
		out.HTML = string(b)
	}
	return nil
}

// UseMailServer points app's SMTP settings at ms with a real settings save
// (as the dashboard's Mail settings page does: the app reloads them, and the
// outbox worker learns them from that reload). Call it before Serve starts
// the worker: PocketBase v0.40.4 changes its logger's level at each settings
// reload without the lock the logger's readers take, so a save while the
// worker logs is a data race inside PocketBase (the race detector says so). On a
// tests.TestApp it also undoes the test mailer swap (tests.TestApp replaces
// the mailer with its TestMailer in an OnMailerSend hook): the mailer the
// product chose is put back, so mail goes through the product's path and
// over real SMTP.
func UseMailServer(t testing.TB, app core.App, ms *MailServer) {
	t.Helper()
	s, err := app.Settings().Clone()
	if err != nil {
		t.Fatal(err)
	}
	s.SMTP.Enabled = true
	s.SMTP.Host = ms.Host
	s.SMTP.Port = ms.Port
	s.SMTP.TLS = false
	s.Meta.AppURL = "https://salon.example.com"
	s.Meta.SenderName = "Salon"
	s.Meta.SenderAddress = "no-reply@salon.example.com"
	if err := app.Save(s); err != nil {
		t.Fatalf("save SMTP settings: %v", err)
	}

	var chosen sync.Map // *core.MailerEvent → the mailer before the swap
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Id: "testRealSMTPRemember",
		Func: func(e *core.MailerEvent) error {
			chosen.Store(e, e.Mailer)
			defer chosen.Delete(e)
			return e.Next()
		},
		Priority: -100000, // before tests.TestApp's swap (-99999)
	})
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Id: "testRealSMTP",
		Func: func(e *core.MailerEvent) error {
			if m, ok := chosen.Load(e); ok {
				e.Mailer = m.(mailer.Mailer)
			}
			return e.Next()
		},
		Priority: 0, // after tests.TestApp's swap
	})
}

// ParseMail reads the subject and the text and HTML parts of a raw message,
// for programs that run their own SMTP server (the web client's e2e mail
// capture, ui/e2e/mailcapture).
func ParseMail(raw []byte) (ReceivedMail, error) { return parseMail(raw) }
