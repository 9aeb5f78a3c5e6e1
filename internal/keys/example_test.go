package keys_test

import (
	"context"
	"fmt"
	"time"

	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/keys/keystest"
)

// A rotation keeps the retired key verifying for the configured retention,
// so tokens it signed stay valid until they expire.
func ExampleKeyring_Rotate() {
	ctx := context.Background()
	keyring := keys.New(&keystest.MemoryStore{}, keys.Options{
		Retention: map[keys.Purpose]time.Duration{
			keys.PurposeAccessToken: 15*time.Minute + 30*time.Second,
		},
	})

	if err := keyring.EnsureActive(ctx, keys.PurposeAccessToken); err != nil {
		fmt.Println("ensure active key:", err)
		return
	}
	previous, _ := keyring.Active(keys.PurposeAccessToken)

	next, err := keyring.Rotate(ctx, keys.PurposeAccessToken)
	if err != nil {
		fmt.Println("rotate:", err)
		return
	}

	retired, err := keyring.Lookup(previous.ID)
	fmt.Println("previous key still verifies:", err == nil)
	fmt.Println("previous key retired:", !retired.Active())
	fmt.Println("new key signs:", next.Active())
	fmt.Println("keys to publish:", len(keyring.Verifying(keys.PurposeAccessToken)))
	// Output:
	// previous key still verifies: true
	// previous key retired: true
	// new key signs: true
	// keys to publish: 2
}
