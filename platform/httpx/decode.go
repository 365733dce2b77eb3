package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// ReadBody reads the request body, refusing more than MaxBodyBytes and an empty body.
func ReadBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxBodyBytes+1))
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "read request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, apperr.New(apperr.TooLarge, "request body exceeds the limit of %s", humanBytes(MaxBodyBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apperr.New(apperr.Invalid, "request body is empty; send a JSON object")
	}
	return body, nil
}

// DecodeStrict decodes one JSON value from body into v, refusing unknown fields and
// trailing data, with an error that names the offending field.
func DecodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return DescribeJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.New(apperr.Invalid, "malformed JSON: unexpected data after the top-level value")
	}
	return nil
}

// BindStrict reads and strictly decodes the request body into v.
func BindStrict(c echo.Context, v any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return DecodeStrict(body, v)
}

// DescribeJSONError turns an encoding/json error into an Invalid error a caller can act on.
func DescribeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return apperr.New(apperr.Invalid, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return apperr.New(apperr.Invalid, "body must be %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return apperr.InvalidField(field, "field %q must be %s, got %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apperr.New(apperr.Invalid, "malformed JSON: body ends before the value is complete")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.InvalidField(name, "unknown field %q", name)
	default:
		return apperr.New(apperr.Invalid, "malformed JSON: %v", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	default:
		return "a " + goKind
	}
}

func humanBytes(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
