package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// minBits is the entropy under which inspect warns: 128 bits.
const minBits = 128

// maxInspectInput bounds what inspect reads: a token file holds a few
// tokens of at most 4096 bytes each.
const maxInspectInput = 64 << 10

func runInspect(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "inspect", "[-keys FILE] [-aud APP_ID] [FILE]", `
Reads a token, or a token file with one token per line (as APP_API_TOKEN_FILE
holds), from FILE or, without FILE or with "-", from stdin, and says what
each token is. It never prints a token or a signature, and never takes one
from a flag, which would land in the shell's history.

For an opaque token: its length, its alphabet and an estimate of its
entropy, with a warning under 128 bits. For a signed token (a JWT): its
header, its claims (exp as a date and the time left, aud, iss) and, with
-keys, whether its signature verifies against those keys (PEM "PUBLIC KEY"
blocks or a JWK Set). For every token: whether apptoken accepts it as a configured token, and
whether daprd can send it as it is.

Exit status 1 when a token is refused or does not verify.

  apptoken inspect orders.token
  apptoken inspect -keys apptoken.jwks.json < orders.jwt`)
	keysFile := fs.String("keys", "", "verify signed tokens against the public keys in `FILE` (PEM or JWK Set)")
	aud := fs.String("aud", "", "with -keys, also require this audience: the app's Dapr `APP_ID`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError("inspect", "one FILE at most")
	}
	if *aud != "" && *keysFile == "" {
		return usageError("inspect", "-aud needs -keys FILE")
	}
	var keys []publicKey
	if *keysFile != "" {
		var err error
		if keys, err = loadPublicKeys(*keysFile); err != nil {
			return err
		}
	}
	name, in := "stdin", e.stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		name = fs.Arg(0)
		data, err := readLimited(name)
		if err != nil {
			return err
		}
		in = bytes.NewReader(data)
	}
	data, err := io.ReadAll(io.LimitReader(in, maxInspectInput+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > maxInspectInput {
		return fmt.Errorf("%s: more than %d bytes: not a token", name, maxInspectInput)
	}
	var toks []string
	for line := range strings.Lines(string(data)) {
		if t := strings.TrimSpace(line); t != "" {
			toks = append(toks, t)
		}
	}
	if len(toks) == 0 {
		return fmt.Errorf("%s: no token (empty, or only white space)", name)
	}
	w := e.stdout
	bad := 0
	for i, tok := range toks {
		if len(toks) > 1 {
			fmt.Fprintf(w, "token %d of %d (line %d)\n", i+1, len(toks), lineOf(string(data), i))
		}
		if !inspectOne(w, tok, keys, *aud, time.Now()) {
			bad++
		}
		if i < len(toks)-1 {
			fmt.Fprintln(w)
		}
	}
	if len(toks) == 1 && name != "stdin" && len(data) != len(toks[0]) {
		fmt.Fprintf(w, "note        %s has white space or a line break around the token: apptoken trims it, "+
			"but daprd sends APP_API_TOKEN as it is, so give daprd the token without it (printf '%%s', or apptoken new -o)\n", name)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d tokens refused or not verified", bad, len(toks))
	}
	return nil
}

// lineOf returns the line number of the n-th non-blank line of s.
func lineOf(s string, n int) int {
	ln, seen := 0, -1
	for line := range strings.Lines(s) {
		ln++
		if strings.TrimSpace(line) != "" {
			if seen++; seen == n {
				return ln
			}
		}
	}
	return ln
}

// inspectOne describes tok on w and reports whether it is usable (and
// verified, when keys are given).
func inspectOne(w io.Writer, tok string, keys []publicKey, aud string, now time.Time) bool {
	ok := true
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	p("length", "%d bytes", len(tok))
	alpha := alphabetOf(tok)
	header, claims, jwtErr := splitJWT(tok)
	if jwtErr == nil {
		p("alphabet", "base64url parts joined by dots (JWS compact form)")
	} else {
		p("alphabet", "%s", alpha.name)
	}

	if jwtErr == nil {
		p("kind", "signed token (JWT): its strength is its signature, not its length")
		describeJWT(p, header, claims, now)
		switch {
		case len(keys) > 0:
			kid, err := verifyJWT(tok, keys, aud, now)
			if err != nil {
				p("signature", "NOT VERIFIED: %v", err)
				ok = false
			} else {
				p("signature", "verified with the key %s", orNone(kid))
			}
		default:
			p("signature", "not checked (give -keys FILE)")
		}
	} else {
		p("kind", "opaque")
		bits, how := entropyBits(tok, alpha)
		p("entropy", "at most %d bits (%s)", bits, how)
		if bits < minBits {
			p("WARNING", "under %d bits: an attacker who can reach the app could guess it; make one with `apptoken new`", minBits)
		}
		if repetitive(tok, alpha) {
			p("WARNING", "few distinct characters for its length: it does not look random; make one with `apptoken new`")
		}
	}

	if err := checkToken(tok); err != nil {
		p("apptoken", "REFUSED: %v", err)
		ok = false
	} else {
		p("apptoken", "accepted as a configured token")
	}
	if !alpha.headerSafe {
		p("daprd", "cannot be sent as it is: it holds bytes an HTTP header cannot carry")
		ok = false
	} else {
		p("daprd", "can be sent as it is in the dapr-api-token header")
	}
	return ok
}

func orNone(s string) string {
	if s == "" {
		return "(no kid)"
	}
	return s
}

// alphabet is what characters a token is made of.
type alphabet struct {
	name       string
	size       int  // characters of the alphabet an entropy estimate assumes
	classes    int  // characters of the classes (a-z, A-Z, 0-9, symbols) the token uses
	headerSafe bool // visible ASCII only: fits an HTTP header value as it is
	kind       int
}

const (
	alphaHex = iota + 1
	alphaBase64URL
	alphaBase64
	alphaPrintable
	alphaOther
)

func alphabetOf(tok string) alphabet {
	var lower, upper, digit, symbol bool
	hexOnly, b64url, b64 := true, true, true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
			if c > 'f' {
				hexOnly = false
			}
		case c >= 'A' && c <= 'Z':
			upper = true
			if c > 'F' {
				hexOnly = false
			}
		case c >= '0' && c <= '9':
			digit = true
		case c > ' ' && c < 0x7f:
			symbol = true
			hexOnly = false
			b64url = b64url && (c == '-' || c == '_')
			b64 = b64 && (c == '+' || c == '/' || c == '=')
		default:
			return alphabet{name: "other: control characters, spaces or bytes outside ASCII", kind: alphaOther}
		}
	}
	classes := 0
	for _, c := range []struct {
		has bool
		n   int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {symbol, 32}} {
		if c.has {
			classes += c.n
		}
	}
	switch {
	case hexOnly && (!lower || !upper):
		return alphabet{name: "hexadecimal (0-9 a-f)", size: 16, classes: classes, headerSafe: true, kind: alphaHex}
	case b64url:
		return alphabet{name: "base64url (A-Z a-z 0-9 - _)", size: 64, classes: classes, headerSafe: true, kind: alphaBase64URL}
	case b64:
		return alphabet{name: "base64 (A-Z a-z 0-9 + / =)", size: 64, classes: classes, headerSafe: true, kind: alphaBase64}
	}
	return alphabet{name: "printable ASCII", size: classes, classes: classes, headerSafe: true, kind: alphaPrintable}
}

// entropyBits is an upper bound of tok's entropy: what it would hold had
// every character (or, for an encoding, every encoded byte) been drawn at
// random. A token someone chose holds far less.
func entropyBits(tok string, a alphabet) (int, string) {
	bits, how := encodingBits(tok, a)
	// A token that uses fewer kinds of characters than its encoding allows
	// (password123 is valid base64url) holds at most what those allow.
	if a.kind != alphaHex && a.classes > 0 {
		if cb := int(float64(len(tok)) * math.Log2(float64(a.classes))); cb < bits {
			return cb, fmt.Sprintf("%d characters from %d, if each was drawn at random", len(tok), a.classes)
		}
	}
	return bits, how
}

func encodingBits(tok string, a alphabet) (int, string) {
	switch a.kind {
	case alphaHex:
		if b, err := hex.DecodeString(tok); err == nil {
			return len(b) * 8, fmt.Sprintf("%d bytes in hexadecimal, if drawn at random", len(b))
		}
	case alphaBase64URL:
		if b, err := base64.RawURLEncoding.DecodeString(tok); err == nil {
			return len(b) * 8, fmt.Sprintf("%d bytes in base64url, if drawn at random", len(b))
		}
	case alphaBase64:
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
			if b, err := enc.DecodeString(tok); err == nil {
				return len(b) * 8, fmt.Sprintf("%d bytes in base64, if drawn at random", len(b))
			}
		}
	case alphaOther:
		return 0, "not a usable token"
	}
	bits := int(float64(len(tok)) * math.Log2(float64(a.size)))
	return bits, fmt.Sprintf("%d characters from %d, if each was drawn at random", len(tok), a.size)
}

// repetitive reports whether tok has far fewer distinct characters than a
// random string of its length over its alphabet would: fewer than half of
// the expected number, size*(1-(1-1/size)^n).
func repetitive(tok string, a alphabet) bool {
	if a.size == 0 || len(tok) < 8 {
		return false
	}
	distinct := map[byte]bool{}
	for i := 0; i < len(tok); i++ {
		distinct[tok[i]] = true
	}
	size := float64(a.size)
	expected := size * (1 - math.Pow(1-1/size, float64(len(tok))))
	return float64(len(distinct)) < expected/2
}

// jwtHeader is the part of a JWS header inspect shows.
type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
	Cty string `json:"cty"`
}

// splitJWT decodes the header and the claims of a compact JWS. It checks
// the shape only, never the signature.
func splitJWT(tok string) (jwtHeader, map[string]json.RawMessage, error) {
	var h jwtHeader
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return h, nil, errors.New("not three dot-separated parts")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return h, nil, errors.New("the header is not base64url")
	}
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg == "" {
		return h, nil, errors.New("the header is not a JSON object with alg")
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return h, nil, errors.New("the claims are not base64url")
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(cb, &claims); err != nil {
		return h, nil, errors.New("the claims are not a JSON object")
	}
	return h, claims, nil
}

// describeJWT prints the header and the claims inspect shows. Claims other
// than the registered ones are named, not shown.
func describeJWT(p func(label, format string, args ...any), h jwtHeader, claims map[string]json.RawMessage, now time.Time) {
	head := "alg " + h.Alg
	if h.Typ != "" {
		head += ", typ " + h.Typ
	}
	if h.Kid != "" {
		head += ", kid " + h.Kid
	}
	p("header", "%s", head)
	str := func(name string) (string, bool) {
		raw, ok := claims[name]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			return strings.Join(list, ", "), true
		}
		return "(not a string)", true
	}
	if s, ok := str("aud"); ok {
		p("aud", "%s", s)
	} else {
		p("aud", "none: any app with the key would accept it")
	}
	if s, ok := str("iss"); ok {
		p("iss", "%s", s)
	}
	if s, ok := str("sub"); ok {
		p("sub", "%s", s)
	}
	date := func(name string) (time.Time, bool, error) {
		raw, ok := claims[name]
		if !ok {
			return time.Time{}, false, nil
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return time.Time{}, true, fmt.Errorf("%s is not a number", name)
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
			return time.Time{}, true, fmt.Errorf("%s is not a date", name)
		}
		return time.Unix(int64(f), 0).UTC(), true, nil
	}
	for _, name := range []string{"iat", "nbf"} {
		switch t, ok, err := date(name); {
		case err != nil:
			p(name, "%v", err)
		case ok:
			p(name, "%s", t.Format(time.RFC3339))
		}
	}
	switch t, ok, err := date("exp"); {
	case err != nil:
		p("exp", "%v", err)
	case !ok:
		p("exp", "NONE: the token never expires")
	case t.After(now):
		p("exp", "%s (in %s)", t.Format(time.RFC3339), roundDuration(t.Sub(now)))
	default:
		p("exp", "%s (EXPIRED %s ago)", t.Format(time.RFC3339), roundDuration(now.Sub(t)))
	}
	var other []string
	for name := range claims {
		switch name {
		case "aud", "iss", "sub", "iat", "nbf", "exp":
		default:
			other = append(other, name)
		}
	}
	if len(other) > 0 {
		slices.Sort(other)
		p("claims", "also %s (values not shown)", strings.Join(other, ", "))
	}
}

// roundDuration prints d in days and hours, or minutes and seconds.
func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		const day = 24 * time.Hour
		return fmt.Sprintf("%dd%dh", int64(d/day), int64(d%day/time.Hour))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(time.Second).String()
	}
}
