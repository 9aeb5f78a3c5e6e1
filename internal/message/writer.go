package message

import (
	"context"
	"sync"
)

// maxBatch bounds how many drafts one transaction appends, so a burst
// cannot hold the database's write lock for long.
const maxBatch = 256

// writeRequest is one draft waiting for its batch to commit.
type writeRequest struct {
	ctx    context.Context
	draft  Draft
	result chan Appended // buffered: the writer never blocks on a caller
}

// writer appends drafts in group commits: it takes every request queued
// at the moment, up to maxBatch, and commits them in one transaction.
type writer struct {
	store   Store
	publish func(Appended)
	queue   chan writeRequest

	mu      sync.Mutex // guards closed
	closed  bool
	stopped chan struct{} // closed when the loop has exited
}

func newWriter(store Store, publish func(Appended)) *writer {
	return &writer{store: store, publish: publish, queue: make(chan writeRequest, 4*maxBatch), stopped: make(chan struct{})}
}

// submit queues a draft and waits for its outcome. It returns ErrClosed
// once close has begun.
func (w *writer) submit(ctx context.Context, d Draft) Appended {
	req := writeRequest{ctx: ctx, draft: d, result: make(chan Appended, 1)}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return Appended{Err: ErrClosed}
	}
	// Sending under the lock keeps close from closing the queue under us;
	// the queue is drained by the loop, so this waits only for capacity.
	select {
	case w.queue <- req:
	case <-ctx.Done():
		w.mu.Unlock()
		return Appended{Err: ctx.Err()}
	}
	w.mu.Unlock()

	// Once queued, the draft is committed or fails with its batch; the
	// caller waits for that outcome even if its context ends, so a 201 is
	// never lost and a message is never written twice by a retry racing
	// its original.
	return <-req.result
}

// run is the writer loop. It returns when the queue is closed and empty.
func (w *writer) run() {
	defer close(w.stopped)
	for first := range w.queue {
		batch := []writeRequest{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-w.queue:
				if !ok {
					break collect
				}
				batch = append(batch, req)
			default:
				break collect
			}
		}
		w.commit(batch)
	}
}

func (w *writer) commit(batch []writeRequest) {
	drafts := make([]Draft, len(batch))
	for i, req := range batch {
		drafts[i] = req.draft
	}

	// The batch runs under its own context: one caller giving up must not
	// abort the transaction that carries everyone else's messages.
	results, err := w.store.AppendBatch(context.Background(), drafts)
	for i, req := range batch {
		out := Appended{Err: err}
		if err == nil {
			out = results[i]
		}
		if out.Err == nil && !out.Existing {
			w.publish(out)
		}
		req.result <- out
	}
}

// close stops accepting drafts, lets queued ones commit, and waits for
// the loop to exit. It is safe to call more than once.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.stopped
}
