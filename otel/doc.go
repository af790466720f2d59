// Package apptokenotel records what an app API token verifier
// ([github.com/apptoken-go/apptoken/core]) decides and reports as
// OpenTelemetry metrics: decisions, reloads, the tokens in force and the
// time left before the earliest of them expires.
//
//	m, err := apptokenotel.New() // the global meter provider; or WithMeterProvider(mp)
//	if err != nil {
//		log.Fatal(err)
//	}
//	v, err := apptoken.New(m.Options()...) // plus the verifier's other options
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	reg, err := m.Observe(v) // the gauges
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer reg.Unregister()
//
// # Instruments
//
// The meter is named [ScopeName]. Names follow OpenTelemetry's naming rules:
// a namespace of the library's own (apptoken), counters of discrete things
// pluralised and with an annotation as their unit, UCUM units, nothing
// suffixed _total or with its unit. The Prometheus forms are those of the
// OpenTelemetry Prometheus exporter with its default translation.
//
//	instrument                kind           unit        attributes                               Prometheus
//	apptoken.decisions        Counter        {decision}  apptoken.decision, apptoken.allowed,     apptoken_decisions_total
//	                                                     http.request.method (opt-in)
//	apptoken.reloads          Counter        {reload}    apptoken.reload.result                   apptoken_reloads_total
//	apptoken.token.count      Gauge (async)  {token}     none                                     apptoken_token_count
//	apptoken.token.time_left  Gauge (async)  s           none                                     apptoken_token_time_left_seconds
//
// In Prometheus the attributes are labels with underscores:
// apptoken_decision, apptoken_allowed, http_request_method,
// apptoken_reload_result.
//
// apptoken.decisions counts every request the verifier decides.
// apptoken.decision is the [apptoken.Decision] as its String() gives it:
// accepted, exempt, missing, mismatch, too_long or too_many_values, and
// with signed tokens (the jwt module) malformed, expired, not_yet_valid,
// wrong_audience, wrong_issuer, unknown_key or bad_signature.
// apptoken.allowed is true for accepted and exempt, false for the others.
// The decision is one value that says both whether a request got through
// and why; apptoken.allowed repeats the first half so that "every rejection"
// is one label match (apptoken_allowed="false") that stays right when a
// reason is added. The semantic conventions' error.type is not used: a
// rejection is the verifier working, not an operation failing, and error.type
// would leave accepted and exempt requests alike.
//
// There is no path attribute, and no method attribute unless
// [WithMethodAttribute] is given: a caller chooses both, and every distinct
// value is a new time series, which is how label sets grow without bound and
// take a metrics backend down. With the option, the method is reported as
// the semantic conventions' http.request.method, limited to the methods they
// know and "_OTHER".
//
// apptoken.reloads counts the reload events of the verifier (see
// [apptoken.Event]), with apptoken.reload.result "success" (the tokens
// changed, or a reload succeeded again after failing) or "failure". A reload
// that finds the same tokens is not counted, and a failure is counted once
// for each distinct error, not at every interval while it lasts.
//
// Every decision and both reload results are reported from the start, at 0,
// because Prometheus' increase() and rate() miss the first increment of a
// series that appears with it: the first failed reload would fire no
// alert. With [WithMethodAttribute], decisions appear with their first
// request instead (all of them at 0 would be 143 series).
//
// The gauges are read at each collection, from [apptoken.Verifier.Status]
// (worked out when the tokens are loaded, not per call):
// apptoken.token.count is the number of tokens in force, and
// apptoken.token.time_left the seconds left until the earliest exp claim of
// the JWT-shaped ones (and of the signed token daprd sent lately, when
// signed tokens are verified), named after the OpenTelemetry Collector's
// tlscheck.time_left for certificates. Unlike that one, it goes negative
// once the claim has passed, so that it also tells how long ago. It is not
// reported while no token carries an exp claim.
//
// The repository's docs/metrics.md has PromQL queries and alert rules.
//
// # Cost
//
// Recording a decision allocates nothing with the OpenTelemetry SDK's meter:
// the attribute sets and the options that carry them are made in [New].
// The SDK's counter adds about 130 ns to a decision on a 2-core machine
// (BenchmarkDecision), nearly all of it inside the SDK.
package apptokenotel
