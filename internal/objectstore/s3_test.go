package objectstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/openguild/openguild/internal/storetest"
)

// S3 test settings. The access key and secret default to the ones that
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
	testStore(t, func(t *testing.T) Store { return newTestS3(t) })
}

// testS3Options returns options for the configured test server, with a
// new random bucket name, or skips the test when no server is configured.
func testS3Options(t *testing.T) S3Options {
	t.Helper()
	raw := storetest.SkipUnlessConfigured(t, s3EndpointVariable, exampleS3Endpoint)
	endpoint, err := url.Parse(raw)
	if err != nil || endpoint.Host == "" || (endpoint.Scheme != "http" && endpoint.Scheme != "https") {
		t.Fatalf("%s=%q is not a URL such as %s", s3EndpointVariable, raw, exampleS3Endpoint)
	}
	return S3Options{
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
// removed when the test ends.
func newTestS3(t *testing.T) *S3 {
	t.Helper()
	opts := testS3Options(t)
	opts.CreateBucket = true
	s, err := NewS3(t.Context(), opts)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, s) })
	return s
}

func removeBucket(t *testing.T, s *S3) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for object := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if object.Err != nil {
			t.Errorf("list bucket %s for removal: %v", s.bucket, object.Err)
			return
		}
		if err := s.client.RemoveObject(ctx, s.bucket, object.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("remove object %s from bucket %s: %v", object.Key, s.bucket, err)
		}
	}
	if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
		t.Errorf("remove bucket %s: %v", s.bucket, err)
	}
}

func TestNewS3MissingBucket(t *testing.T) {
	opts := testS3Options(t)
	_, err := NewS3(t.Context(), opts)
	if err == nil {
		t.Fatalf("NewS3 with missing bucket %s and CreateBucket unset succeeded, want an error", opts.Bucket)
	}
	if !strings.Contains(err.Error(), opts.Bucket) {
		t.Errorf("NewS3 error %q does not name bucket %s", err, opts.Bucket)
	}
}

func TestNewS3ExistingBucket(t *testing.T) {
	first := newTestS3(t)
	putBytes(t, first, "sha256/ab/shared", []byte("kept"))

	opts := testS3Options(t)
	opts.Bucket = first.bucket
	second, err := NewS3(t.Context(), opts)
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
	valid := S3Options{Endpoint: "127.0.0.1:7070", Bucket: "media"}
	tests := []struct {
		name   string
		modify func(*S3Options)
	}{
		{name: "empty endpoint", modify: func(o *S3Options) { o.Endpoint = "" }},
		{name: "endpoint with scheme", modify: func(o *S3Options) { o.Endpoint = "http://127.0.0.1:7070" }},
		{name: "empty bucket", modify: func(o *S3Options) { o.Bucket = "" }},
		{name: "part size below minimum", modify: func(o *S3Options) { o.PartSize = 1 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid
			tt.modify(&opts)
			if _, err := NewS3(t.Context(), opts); err == nil {
				t.Errorf("NewS3(%+v) succeeded, want an error", opts)
			}
		})
	}
}

func TestS3ErrorMapping(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "no such key", err: minio.ErrorResponse{Code: "NoSuchKey"}, want: ErrNotFound},
		{name: "invalid range", err: minio.ErrorResponse{Code: "InvalidRange"}, want: ErrInvalidRange},
		{name: "wrapped no such key", err: wrapError{minio.ErrorResponse{Code: "NoSuchKey"}}, want: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mapS3Error(tt.err); !errors.Is(got, tt.want) {
				t.Errorf("mapS3Error(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}

	other := minio.ErrorResponse{Code: "NoSuchBucket"}
	if got := mapS3Error(other); errors.Is(got, ErrNotFound) {
		t.Errorf("mapS3Error(NoSuchBucket) = ErrNotFound, want the server's error kept")
	}
}

type wrapError struct{ err error }

func (e wrapError) Error() string { return "wrapped: " + e.err.Error() }
func (e wrapError) Unwrap() error { return e.err }

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
