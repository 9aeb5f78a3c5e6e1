package keystest_test

import (
	"testing"

	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/keys/keystest"
)

func TestMemoryStore(t *testing.T) {
	keystest.TestStore(t, func(*testing.T) keys.Store {
		return &keystest.MemoryStore{}
	})
}
