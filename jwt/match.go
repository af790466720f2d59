package apptokenjwt

import (
	"errors"
	"slices"
	"strings"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/golang-jwt/jwt/v5"
)

// matcher verifies signed tokens with one set of keys. It is immutable.
type matcher struct {
	keys      []key
	cfg       config
	parser    *jwt.Parser
	validator *jwt.Validator
}

func newMatcher(keys []key, cfg config) *matcher {
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.leeway),
		jwt.WithTimeFunc(cfg.now),
	}
	return &matcher{
		keys:      keys,
		cfg:       cfg,
		parser:    jwt.NewParser(jwt.WithStrictDecoding()),
		validator: jwt.NewValidator(opts...),
	}
}

// Match verifies one presented value. What costs little comes first: the
// shape, then the claims, then the key; the signature, the one costly
// step, only for a token that would be accepted if it verifies. An
// accepted token is remembered by the verifier until its exp.
func (m *matcher) Match(value string) (apptoken.Decision, time.Duration) {
	if strings.Count(value, ".") != 2 { // a JWE has five parts, a JWS three
		return apptoken.Malformed, 0
	}
	var claims jwt.RegisteredClaims
	tok, _, err := m.parser.ParseUnverified(value, &claims)
	switch {
	case errors.Is(err, jwt.ErrTokenUnverifiable): // no alg, or one unknown
		return apptoken.UnknownKey, 0
	case err != nil:
		return apptoken.Malformed, 0
	case tok.Header["crit"] != nil: // RFC 7515: understood extensions only
		return apptoken.Malformed, 0
	}
	if d := m.checkClaims(&claims); d != apptoken.Accepted {
		return d, 0
	}
	k, ok := m.keyFor(tok)
	if !ok {
		return apptoken.UnknownKey, 0
	}
	signed := value[:strings.LastIndexByte(value, '.')]
	if err := tok.Method.Verify(signed, tok.Signature, k.pub); err != nil {
		return apptoken.BadSignature, 0
	}
	return apptoken.Accepted, claims.ExpiresAt.Sub(m.cfg.now())
}

// checkClaims checks exp, nbf and iat (with the library's validator), then
// aud, iss and the lifetime.
func (m *matcher) checkClaims(c *jwt.RegisteredClaims) apptoken.Decision {
	if c.ExpiresAt == nil {
		return apptoken.Malformed
	}
	if err := m.validator.Validate(c); err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return apptoken.Expired
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return apptoken.NotYetValid
		}
		return apptoken.Malformed
	}
	if m.cfg.audience != "" && !slices.Contains(c.Audience, m.cfg.audience) {
		return apptoken.WrongAudience
	}
	if len(m.cfg.issuers) > 0 && !slices.Contains(m.cfg.issuers, c.Issuer) {
		return apptoken.WrongIssuer
	}
	if m.cfg.maxLifetime > 0 {
		from := m.cfg.now()
		if c.IssuedAt != nil {
			from = c.IssuedAt.Time
		}
		if c.ExpiresAt.Sub(from) > m.cfg.maxLifetime+m.cfg.leeway {
			return apptoken.Malformed
		}
	}
	return apptoken.Accepted
}

// keyFor returns the key that the token's kid names, when it has one, or
// else the only key bound to the token's algorithm. A key is used only
// with the algorithm it is bound to: a token that names another (an RSA
// key's kid with HS256, say) finds no key.
func (m *matcher) keyFor(tok *jwt.Token) (key, bool) {
	alg := tok.Method.Alg()
	kid, hasKid := tok.Header["kid"]
	var found []key
	for _, k := range m.keys {
		if k.alg != alg {
			continue
		}
		if hasKid && kid != k.kid {
			continue
		}
		found = append(found, k)
	}
	if len(found) != 1 {
		return key{}, false
	}
	return found[0], true
}
