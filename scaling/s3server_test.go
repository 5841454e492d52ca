package scaling

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pocketbase/pocketbase/tools/filesystem"
)

// s3Server is a real S3 server (versitygw, posix backend) on loopback with
// two buckets: one for files, one for backups. PocketBase lists a whole
// bucket as its backups, so sharing one would show every member's file as
// a "backup" in the dashboard.
type s3Server struct {
	Endpoint      string
	Bucket        string
	BackupsBucket string
	Region        string
	AccessKey     string
	Secret        string
	root          string
	proc          *proc
}

func startS3(t testing.TB) *s3Server {
	t.Helper()
	s := &s3Server{
		Bucket:        "salon",
		BackupsBucket: "salon-backups",
		Region:        "us-east-1",
		AccessKey:     "salonbase-drill",
		Secret:        "drill-secret-0123456789",
		root:          t.TempDir(),
	}
	// with the posix backend, a bucket is a top-level folder
	for _, b := range []string{s.Bucket, s.BackupsBucket} {
		if err := os.Mkdir(filepath.Join(s.root, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	s.Endpoint = "http://" + addr
	s.proc = startProc(t, nil, env.versitygw,
		"--access", s.AccessKey, "--secret", s.Secret, "--region", s.Region,
		"--port", addr, "--health", "/health", "--quiet",
		"posix", s.root)
	waitHealthy(t, s.proc, s.Endpoint+"/health")
	return s
}

// client opens a bucket through the S3 API (PocketBase's own S3 client).
func (s *s3Server) client(t testing.TB, bucket string) *filesystem.System {
	t.Helper()
	fsys, err := filesystem.NewS3(bucket, s.Region, s.Endpoint, s.AccessKey, s.Secret, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// keys lists the object keys under prefix in the files bucket.
func (s *s3Server) keys(t testing.TB, prefix string) map[string]int64 {
	t.Helper()
	return s.keysIn(t, s.Bucket, prefix)
}

func (s *s3Server) keysIn(t testing.TB, bucket, prefix string) map[string]int64 {
	t.Helper()
	objs, err := s.client(t, bucket).List(prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	keys := make(map[string]int64, len(objs))
	for _, o := range objs {
		keys[o.Key] = o.Size
	}
	return keys
}

// settings is the JSON for PocketBase's s3 settings pointing at bucket.
func (s *s3Server) settings(bucket string) map[string]any {
	return map[string]any{
		"enabled":        true,
		"bucket":         bucket,
		"region":         s.Region,
		"endpoint":       s.Endpoint,
		"accessKey":      s.AccessKey,
		"secret":         s.Secret,
		"forcePathStyle": true,
	}
}
