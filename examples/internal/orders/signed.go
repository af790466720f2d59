package orders

import (
	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
)

// TokenOptions says what the services accept. When APP_API_TOKEN_KEYS
// names a key file, they accept the tokens signed with its keys, for the
// audience in APP_API_TOKEN_AUDIENCE when that is set
// (apptokenjwt.FromEnv), and APP_API_TOKEN is not needed. Otherwise they
// accept the library's default: APP_API_TOKEN, or the file named by
// APP_API_TOKEN_FILE.
func TokenOptions() []apptoken.Option {
	if keys, ok := apptokenjwt.FromEnv(); ok {
		return []apptoken.Option{apptoken.WithMatcher(keys)}
	}
	return nil
}
