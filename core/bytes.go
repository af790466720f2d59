package apptoken

import "unsafe"

// asBytes views a string or byte slice as a byte slice without copying. The
// result is only read, never written or kept. Both a string and a slice
// begin with the pointer to their bytes, which is all that is read here;
// a type switch instead would cost a dictionary look-up per value.
func asBytes[T string | []byte](v T) []byte {
	return unsafe.Slice(*(**byte)(unsafe.Pointer(&v)), len(v))
}
