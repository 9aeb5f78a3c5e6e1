package store_test

import (
	"testing"

	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/keys/keystest"
	"github.com/openguild/openguild/internal/storetest"
)

func TestSigningKeysConformance(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			keystest.TestStore(t, func(t *testing.T) keys.Store {
				return storetest.Open(t, dialect).SigningKeys()
			})
		})
	}
}
