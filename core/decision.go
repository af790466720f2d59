package apptoken

// Outcome is what the verifier decided about one request.
type Outcome uint8

// The outcomes of a verification. The zero Outcome is not a valid outcome and
// is never returned.
const (
	// OutcomeAccepted: a presented value equals an accepted token.
	OutcomeAccepted Outcome = iota + 1
	// OutcomeExempt: the request matches an exemption and was not checked.
	OutcomeExempt
	// OutcomeMissing: no value, or only empty values, were presented.
	OutcomeMissing
	// OutcomeInvalid: values were presented and none is an accepted token.
	OutcomeInvalid
)

var outcomeNames = [...]string{
	OutcomeAccepted: "accepted",
	OutcomeExempt:   "exempt",
	OutcomeMissing:  "missing",
	OutcomeInvalid:  "invalid",
}

// String returns the outcome's lower-case name, suitable for logs and metric labels.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return "unknown"
}

// Reason says why a request was rejected, or how it was let through. It is
// meant for logs and metrics; it never carries any part of a token.
type Reason uint8

// The reasons behind an [Outcome].
const (
	// ReasonMatch: a presented value equals an accepted token.
	ReasonMatch Reason = iota + 1
	// ReasonExempt: the method and path (or gRPC method) are exempt.
	ReasonExempt
	// ReasonNoValue: the header or metadata key is absent, or all its values are empty.
	ReasonNoValue
	// ReasonMismatch: no presented value equals an accepted token.
	ReasonMismatch
	// ReasonTooLong: a presented value is longer than [MaxTokenLength]; nothing was compared.
	ReasonTooLong
	// ReasonTooManyValues: more than [MaxValues] values were presented; nothing was compared.
	ReasonTooManyValues
	// ReasonNoVerifier: the verifier is nil; every request is rejected.
	ReasonNoVerifier
)

var reasonNames = [...]string{
	ReasonMatch:         "match",
	ReasonExempt:        "exempt",
	ReasonNoValue:       "no_value",
	ReasonMismatch:      "mismatch",
	ReasonTooLong:       "too_long",
	ReasonTooManyValues: "too_many_values",
	ReasonNoVerifier:    "no_verifier",
}

// String returns the reason's snake_case name, suitable for logs and metric labels.
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "unknown"
}

// Decision is the verifier's answer for one request.
type Decision struct {
	Outcome Outcome
	Reason  Reason
}

// Allowed reports whether the request may proceed: it was accepted or is exempt.
func (d Decision) Allowed() bool {
	return d.Outcome == OutcomeAccepted || d.Outcome == OutcomeExempt
}

// String returns "outcome/reason", for example "invalid/mismatch".
func (d Decision) String() string { return d.Outcome.String() + "/" + d.Reason.String() }

var (
	decisionAccepted      = Decision{OutcomeAccepted, ReasonMatch}
	decisionExempt        = Decision{OutcomeExempt, ReasonExempt}
	decisionMissing       = Decision{OutcomeMissing, ReasonNoValue}
	decisionMismatch      = Decision{OutcomeInvalid, ReasonMismatch}
	decisionTooLong       = Decision{OutcomeInvalid, ReasonTooLong}
	decisionTooManyValues = Decision{OutcomeInvalid, ReasonTooManyValues}
	decisionNoVerifier    = Decision{OutcomeInvalid, ReasonNoVerifier}
)
