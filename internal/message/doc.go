// Package message provides chat messages: sending with idempotent
// nonces, history, edits, deletes that erase content, reactions and
// mentions.
//
// # Write path
//
// A send is checked (permissions, content, mentions) in the caller's
// goroutine, then queued to a single writer that appends everything queued
// at that moment in one transaction, one savepoint per message, and
// commits once. A 201 is answered only after that commit, so every
// acknowledged message is durable, and the writer amortises one fsync
// over many messages under load. Events are published after the commit.
//
// # Concurrency
//
// A Service is safe for concurrent use. Its writer goroutine is started
// by Start and stopped by Close, which waits for queued sends to finish.
package message
