package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// tempDirName is the folder under the root that holds files still being
// written. Keys cannot name it because no key segment starts with '.'.
const tempDirName = ".tmp"

// Filesystem is a Store that keeps each object as a file under a root
// directory, at the path its key names. Files are created with mode 0600
// and directories with mode 0700. The content type given to Put is not
// stored.
type Filesystem struct {
	root    string
	tempDir string
}

// NewFilesystem returns a Filesystem rooted at root, creating the
// directory if it does not exist.
//
// NOTE: A process that dies in the middle of Put leaves its temporary
// file in the .tmp folder under root. It is never listed or served, and
// nothing removes it yet.
func NewFilesystem(root string) (*Filesystem, error) {
	if root == "" {
		return nil, errors.New("open filesystem object store: root directory is empty")
	}
	tempDir := filepath.Join(root, tempDirName)
	if err := os.MkdirAll(tempDir, 0o700); err != nil {
		return nil, fmt.Errorf("open filesystem object store: %w", err)
	}
	return &Filesystem{root: root, tempDir: tempDir}, nil
}

// Put writes r to a temporary file in the store's tree, flushes it to disk
// and renames it to the key's path, so readers never see a partial
// object. It checks ctx between reads, but a Read that blocks is not
// interrupted. It returns ErrInvalidKey, ErrSizeMismatch or the context's
// error.
func (s *Filesystem) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if size < UnknownSize {
		return fmt.Errorf("put object %s: size %d is negative and not UnknownSize", key, size)
	}

	temp, err := os.CreateTemp(s.tempDir, "put-*")
	if err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			temp.Close()
			os.Remove(temp.Name())
		}
	}()

	if err := copyToFile(ctx, temp, r, size); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	if err := temp.Sync(); err != nil {
		return fmt.Errorf("put object %s: flush temporary file: %w", key, err)
	}
	if err := temp.Close(); err != nil {
		return fmt.Errorf("put object %s: close temporary file: %w", key, err)
	}

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	target := s.path(key)
	if err := s.moveInto(temp.Name(), key); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	renamed = true

	// The rename is durable only once the directory entry is on disk.
	if err := syncDir(filepath.Dir(target)); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

func copyToFile(ctx context.Context, f *os.File, r io.Reader, size int64) error {
	src := &contextReader{ctx: ctx, r: r}
	if size == UnknownSize {
		_, err := io.Copy(f, src)
		return err
	}

	n, err := io.Copy(f, io.LimitReader(src, size))
	if err != nil {
		return err
	}
	if n < size {
		return fmt.Errorf("%w: reader ended after %d of %d bytes", ErrSizeMismatch, n, size)
	}
	return nil
}

// makeParentDirs creates the directories above key's file and flushes
// each new directory's entry in its parent, so that a crash cannot lose a
// directory that a renamed object lives in.
func (s *Filesystem) makeParentDirs(key string) error {
	dir := s.root
	segments := strings.Split(path.Dir(key), "/")
	if path.Dir(key) == "." {
		segments = nil
	}
	for _, segment := range segments {
		parent := dir
		dir = filepath.Join(dir, segment)
		err := os.Mkdir(dir, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory to flush: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("flush directory %s: %w", dir, err)
	}
	return nil
}

// Get opens the object's file. It returns ErrNotFound or ErrInvalidKey.
func (s *Filesystem) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	f, info, err := s.open(key)
	if err != nil {
		return nil, Info{}, fmt.Errorf("get object %s: %w", key, err)
	}
	return f, info, nil
}

// GetRange opens the object's file and reads the requested bytes from it.
// It returns ErrInvalidRange, ErrNotFound or ErrInvalidKey.
func (s *Filesystem) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || length <= 0 {
		return nil, fmt.Errorf("get object %s: %w: offset %d, length %d", key, ErrInvalidRange, offset, length)
	}
	f, info, err := s.open(key)
	if err != nil {
		return nil, fmt.Errorf("get object %s: %w", key, err)
	}
	if offset >= info.Size {
		f.Close()
		return nil, fmt.Errorf("get object %s: %w: offset %d is not before the end at %d", key, ErrInvalidRange, offset, info.Size)
	}
	section := io.NewSectionReader(f, offset, min(length, info.Size-offset))
	return sectionReadCloser{SectionReader: section, file: f}, nil
}

type sectionReadCloser struct {
	*io.SectionReader
	file *os.File
}

func (r sectionReadCloser) Close() error { return r.file.Close() }

func (s *Filesystem) open(key string) (*os.File, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, Info{}, mapNotExist(err)
	}
	stat, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	if !stat.Mode().IsRegular() {
		f.Close()
		return nil, Info{}, ErrNotFound
	}
	return f, Info{Key: key, Size: stat.Size(), ModTime: stat.ModTime()}, nil
}

// Stat returns the size and modification time of the object's file. It
// returns ErrNotFound or ErrInvalidKey.
func (s *Filesystem) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	stat, err := os.Stat(s.path(key))
	if err != nil {
		return Info{}, fmt.Errorf("stat object %s: %w", key, mapNotExist(err))
	}
	if !stat.Mode().IsRegular() {
		return Info{}, fmt.Errorf("stat object %s: %w", key, ErrNotFound)
	}
	return Info{Key: key, Size: stat.Size(), ModTime: stat.ModTime()}, nil
}

// moveInto renames a finished temporary file to the path of key. A Delete
// may remove the key's empty folders between their creation and the
// rename, so a rename that finds no folder makes them again once.
func (s *Filesystem) moveInto(temp, key string) error {
	var err error
	for range 2 {
		if err = s.makeParentDirs(key); err != nil {
			return err
		}
		if err = os.Rename(temp, s.path(key)); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// removeEmptyParents removes the folders above path that the removal of
// path left empty, up to the root. A folder that is not empty, or that a
// Put has just filled again, stays.
func (s *Filesystem) removeEmptyParents(path string) {
	for dir := filepath.Dir(path); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
	}
}

// Delete removes the object's file and the directories above it that it
// leaves empty. It returns ErrInvalidKey.
func (s *Filesystem) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	target := s.path(key)

	// A directory is not an object, so it must not be removed as one.
	stat, err := os.Lstat(target)
	if err != nil {
		if errors.Is(mapNotExist(err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	if !stat.Mode().IsRegular() {
		return nil
	}

	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	s.removeEmptyParents(target)
	return nil
}

// List walks the directories that can hold keys starting with prefix. It
// returns ErrInvalidKey, the context's error, or the first error of fn
// unchanged.
func (s *Filesystem) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = s.path(prefix[:i])
	}

	var fnErr error
	err := filepath.WalkDir(start, func(name string, entry fs.DirEntry, err error) error {
		if err != nil {
			if name == start && errors.Is(mapNotExist(err), ErrNotFound) {
				return filepath.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if name == s.root {
			return nil
		}

		rel, err := filepath.Rel(s.root, name)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if entry.IsDir() {
			return s.walkDirDecision(entry, key, prefix)
		}
		if !entry.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}

		stat, err := entry.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted since the directory was read
		}
		if err != nil {
			return err
		}
		fnErr = fn(Info{Key: key, Size: stat.Size(), ModTime: stat.ModTime()})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("list objects with prefix %q: %w", prefix, err)
	}
	return nil
}

// walkDirDecision skips the temporary folder and any directory whose keys
// cannot start with prefix.
func (s *Filesystem) walkDirDecision(entry fs.DirEntry, key, prefix string) error {
	if strings.HasPrefix(entry.Name(), ".") {
		return filepath.SkipDir
	}
	dirPrefix := key + "/"
	if strings.HasPrefix(dirPrefix, prefix) || strings.HasPrefix(prefix, dirPrefix) {
		return nil
	}
	return filepath.SkipDir
}

// path returns the file path of a valid key.
func (s *Filesystem) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// mapNotExist turns the errors that mean "no such file" into ErrNotFound.
// ENOTDIR counts because a key such as "a/b" has no file when "a" is an
// object rather than a directory.
func mapNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return ErrNotFound
	}
	return err
}

// contextReader stops a copy at the first Read after ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *contextReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
