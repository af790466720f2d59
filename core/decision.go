package apptoken

// Decision is the verifier's answer for one request: whether it may
// proceed, and why. It is meant for logs and metrics and never carries any
// part of a token. The zero Decision is not a valid decision and is never
// returned.
type Decision uint8

// The decisions. Accepted and Exempt let the request through; every other
// decision rejects it, and the caller gets the same answer for all of them
// (see [RejectionBody]), so that it learns nothing about what was expected.
const (
	// Accepted: a presented value equals an accepted token.
	Accepted Decision = iota + 1
	// Exempt: the method and path (or gRPC method) are exempt; no value
	// was looked at.
	Exempt
	// Missing: the header or metadata key is absent, or all its values are
	// empty.
	Missing
	// Mismatch: values were presented and none equals an accepted token
	// (nor did a matcher accept one or say more precisely why not). A nil
	// *Verifier answers Mismatch to every request.
	Mismatch
	// TooLong: a presented value is longer than [MaxTokenLength]; nothing
	// was compared.
	TooLong
	// TooManyValues: more than [MaxValues] values were presented; nothing
	// was compared.
	TooManyValues

	// The decisions below come from a [Matcher] (see [WithMatcher]), such
	// as the signed-token verifier of the apptokenjwt module, about a
	// value that no accepted token equals.

	// Malformed: not a token the matcher can read: not a signed JWT, a
	// required claim missing or of the wrong type, or a lifetime longer
	// than allowed.
	Malformed
	// Expired: the token's exp is past.
	Expired
	// NotYetValid: the token's nbf or iat is still to come.
	NotYetValid
	// WrongAudience: the token is not meant for this app (aud).
	WrongAudience
	// WrongIssuer: the token's issuer (iss) is not an allowed one.
	WrongIssuer
	// UnknownKey: no key is known for the token's key id and algorithm.
	UnknownKey
	// BadSignature: the token's signature does not verify with its key.
	BadSignature
)

var decisionNames = [...]string{
	Accepted:      "accepted",
	Exempt:        "exempt",
	Missing:       "missing",
	Mismatch:      "mismatch",
	TooLong:       "too_long",
	TooManyValues: "too_many_values",
	Malformed:     "malformed",
	Expired:       "expired",
	NotYetValid:   "not_yet_valid",
	WrongAudience: "wrong_audience",
	WrongIssuer:   "wrong_issuer",
	UnknownKey:    "unknown_key",
	BadSignature:  "bad_signature",
}

// Allowed reports whether the request may proceed: it was accepted or is
// exempt.
func (d Decision) Allowed() bool { return d == Accepted || d == Exempt }

// String returns the decision's snake_case name ("accepted", "mismatch",
// ...), suitable for logs and as a metric attribute.
func (d Decision) String() string {
	if int(d) < len(decisionNames) && decisionNames[d] != "" {
		return decisionNames[d]
	}
	return "unknown"
}
