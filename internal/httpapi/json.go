package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// errInvalidEncoding marks a body that is not valid UTF-8. It answers
// invalid_json like any malformed body, and callers that count rejections
// by reason can tell it apart.
var errInvalidEncoding = errors.New("request body is not valid UTF-8")

// decodeJSON reads the request body, bounded by the route's cap, into dst.
// It answers the contract's errors: 413 payload_too_large over the cap,
// 400 invalid_json for an empty, malformed or non-UTF-8 body, and 400
// validation_error naming the field for a value of the wrong type.
func decodeJSON(r *http.Request, dst any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return payloadTooLarge(tooLarge.Limit)
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "The request body could not be read.", Cause: err}
	}

	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "The request body is empty; send a JSON object."}
	}
	if !utf8.Valid(data) {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "The request body is not valid UTF-8.", Cause: errInvalidEncoding}
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "The request body has data after the JSON value."}
	}
	return nil
}

func jsonError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntaxErr.Offset), Cause: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "The request body ends in the middle of a JSON value.", Cause: err}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
				Message: fmt.Sprintf("The request body must be %s in JSON.", jsonKind(typeErr.Type.Kind().String())), Cause: err}
		}
		return validationError(FieldError{Field: field,
			Message: fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)})
	default:
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: "The request body is not valid JSON.", Cause: err}
	}
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "struct" || kind == "map":
		return "an object"
	case kind == "slice" || kind == "array":
		return "an array"
	case strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float"):
		return "a number"
	default:
		return "a " + kind
	}
}

func payloadTooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge,
		Message: fmt.Sprintf("The request body is larger than this route's limit of %d bytes.", limit)}
}

// writeJSON encodes v with the given status. Encoding happens before the
// header is written, so an unencodable value becomes a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":"internal_error","message":"The server could not encode its response."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
