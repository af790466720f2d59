package main

import (
	"errors"
	"fmt"
	"strings"
)

// The names daprd and the apptoken library use, and the library's rules
// for a configured token. They are the core's (HeaderName, DefaultEnvVar,
// DefaultFileEnvVar, MaxTokenLength and the checks of its normalize), held
// here because the command is a module of its own with no dependency on
// the library's modules: `go install …/cmd/apptoken@version` refuses a
// module whose go.mod has replace directives, which every module that
// requires one of ours has for work in this repository. TestAgreesWithCore
// reads the core's source to keep them the same.
const (
	headerName     = "dapr-api-token"
	envVar         = "APP_API_TOKEN"
	fileEnvVar     = "APP_API_TOKEN_FILE"
	maxTokenLength = 4096
)

// checkToken applies the library's rules to a configured token that has
// been trimmed of spaces, tabs and line ends: not empty, at most
// maxTokenLength bytes, no control character.
func checkToken(t string) error {
	switch {
	case strings.Trim(t, " \t\r\n") != t:
		return errors.New("white space around the token")
	case t == "":
		return errors.New("empty token")
	case len(t) > maxTokenLength:
		return fmt.Errorf("longer than %d bytes", maxTokenLength)
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c < 0x20 || c == 0x7f {
			return errors.New("contains a control character")
		}
	}
	return nil
}
