package gateway

import (
	"encoding/json"
	"strconv"

	"github.com/coder/websocket"
)

// Ops the server sends.
const (
	opHello          = "hello"
	opReady          = "ready"
	opDispatch       = "dispatch"
	opHeartbeatAck   = "heartbeat_ack"
	opTyping         = "typing"
	opPresence       = "presence"
	opResumed        = "resumed"
	opResyncRequired = "resync_required"
	opReconnect      = "reconnect"
)

// Ops the client sends.
const (
	opIdentify  = "identify"
	opResume    = "resume"
	opHeartbeat = "heartbeat"
	opStatus    = "status"
	// opTyping is shared with the server's typing frame.
)

// Close codes of the gateway.
const (
	closeUnknownOp     websocket.StatusCode = 4001
	closeInvalidFrame  websocket.StatusCode = 4002
	closeNotAuthed     websocket.StatusCode = 4003
	closeAuthFailed    websocket.StatusCode = 4004
	closeRateLimited   websocket.StatusCode = 4008
	closeTimedOut      websocket.StatusCode = 4009
	closeTooSlow       websocket.StatusCode = 4010
	closeTokenRevoked  websocket.StatusCode = 4011
	closeGoingAway     websocket.StatusCode = websocket.StatusGoingAway
	closeInternalError websocket.StatusCode = websocket.StatusInternalError
)

// inbound is a client frame before its payload is decoded.
type inbound struct {
	Op string          `json:"op"`
	D  json.RawMessage `json:"d"`
}

// frame is an encoded outbound frame. For dispatches, logID and seq let
// the writer keep each log in order.
type frame struct {
	data    []byte
	logID   string // empty for frames outside the logs
	seq     int64
	created int64 // the event's commit time in Unix nanoseconds, for the latency metric; 0 if none
}

// encode builds an op frame.
func encode(op string, d any) []byte {
	payload, err := json.Marshal(struct {
		Op string `json:"op"`
		D  any    `json:"d"`
	}{op, d})
	if err != nil {
		// Every payload here is built from plain structs and maps.
		panic("gateway: encode " + op + ": " + err.Error())
	}
	return payload
}

// encodeDispatch builds a dispatch frame around stored event data, once
// per event, without decoding the data.
func encodeDispatch(typ, logID, guildID string, seq int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+160)
	b = append(b, `{"op":"dispatch","t":`...)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"channel_id":`...)
	b = strconv.AppendQuote(b, logID)
	if guildID != "" {
		b = append(b, `,"guild_id":`...)
		b = strconv.AppendQuote(b, guildID)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"d":`...)
	b = append(b, data...)
	b = append(b, '}')
	return b
}
