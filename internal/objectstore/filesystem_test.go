package objectstore_test

import (
	"errors"
	"github.com/openguild/openguild/internal/objectstore"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilesystem(t *testing.T) {
	testStore(t, func(t *testing.T) objectstore.Store {
		s, _ := newTestFilesystem(t)
		return s
	})
}

// newTestFilesystem returns a store and its root directory.
func newTestFilesystem(t *testing.T) (*objectstore.Filesystem, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "media")
	s, err := objectstore.NewFilesystem(root)
	if err != nil {
		t.Fatalf("NewFilesystem: %v", err)
	}
	// Every subtest checks that no temporary file outlives a Put.
	t.Cleanup(func() {
		entries, err := os.ReadDir(filepath.Join(root, ".tmp"))
		if err != nil {
			t.Errorf("read temporary folder: %v", err)
		}
		for _, entry := range entries {
			t.Errorf("temporary file %s left behind", entry.Name())
		}
	})
	return s, root
}

func TestFilesystemLayoutAndPermissions(t *testing.T) {
	s, root := newTestFilesystem(t)
	putBytes(t, s, "sha256/ab/cdef", []byte("x"))

	file := filepath.Join(root, "sha256", "ab", "cdef")
	stat, err := os.Stat(file)
	if err != nil {
		t.Fatalf("stat object file: %v", err)
	}
	if mode := stat.Mode().Perm(); mode != 0o600 {
		t.Errorf("object file mode = %o, want 600", mode)
	}
	for _, dir := range []string{root, filepath.Join(root, "sha256"), filepath.Join(root, "sha256", "ab")} {
		stat, err := os.Stat(dir)
		if err != nil {
			t.Fatalf("stat directory: %v", err)
		}
		if mode := stat.Mode().Perm(); mode != 0o700 {
			t.Errorf("directory %s mode = %o, want 700", dir, mode)
		}
	}
}

func TestFilesystemListSkipsTemporaryFiles(t *testing.T) {
	s, root := newTestFilesystem(t)
	putBytes(t, s, "sha256/ab/kept", []byte("x"))
	temp := filepath.Join(root, ".tmp", "put-unfinished")
	if err := os.WriteFile(temp, []byte("partial"), 0o600); err != nil {
		t.Fatalf("write stand-in temporary file: %v", err)
	}
	t.Cleanup(func() { os.Remove(temp) })

	var keys []string
	err := s.List(t.Context(), "", func(info objectstore.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if strings.Join(keys, ",") != "sha256/ab/kept" {
		t.Errorf("List = %q, want only sha256/ab/kept", keys)
	}
}

func TestFilesystemEmptyRoot(t *testing.T) {
	if _, err := objectstore.NewFilesystem(""); err == nil {
		t.Errorf("NewFilesystem with an empty root succeeded, want an error")
	}
}

func TestFilesystemRootIsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "media")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}
	_, err := objectstore.NewFilesystem(file)
	if err == nil {
		t.Fatalf("NewFilesystem on a regular file succeeded, want an error")
	}
	if !strings.Contains(err.Error(), file) {
		t.Errorf("NewFilesystem error %q does not name the path %s", err, file)
	}
}

func TestFilesystemDeleteRemovesEmptyFolders(t *testing.T) {
	s, root := newTestFilesystem(t)
	putBytes(t, s, "thumbnails/ab/abcd/64x64", []byte("a"))
	putBytes(t, s, "thumbnails/ab/abef/64x64", []byte("b"))

	if err := s.Delete(t.Context(), "thumbnails/ab/abcd/64x64"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "thumbnails", "ab", "abcd")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied folder abcd still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "thumbnails", "ab", "abef", "64x64")); err != nil {
		t.Errorf("neighbour object gone: %v", err)
	}

	if err := s.Delete(t.Context(), "thumbnails/ab/abef/64x64"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "thumbnails")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied folder thumbnails still there: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("root removed: %v", err)
	}
	putBytes(t, s, "thumbnails/ab/abcd/64x64", []byte("again"))
}
