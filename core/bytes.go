package apptoken

import "unsafe"

// asBytes views a string or byte slice as a byte slice without copying. The
// result is only read, never written or kept.
func asBytes[T string | []byte](v T) []byte {
	switch v := any(v).(type) {
	case string:
		return unsafe.Slice(unsafe.StringData(v), len(v))
	case []byte:
		return v
	}
	return nil
}
