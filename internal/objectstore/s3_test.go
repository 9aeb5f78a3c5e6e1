package objectstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/openguild/openguild/internal/objectstore"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/openguild/openguild/internal/storetest"
)

// objectstore.S3 test settings. The access key and secret default to the ones that
// .ci/run gives its local server.
const (
	s3EndpointVariable  = "OPENGUILD_TEST_S3_ENDPOINT"
	s3AccessKeyVariable = "OPENGUILD_TEST_S3_ACCESS_KEY"
	s3SecretKeyVariable = "OPENGUILD_TEST_S3_SECRET_KEY"
	exampleS3Endpoint   = "http://127.0.0.1:7070"
	defaultS3AccessKey  = "openguild"
	defaultS3SecretKey  = "openguild-secret"
)

func TestS3(t *testing.T) {
	testStore(t, func(t *testing.T) objectstore.Store {
		s, _ := newTestS3(t)
		return s
	})
}

// testS3Options returns options for the configured test server, with a
// new random bucket name, or skips the test when no server is configured.
func testS3Options(t *testing.T) objectstore.S3Options {
	t.Helper()
	raw := storetest.SkipUnlessConfigured(t, s3EndpointVariable, exampleS3Endpoint)
	endpoint, err := url.Parse(raw)
	if err != nil || endpoint.Host == "" || (endpoint.Scheme != "http" && endpoint.Scheme != "https") {
		t.Fatalf("%s=%q is not a URL such as %s", s3EndpointVariable, raw, exampleS3Endpoint)
	}
	return objectstore.S3Options{
		Endpoint:  endpoint.Host,
		Region:    "us-east-1",
		Bucket:    "openguild-test-" + randomSuffix(t),
		AccessKey: envOr(s3AccessKeyVariable, defaultS3AccessKey),
		SecretKey: envOr(s3SecretKeyVariable, defaultS3SecretKey),
		UseTLS:    endpoint.Scheme == "https",
		PathStyle: true,
	}
}

// newTestS3 returns a store on a bucket of its own, which is emptied and
// removed when the test ends, with the options that opened it.
func newTestS3(t *testing.T) (*objectstore.S3, objectstore.S3Options) {
	t.Helper()
	opts := testS3Options(t)
	opts.CreateBucket = true
	s, err := objectstore.NewS3(t.Context(), opts)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, s, opts) })
	return s, opts
}

// removeBucket deletes every object through the store, then the bucket
// through a client of the test's own.
func removeBucket(t *testing.T, s *objectstore.S3, opts objectstore.S3Options) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var keys []string
	if err := s.List(ctx, "", func(info objectstore.Info) error {
		keys = append(keys, info.Key)
		return nil
	}); err != nil {
		t.Errorf("list bucket %s for removal: %v", opts.Bucket, err)
		return
	}
	for _, key := range keys {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("remove object %s from bucket %s: %v", key, opts.Bucket, err)
		}
	}
	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""), Secure: opts.UseTLS,
	})
	if err != nil {
		t.Errorf("connect to remove bucket %s: %v", opts.Bucket, err)
		return
	}
	if err := client.RemoveBucket(ctx, opts.Bucket); err != nil {
		t.Errorf("remove bucket %s: %v", opts.Bucket, err)
	}
}

func TestNewS3MissingBucket(t *testing.T) {
	opts := testS3Options(t)
	_, err := objectstore.NewS3(t.Context(), opts)
	if err == nil {
		t.Fatalf("NewS3 with missing bucket %s and CreateBucket unset succeeded, want an error", opts.Bucket)
	}
	if !strings.Contains(err.Error(), opts.Bucket) {
		t.Errorf("NewS3 error %q does not name bucket %s", err, opts.Bucket)
	}
}

func TestNewS3ExistingBucket(t *testing.T) {
	first, firstOpts := newTestS3(t)
	putBytes(t, first, "sha256/ab/shared", []byte("kept"))

	opts := testS3Options(t)
	opts.Bucket = firstOpts.Bucket
	second, err := objectstore.NewS3(t.Context(), opts)
	if err != nil {
		t.Fatalf("NewS3 on existing bucket %s: %v", opts.Bucket, err)
	}
	got, _ := getBytes(t, second, "sha256/ab/shared")
	if string(got) != "kept" {
		t.Errorf("second store read %q, want %q", got, "kept")
	}
}

// TestNewS3InvalidOptions needs no server because the options are checked
// before any request.
func TestNewS3InvalidOptions(t *testing.T) {
	valid := objectstore.S3Options{Endpoint: "127.0.0.1:7070", Bucket: "media"}
	tests := []struct {
		name   string
		modify func(*objectstore.S3Options)
	}{
		{name: "empty endpoint", modify: func(o *objectstore.S3Options) { o.Endpoint = "" }},
		{name: "endpoint with scheme", modify: func(o *objectstore.S3Options) { o.Endpoint = "http://127.0.0.1:7070" }},
		{name: "empty bucket", modify: func(o *objectstore.S3Options) { o.Bucket = "" }},
		{name: "part size below minimum", modify: func(o *objectstore.S3Options) { o.PartSize = 1 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid
			tt.modify(&opts)
			if _, err := objectstore.NewS3(t.Context(), opts); err == nil {
				t.Errorf("NewS3(%+v) succeeded, want an error", opts)
			}
		})
	}
}

func envOr(variable, fallback string) string {
	if value := os.Getenv(variable); value != "" {
		return value
	}
	return fallback
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("read random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}
