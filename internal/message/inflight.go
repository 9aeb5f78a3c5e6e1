package message

import (
	"context"
	"sync"
)

// inflight lets one send per nonce through at a time. A copy of a send
// that arrives while the first is still being written waits for it, then
// finds the stored message as any later retry does. So copies sent at
// the same moment make one message and count once against the rate
// limits. A copy of a send that failed is then handled on its own.
type inflight struct {
	mu   sync.Mutex // guards done
	done map[nonceKey]chan struct{}
}

// nonceKey names a nonce: it repeats a message only for the same author
// in the same channel.
type nonceKey struct{ author, channel, nonce string }

// enter waits until no other send of key is in flight, then marks this
// one as in flight. The caller calls the returned function when its send
// has committed or failed.
func (f *inflight) enter(ctx context.Context, key nonceKey) (func(), error) {
	for {
		f.mu.Lock()
		wait, busy := f.done[key]
		if !busy {
			if f.done == nil {
				f.done = map[nonceKey]chan struct{}{}
			}
			finished := make(chan struct{})
			f.done[key] = finished
			f.mu.Unlock()
			return func() { f.leave(key, finished) }, nil
		}
		f.mu.Unlock()

		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *inflight) leave(key nonceKey, finished chan struct{}) {
	f.mu.Lock()
	delete(f.done, key)
	f.mu.Unlock()
	close(finished)
}
