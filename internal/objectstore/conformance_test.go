package objectstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/openguild/openguild/internal/objectstore"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStore runs every objectstore.Store behaviour against the stores that newStore
// returns, one fresh store per subtest.
func testStore(t *testing.T, newStore func(t *testing.T) objectstore.Store) {
	t.Run("round trip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("unknown size", func(t *testing.T) { testUnknownSize(t, newStore(t)) })
	t.Run("overwrite", func(t *testing.T) { testOverwrite(t, newStore(t)) })
	t.Run("missing object", func(t *testing.T) { testMissing(t, newStore(t)) })
	t.Run("ranges", func(t *testing.T) { testRanges(t, newStore(t)) })
	t.Run("delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("list", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("list stops on callback error", func(t *testing.T) { testListStops(t, newStore(t)) })
	t.Run("bad keys rejected", func(t *testing.T) { testBadKeys(t, newStore(t)) })
	t.Run("size mismatch", func(t *testing.T) { testSizeMismatch(t, newStore(t)) })
	t.Run("large object streamed", func(t *testing.T) { testLargeObject(t, newStore(t)) })
	t.Run("failing reader", func(t *testing.T) { testFailingReader(t, newStore(t)) })
	t.Run("cancel during put", func(t *testing.T) { testCancelDuringPut(t, newStore(t)) })
	t.Run("concurrent puts", func(t *testing.T) { testConcurrentPuts(t, newStore(t)) })
}

func testRoundTrip(t *testing.T, s objectstore.Store) {
	ctx := t.Context()
	const key = "sha256/ab/cdef0123"
	before := time.Now()
	putBytes(t, s, key, []byte("hello, guild"))

	got, info := getBytes(t, s, key)
	if string(got) != "hello, guild" {
		t.Errorf("Get returned %q, want %q", got, "hello, guild")
	}
	if info.Key != key || info.Size != 12 {
		t.Errorf("Get info = %+v, want key %s and size 12", info, key)
	}
	checkModTime(t, info.ModTime, before)

	stat, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if stat.Key != key || stat.Size != 12 {
		t.Errorf("Stat = %+v, want key %s and size 12", stat, key)
	}
	checkModTime(t, stat.ModTime, before)
}

// checkModTime allows a minute either way because file systems and objectstore.S3
// servers round modification times, some to whole seconds.
func checkModTime(t *testing.T, modTime, before time.Time) {
	t.Helper()
	if modTime.Before(before.Add(-time.Minute)) || modTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("modification time %v is not close to the time of the Put, %v", modTime, before)
	}
}

func testUnknownSize(t *testing.T, s objectstore.Store) {
	const key = "sha256/00/unknown-size"
	if err := s.Put(t.Context(), key, strings.NewReader("streamed"), objectstore.UnknownSize, "text/plain"); err != nil {
		t.Fatalf("Put with objectstore.UnknownSize: %v", err)
	}
	got, info := getBytes(t, s, key)
	if string(got) != "streamed" || info.Size != 8 {
		t.Errorf("Get = %q with size %d, want %q with size 8", got, info.Size, "streamed")
	}
}

func testOverwrite(t *testing.T, s objectstore.Store) {
	const key = "sha256/ab/overwritten"
	putBytes(t, s, key, []byte("first version, longer"))
	putBytes(t, s, key, []byte("second"))

	got, info := getBytes(t, s, key)
	if string(got) != "second" || info.Size != 6 {
		t.Errorf("Get after overwrite = %q with size %d, want %q with size 6", got, info.Size, "second")
	}
}

func testMissing(t *testing.T, s objectstore.Store) {
	ctx := t.Context()
	const key = "sha256/ff/missing"
	if _, _, err := s.Get(ctx, key); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Get of missing object: err = %v, want objectstore.ErrNotFound", err)
	}
	if _, err := s.GetRange(ctx, key, 0, 1); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("GetRange of missing object: err = %v, want objectstore.ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Stat of missing object: err = %v, want objectstore.ErrNotFound", err)
	}

	// A key that names a folder of other objects is not an object.
	putBytes(t, s, "sha256/ff/folder/inner", []byte("x"))
	if _, err := s.Stat(ctx, "sha256/ff/folder"); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Stat of a key prefix: err = %v, want objectstore.ErrNotFound", err)
	}
}

func testRanges(t *testing.T, s objectstore.Store) {
	const key = "sha256/12/digits"
	putBytes(t, s, key, []byte("0123456789"))

	tests := []struct {
		name           string
		offset, length int64
		want           string
		wantErr        error
	}{
		{name: "start", offset: 0, length: 3, want: "012"},
		{name: "middle", offset: 4, length: 3, want: "456"},
		{name: "end", offset: 7, length: 3, want: "789"},
		{name: "whole object", offset: 0, length: 10, want: "0123456789"},
		{name: "length past end is cut", offset: 8, length: 100, want: "89"},
		{name: "maximum length", offset: 9, length: 1<<63 - 1, want: "9"},
		{name: "offset at end", offset: 10, length: 1, wantErr: objectstore.ErrInvalidRange},
		{name: "offset past end", offset: 25, length: 5, wantErr: objectstore.ErrInvalidRange},
		{name: "negative offset", offset: -1, length: 2, wantErr: objectstore.ErrInvalidRange},
		{name: "zero length", offset: 2, length: 0, wantErr: objectstore.ErrInvalidRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := s.GetRange(t.Context(), key, tt.offset, tt.length)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("GetRange(%d, %d): err = %v, want %v", tt.offset, tt.length, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRange(%d, %d): %v", tt.offset, tt.length, err)
			}
			got := readAllAndClose(t, body)
			if string(got) != tt.want {
				t.Errorf("GetRange(%d, %d) = %q, want %q", tt.offset, tt.length, got, tt.want)
			}
		})
	}
}

func testDelete(t *testing.T, s objectstore.Store) {
	ctx := t.Context()
	const key = "sha256/de/deleted"
	putBytes(t, s, key, []byte("short-lived"))

	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := s.Get(ctx, key); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want objectstore.ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Stat after Delete: err = %v, want objectstore.ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("second Delete of the same key: %v", err)
	}
	if err := s.Delete(ctx, "sha256/de"); err != nil {
		t.Errorf("Delete of a key prefix: %v", err)
	}
}

func testList(t *testing.T, s objectstore.Store) {
	objects := map[string]string{
		"sha256/ab/one":   "1",
		"sha256/ab/two":   "22",
		"sha256/abc/four": "4444",
		"sha256/cd/three": "333",
		"blake3/ab/five":  "55555",
	}
	for key, content := range objects {
		putBytes(t, s, key, []byte(content))
	}

	tests := []struct {
		name   string
		prefix string
		want   []string
	}{
		{name: "everything", prefix: "", want: []string{"blake3/ab/five", "sha256/ab/one", "sha256/ab/two", "sha256/abc/four", "sha256/cd/three"}},
		{name: "top folder", prefix: "sha256/", want: []string{"sha256/ab/one", "sha256/ab/two", "sha256/abc/four", "sha256/cd/three"}},
		{name: "folder", prefix: "sha256/ab/", want: []string{"sha256/ab/one", "sha256/ab/two"}},
		{name: "partial folder name", prefix: "sha256/a", want: []string{"sha256/ab/one", "sha256/ab/two", "sha256/abc/four"}},
		{name: "partial file name", prefix: "sha256/ab/t", want: []string{"sha256/ab/two"}},
		{name: "whole key", prefix: "sha256/cd/three", want: []string{"sha256/cd/three"}},
		{name: "no match", prefix: "md5/", want: nil},
		{name: "folder missing", prefix: "sha256/zz/", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := s.List(t.Context(), tt.prefix, func(info objectstore.Info) error {
				got = append(got, info.Key)
				if want := int64(len(objects[info.Key])); info.Size != want {
					t.Errorf("List info for %s has size %d, want %d", info.Key, info.Size, want)
				}
				if info.ModTime.IsZero() {
					t.Errorf("List info for %s has no modification time", info.Key)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q): %v", tt.prefix, err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
}

func testListStops(t *testing.T, s objectstore.Store) {
	for i := range 3 {
		putBytes(t, s, fmt.Sprintf("sha256/ee/%d", i), []byte("x"))
	}
	errStop := errors.New("stop listing")
	calls := 0
	err := s.List(t.Context(), "sha256/", func(objectstore.Info) error {
		calls++
		return errStop
	})
	if err != errStop {
		t.Errorf("List: err = %v, want the callback's error unchanged", err)
	}
	if calls != 1 {
		t.Errorf("List called the callback %d times after it failed, want 1", calls)
	}
}

func testBadKeys(t *testing.T, s objectstore.Store) {
	ctx := t.Context()
	badKeys := map[string]string{
		"empty":                   "",
		"leading slash":           "/sha256/ab/cd",
		"trailing slash":          "sha256/ab/",
		"parent segment":          "sha256/../etc/passwd",
		"only parent":             "..",
		"double dot in name":      "sha256/ab/c..d",
		"dot segment":             "sha256/./cd",
		"hidden segment":          "sha256/.tmp/put-1",
		"empty segment":           "sha256//cd",
		"uppercase":               "SHA256/ab/cd",
		"space":                   "sha256/ab/c d",
		"backslash":               `sha256\ab\cd`,
		"non-ASCII":               "sha256/ab/é",
		"NUL byte":                "sha256/ab/c\x00d",
		"longer than the maximum": strings.Repeat("abcdefgh/", objectstore.MaxKeyLength/9+1) + "z",
		"segment too long":        strings.Repeat("a", 256),
	}
	for name, key := range badKeys {
		t.Run(name, func(t *testing.T) {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, objectstore.ErrInvalidKey) {
				t.Errorf("Put(%q): err = %v, want objectstore.ErrInvalidKey", key, err)
			}
			if _, _, err := s.Get(ctx, key); !errors.Is(err, objectstore.ErrInvalidKey) {
				t.Errorf("Get(%q): err = %v, want objectstore.ErrInvalidKey", key, err)
			}
			if _, err := s.GetRange(ctx, key, 0, 1); !errors.Is(err, objectstore.ErrInvalidKey) {
				t.Errorf("GetRange(%q): err = %v, want objectstore.ErrInvalidKey", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, objectstore.ErrInvalidKey) {
				t.Errorf("Stat(%q): err = %v, want objectstore.ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, objectstore.ErrInvalidKey) {
				t.Errorf("Delete(%q): err = %v, want objectstore.ErrInvalidKey", key, err)
			}
		})
	}

	for _, prefix := range []string{"/sha256", "SHA", "sha256/../", "sha256/."} {
		err := s.List(ctx, prefix, func(objectstore.Info) error { return nil })
		if !errors.Is(err, objectstore.ErrInvalidKey) {
			t.Errorf("List(%q): err = %v, want objectstore.ErrInvalidKey", prefix, err)
		}
	}
}

func testSizeMismatch(t *testing.T, s objectstore.Store) {
	ctx := t.Context()
	const short = "sha256/5a/short"
	err := s.Put(ctx, short, strings.NewReader("12345"), 10, "text/plain")
	if !errors.Is(err, objectstore.ErrSizeMismatch) {
		t.Errorf("Put of 5 bytes declared as 10: err = %v, want objectstore.ErrSizeMismatch", err)
	}
	if _, err := s.Stat(ctx, short); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Stat after short Put: err = %v, want objectstore.ErrNotFound", err)
	}

	const long = "sha256/5a/long"
	if err := s.Put(ctx, long, strings.NewReader("0123456789"), 4, "text/plain"); err != nil {
		t.Fatalf("Put of 10 bytes declared as 4: %v", err)
	}
	got, _ := getBytes(t, s, long)
	if string(got) != "0123" {
		t.Errorf("Get after Put with a longer reader = %q, want the declared 4 bytes %q", got, "0123")
	}

	if err := s.Put(ctx, long, strings.NewReader("x"), -2, "text/plain"); err == nil {
		t.Errorf("Put with size -2 succeeded, want an error")
	}
}

// largeSize is bigger than objectstore.DefaultPartSize, so objectstore.S3 takes the multipart path.
const largeSize = 20 << 20

func testLargeObject(t *testing.T, s objectstore.Store) {
	for _, size := range []int64{largeSize, objectstore.UnknownSize} {
		t.Run(fmt.Sprintf("declared size %d", size), func(t *testing.T) {
			ctx := t.Context()
			key := fmt.Sprintf("sha256/1a/large%d", size)
			source := generatedReader(largeSize)
			sent := sha256.New()
			if err := s.Put(ctx, key, io.TeeReader(source, sent), size, "application/octet-stream"); err != nil {
				t.Fatalf("Put of %d bytes: %v", largeSize, err)
			}

			body, info, err := s.Get(ctx, key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			defer body.Close()
			received := sha256.New()
			n, err := io.Copy(received, body)
			if err != nil {
				t.Fatalf("read object: %v", err)
			}
			if n != largeSize || info.Size != largeSize {
				t.Errorf("read %d bytes with objectstore.Info.Size %d, want %d", n, info.Size, largeSize)
			}
			if !bytes.Equal(received.Sum(nil), sent.Sum(nil)) {
				t.Errorf("SHA-256 of the object read back differs from what was put")
			}
		})
	}
}

func testFailingReader(t *testing.T, s objectstore.Store) {
	const old = "old content"
	errBroken := errors.New("connection reset by test")
	for _, size := range []int64{2 << 20, objectstore.UnknownSize} {
		t.Run(fmt.Sprintf("declared size %d", size), func(t *testing.T) {
			ctx := t.Context()
			fresh := fmt.Sprintf("sha256/fa/fresh%d", size)
			replaced := fmt.Sprintf("sha256/fa/replaced%d", size)
			putBytes(t, s, replaced, []byte(old))

			for _, key := range []string{fresh, replaced} {
				r := io.MultiReader(generatedReader(1<<20), errorReader{errBroken})
				if err := s.Put(ctx, key, r, size, "application/octet-stream"); err == nil {
					t.Fatalf("Put of %s from a reader that fails half-way succeeded", key)
				}
			}

			if _, err := s.Stat(ctx, fresh); !errors.Is(err, objectstore.ErrNotFound) {
				t.Errorf("Stat after failed Put: err = %v, want objectstore.ErrNotFound", err)
			}
			got, _ := getBytes(t, s, replaced)
			if string(got) != old {
				t.Errorf("object after failed overwrite = %q, want the earlier %q", got, old)
			}
		})
	}
}

func testCancelDuringPut(t *testing.T, s objectstore.Store) {
	for _, size := range []int64{4 << 20, objectstore.UnknownSize} {
		t.Run(fmt.Sprintf("declared size %d", size), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			key := fmt.Sprintf("sha256/ca/cancelled%d", size)
			r := &cancelAfterReader{r: generatedReader(4 << 20), after: 1 << 20, cancel: cancel}

			err := s.Put(ctx, key, r, size, "application/octet-stream")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Put cancelled half-way: err = %v, want context.Canceled", err)
			}
			if _, err := s.Stat(t.Context(), key); !errors.Is(err, objectstore.ErrNotFound) {
				t.Errorf("Stat after cancelled Put: err = %v, want objectstore.ErrNotFound", err)
			}
		})
	}
}

func testConcurrentPuts(t *testing.T, s objectstore.Store) {
	const key = "sha256/cc/contended"
	const writers = 4
	contents := make([][]byte, writers)
	for i := range contents {
		contents[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
	}

	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			errs[i] = s.Put(t.Context(), key, bytes.NewReader(contents[i]), int64(len(contents[i])), "text/plain")
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put by writer %d: %v", i, err)
		}
	}

	got, _ := getBytes(t, s, key)
	if !slices.ContainsFunc(contents, func(c []byte) bool { return bytes.Equal(c, got) }) {
		t.Errorf("object after concurrent Puts is not any single writer's content (%d bytes)", len(got))
	}
}

func putBytes(t *testing.T, s objectstore.Store, key string, content []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(content), int64(len(content)), "text/plain"); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
}

func getBytes(t *testing.T, s objectstore.Store, key string) ([]byte, objectstore.Info) {
	t.Helper()
	body, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	return readAllAndClose(t, body), info
}

func readAllAndClose(t *testing.T, body io.ReadCloser) []byte {
	t.Helper()
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}
	return got
}

// generatedReader returns n pseudo-random bytes, the same on every run,
// without holding them in memory.
func generatedReader(n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'o', 'g'}), n)
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// cancelAfterReader cancels its context once it has returned after bytes,
// then keeps returning data, as a client would that disconnects while its
// upload is still arriving.
type cancelAfterReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (r *cancelAfterReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.read += int64(n)
	if r.read >= r.after {
		r.cancel()
	}
	return n, err
}
