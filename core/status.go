package apptoken

import "time"

// Status describes the accepted tokens in force, for gauges and health
// pages. It never carries a token, nor any part of one.
type Status struct {
	// Tokens is the number of accepted tokens.
	Tokens int
	// Expiry is the earliest exp claim of the JWT-shaped tokens (see
	// [Event]), or zero when no token carries one. It may be in the past:
	// daprd keeps sending an expired token and the verifier keeps
	// accepting it, so an expired token is reported, not rejected.
	Expiry time.Time
}

// Status returns the [Status] of the tokens in force. It is worked out once
// for each set of tokens, when New loads it or a reload changes it, so a
// call costs one atomic load. A nil *Verifier has the zero Status.
func (v *Verifier) Status() Status {
	if v == nil {
		return Status{}
	}
	return v.tokens.Load().status
}

// statusOf works out the Status of a set of tokens, given their exp
// claims (zero for none).
func statusOf(exps []time.Time) Status {
	s := Status{Tokens: len(exps)}
	for _, exp := range exps {
		if !exp.IsZero() && (s.Expiry.IsZero() || exp.Before(s.Expiry)) {
			s.Expiry = exp
		}
	}
	return s
}
