package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultPartSize is the multipart part size, in bytes, that S3 uses when
// S3Options.PartSize is zero. Each Put larger than one part, or of unknown
// size, holds one part in memory at a time. S3 allows at most 10,000
// parts, so Put rejects objects over 10,000 × 16 MiB (about
// 156 GiB) with this default.
const DefaultPartSize = 16 << 20

// minPartSize is the smallest part that S3 accepts for every part but the
// last of a multipart upload.
const minPartSize = 5 << 20

// S3Options configures an S3 store.
type S3Options struct {
	// Endpoint is the server's host and port, such as
	// "s3.example.com" or "127.0.0.1:7070", without a scheme.
	Endpoint string

	// Region is sent with requests and used to create the bucket. Empty
	// lets the client ask the server for the bucket's region.
	Region string

	Bucket    string
	AccessKey string
	SecretKey string

	// UseTLS selects https instead of http.
	UseTLS bool

	// PathStyle puts the bucket in the URL path (http://host/bucket/key),
	// as most self-hosted servers expect. When false, the client picks
	// virtual-host style (http://bucket.host/key) for endpoints known to
	// support it, such as Amazon S3, and path style for the rest.
	PathStyle bool

	// CreateBucket makes NewS3 create the bucket when it does not exist.
	CreateBucket bool

	// PartSize is the size of each part of a multipart upload, in bytes.
	// Zero means DefaultPartSize, and S3 rejects values below 5 MiB.
	PartSize uint64
}

// S3 is a Store that keeps objects in one bucket of an S3-compatible
// server, using each key as the object name.
type S3 struct {
	client   *minio.Client
	bucket   string
	partSize uint64
}

// NewS3 connects to the server in opts and checks that the bucket exists,
// creating it when it is missing and opts.CreateBucket is set.
func NewS3(ctx context.Context, opts S3Options) (*S3, error) {
	if err := validateS3Options(opts); err != nil {
		return nil, fmt.Errorf("open S3 object store: %w", err)
	}
	partSize := opts.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	lookup := minio.BucketLookupAuto
	if opts.PathStyle {
		lookup = minio.BucketLookupPath
	}

	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""),
		Secure:       opts.UseTLS,
		Region:       opts.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("open S3 object store at %s: %w", opts.Endpoint, err)
	}
	if err := ensureBucket(ctx, client, opts); err != nil {
		return nil, fmt.Errorf("open S3 object store at %s: %w", opts.Endpoint, err)
	}
	return &S3{client: client, bucket: opts.Bucket, partSize: partSize}, nil
}

func validateS3Options(opts S3Options) error {
	switch {
	case opts.Endpoint == "":
		return errors.New("endpoint is empty; set it to the server's host:port")
	case strings.Contains(opts.Endpoint, "://"):
		return fmt.Errorf("endpoint %q has a scheme; give only host:port and set UseTLS for https", opts.Endpoint)
	case opts.Bucket == "":
		return errors.New("bucket name is empty")
	case opts.PartSize != 0 && opts.PartSize < minPartSize:
		return fmt.Errorf("part size %d bytes is below the S3 minimum of %d", opts.PartSize, minPartSize)
	}
	return nil
}

func ensureBucket(ctx context.Context, client *minio.Client, opts S3Options) error {
	exists, err := client.BucketExists(ctx, opts.Bucket)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", opts.Bucket, err)
	}
	if exists {
		return nil
	}
	if !opts.CreateBucket {
		return fmt.Errorf("bucket %s does not exist; create it or enable bucket creation", opts.Bucket)
	}

	err = client.MakeBucket(ctx, opts.Bucket, minio.MakeBucketOptions{Region: opts.Region})
	if err != nil && s3ErrorCode(err) != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("create bucket %s: %w", opts.Bucket, err)
	}
	return nil
}

// Put uploads r as one request when size is known and at most the part
// size, and as a multipart upload otherwise, which the client aborts on
// failure. It returns ErrInvalidKey, ErrSizeMismatch, the context's error
// or the server's.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if size < UnknownSize {
		return fmt.Errorf("put object %s: size %d is negative and not UnknownSize", key, size)
	}

	src := r
	var sized *sizedReader
	if size >= 0 {
		sized = &sizedReader{r: r, remaining: size}
		src = sized
	}
	opts := minio.PutObjectOptions{ContentType: contentType, PartSize: s.partSize}
	_, err := s.client.PutObject(ctx, s.bucket, key, src, size, opts)
	if err != nil {
		if sized != nil && sized.short {
			return fmt.Errorf("put object %s: %w: reader ended %d bytes early", key, ErrSizeMismatch, sized.remaining)
		}
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

// sizedReader returns at most remaining bytes of r, and an error instead
// of io.EOF when r ends sooner, so that the upload fails and stores
// nothing.
type sizedReader struct {
	r         io.Reader
	remaining int64
	short     bool
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if r.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.r.Read(p)
	r.remaining -= int64(n)
	if err == io.EOF && r.remaining > 0 {
		r.short = true
		return n, ErrSizeMismatch
	}
	return n, err
}

// Get opens the object with one GET request and streams its body. It
// returns ErrNotFound, ErrInvalidKey or the server's error.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	core := minio.Core{Client: s.client}
	body, object, _, err := core.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("get object %s: %w", key, mapS3Error(err))
	}
	return body, Info{Key: key, Size: object.Size, ModTime: object.LastModified}, nil
}

// GetRange opens the requested bytes with one ranged GET request. It
// returns ErrInvalidRange, ErrNotFound, ErrInvalidKey or the server's
// error.
func (s *S3) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 || length <= 0 {
		return nil, fmt.Errorf("get object %s: %w: offset %d, length %d", key, ErrInvalidRange, offset, length)
	}

	end := int64(math.MaxInt64)
	if length <= math.MaxInt64-offset {
		end = offset + length - 1
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(offset, end); err != nil {
		return nil, fmt.Errorf("get object %s: %w", key, err)
	}

	core := minio.Core{Client: s.client}
	body, _, _, err := core.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, fmt.Errorf("get object %s bytes %d-%d: %w", key, offset, end, mapS3Error(err))
	}
	return body, nil
}

// Stat returns the object's size and modification time from a HEAD
// request. It returns ErrNotFound, ErrInvalidKey or the server's error.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	object, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("stat object %s: %w", key, mapS3Error(err))
	}
	return Info{Key: key, Size: object.Size, ModTime: object.LastModified}, nil
}

// Delete removes the object. S3 reports success for a missing object, and
// so does Delete. It returns ErrInvalidKey or the server's error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// List pages through the bucket's objects under prefix, in the server's
// order. It returns ErrInvalidKey, the server's error, or the first error
// of fn unchanged.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}

	// Cancelling stops the client's listing goroutine when fn ends the
	// loop early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	objects := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	for object := range objects {
		if object.Err != nil {
			return fmt.Errorf("list objects with prefix %q: %w", prefix, object.Err)
		}
		// Some servers list a directory marker, which is never an object
		// that Put created because keys do not end with '/'.
		if strings.HasSuffix(object.Key, "/") {
			continue
		}
		if err := fn(Info{Key: object.Key, Size: object.Size, ModTime: object.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// mapS3Error turns the S3 error codes that callers branch on into this
// package's sentinel errors, and keeps any other error as it is.
func mapS3Error(err error) error {
	switch s3ErrorCode(err) {
	case "NoSuchKey":
		return ErrNotFound
	case "InvalidRange":
		return ErrInvalidRange
	default:
		return err
	}
}

func s3ErrorCode(err error) string {
	var response minio.ErrorResponse
	if errors.As(err, &response) {
		return response.Code
	}
	return ""
}
