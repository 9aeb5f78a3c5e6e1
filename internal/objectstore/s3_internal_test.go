package objectstore

import (
	"errors"
	"testing"

	"github.com/minio/minio-go/v7"
)

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
