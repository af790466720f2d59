package apptoken

import "time"

// Status describes the accepted tokens in force, for gauges and health
// pages. It never carries a token, nor any part of one.
type Status struct {
	// Tokens is the number of accepted tokens.
	Tokens int
	// Expiry is the earliest exp claim of the JWT-shaped tokens (see
	// [Event]) and of the values remembered from matchers (the signed
	// tokens daprd sent lately; see [WithMatcher]), or zero when none
	// carries one. It may be in the past: daprd keeps sending an expired
	// token and the verifier keeps accepting it, so an expired token is
	// reported, not rejected (a matcher, by contrast, rejects it).
	Expiry time.Time
}

// Status returns the [Status] of the tokens in force. The tokens' part is
// worked out once for each set, when New loads it or a reload changes it;
// with matchers, a call also takes a lock to read what they accepted. A
// nil *Verifier has the zero Status.
func (v *Verifier) Status() Status {
	if v == nil {
		return Status{}
	}
	s := v.tokens.Load()
	st := s.status
	if end := s.memo.earliestEnd(); !end.IsZero() && (st.Expiry.IsZero() || end.Before(st.Expiry)) {
		st.Expiry = end
	}
	return st
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
