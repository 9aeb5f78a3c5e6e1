// Package gateway provides the real-time WebSocket gateway: one
// connection per client session, authenticated by an Authorization header
// on the upgrade or an identify frame, fed by the event bus and filtered
// by permission for each recipient.
//
// # Protocol
//
// Frames are JSON text {"op", "d"}; dispatches add "t", "channel_id" and
// "seq", except user_update, which belongs to no log. The server sends
// hello, then ready after authentication, then dispatch, typing and
// presence frames; the client sends heartbeat,
// typing and status. A reconnecting client sends resume with the last seq
// it saw per log and receives every missed event, in order, before new
// ones, or resync_required for logs whose gap is too large to replay.
//
// # Close codes
//
// 4000 to 4099 are OpenGuild's, per the API contract: 4001 unknown op,
// 4002 invalid frame, 4003 not authenticated, 4004 authentication
// failed, 4008 rate limited, 4009 session timed out, 4010 too slow,
// 4011 token revoked. 1001 (going away) follows a reconnect op at
// shutdown.
//
// # Delivery
//
// Each event is encoded once and the same bytes are queued for every
// recipient. A connection writes from its own bounded queue; one whose
// queue is full is closed with 4010 and never slows anyone else. Per log,
// a connection writes events in sequence order without gaps or repeats:
// it drops what it already sent and reads a gap, which can appear when two
// commits publish out of order, back from the event log.
//
// # Concurrency
//
// A Hub is safe for concurrent use. It owns one goroutine for the bus and
// one ticker; each connection owns a reader and a writer. Shutdown stops
// them all and returns once they have exited.
package gateway
