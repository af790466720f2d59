// Package apptokenjwt verifies signed app API tokens: a JWT that daprd
// carries as its APP_API_TOKEN, checked against public keys, so that the
// app never holds anything that could make a token. It plugs into the
// core's verifier as a matcher:
//
//	v, err := apptoken.New(apptoken.WithMatcher(
//		apptokenjwt.KeyFile("/keys/app-token.pem", apptokenjwt.WithAudience("orders"))))
//
// What it gives over comparing the exact token:
//   - one signing key for a whole fleet, yet a token minted for the orders
//     app (aud "orders") opens no other app;
//   - the app holds a public key (Ed25519, ECDSA P-256, RSA of 2048 bits
//     or more): a compromised app cannot mint tokens;
//   - a new token needs no change to the app: mint it, put it in daprd's
//     secret, restart daprd;
//   - exp bounds how long a leaked token is any use.
//
// # Keys
//
// A key file holds PEM "PUBLIC KEY" blocks, or a JWK Set. Each key is bound
// to one algorithm: EdDSA for Ed25519, ES256 for P-256, RS256 for RSA (a
// JWK's alg may choose RS384, RS512 or PS256-512), HS256 for an HMAC
// secret (a JWK of kty "oct", at least 32 bytes; a JWK's alg may choose
// HS384 or HS512). A token's alg must be its key's: "none", or an
// algorithm other than the key's (HS256 with an RSA key's kid, say), finds
// no key. A token's kid selects the key; a PEM key, or a JWK without a
// kid, is known by its RFC 7638 thumbprint (see [Thumbprint]). A token
// without a kid is verified with the only key bound to its algorithm, and
// refused when there are several. A private key in the file is an error:
// the app must hold only what verifies.
//
// HMAC secrets work, but the app then holds what mints tokens, as it does
// with a plain token: prefer a key pair.
//
// The key file is read again every reload interval of the core's verifier
// and replaced only by a good reading, so adding and retiring keys needs
// no restart; see the key rotation runbook in the repository's docs.
//
// # Claims
//
// exp is required; nbf and iat are honoured with a leeway ([WithLeeway]);
// aud must contain the app's audience when [WithAudience] is given; iss
// must be an allowed one when [WithIssuers] is given; [WithMaxLifetime]
// bounds exp - iat. Each failure is a decision of its own (expired,
// not_yet_valid, wrong_audience, wrong_issuer, unknown_key, bad_signature,
// malformed) that hooks and metrics see; the token and its claims' values
// are never logged.
//
// # Cost
//
// A signature check costs tens of microseconds, so what costs little is
// checked first: the token's shape, its claims, the key; a flood of
// garbage, or of tokens with a wrong audience or an unknown key, is turned
// away before any signature is verified. daprd sends the same token on
// every call, and the core's verifier remembers an accepted token until
// its exp: after the first call, accepting it costs a constant-time
// compare, as a plain token does.
//
// # Why golang-jwt
//
// Tokens are parsed and signatures verified by github.com/golang-jwt/jwt/v5:
// small, widely used, and its key lookup lets this package bind each key
// to one algorithm itself. It reads no JWK Set, so this package decodes
// the few public-key members of one (kty, crv, x, y, n, e, k, kid, alg,
// use) with the standard library; github.com/lestrrat-go/jwx/v3 would do
// that too, at the price of about ten more modules in every app that
// imports this one.
package apptokenjwt
