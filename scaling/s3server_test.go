package scaling

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pocketbase/pocketbase/tools/filesystem"
)

// s3Server is a real S3 server (versitygw, posix backend) on loopback with
// one bucket, as an operator would run MinIO-like storage or use AWS S3.
type s3Server struct {
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	Secret    string
	root      string
	proc      *proc
}

func startS3(t testing.TB) *s3Server {
	t.Helper()
	s := &s3Server{
		Bucket:    "salon",
		Region:    "us-east-1",
		AccessKey: "salonbase-drill",
		Secret:    "drill-secret-0123456789",
		root:      t.TempDir(),
	}
	// with the posix backend, a bucket is a top-level folder
	if err := os.Mkdir(filepath.Join(s.root, s.Bucket), 0o755); err != nil {
		t.Fatal(err)
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

// client opens the bucket through the S3 API (PocketBase's own S3 client).
func (s *s3Server) client(t testing.TB) *filesystem.System {
	t.Helper()
	fsys, err := filesystem.NewS3(s.Bucket, s.Region, s.Endpoint, s.AccessKey, s.Secret, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// keys lists the object keys under prefix.
func (s *s3Server) keys(t testing.TB, prefix string) map[string]int64 {
	t.Helper()
	objs, err := s.client(t).List(prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	keys := make(map[string]int64, len(objs))
	for _, o := range objs {
		keys[o.Key] = o.Size
	}
	return keys
}

// settings is the JSON for PocketBase's s3 settings pointing at this server.
func (s *s3Server) settings() map[string]any {
	return map[string]any{
		"enabled":        true,
		"bucket":         s.Bucket,
		"region":         s.Region,
		"endpoint":       s.Endpoint,
		"accessKey":      s.AccessKey,
		"secret":         s.Secret,
		"forcePathStyle": true,
	}
}
