package apptokenjwt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// Environment variables read by [FromEnv].
const (
	// KeysEnvVar names the key file that signed tokens are verified with.
	KeysEnvVar = "APP_API_TOKEN_KEYS"
	// AudienceEnvVar holds the audience tokens must be minted for: the app's
	// Dapr app id.
	AudienceEnvVar = "APP_API_TOKEN_AUDIENCE"
)

// Defaults and bounds of the options.
const (
	DefaultLeeway = 30 * time.Second
	MaxLeeway     = 5 * time.Minute
)

// maxFileSize bounds a key file: far more than MaxKeys keys need.
const maxFileSize = 1 << 20

// Source verifies signed tokens with the keys of a file (or of bytes given
// once). It is an [apptoken.MatcherSource]: give it to the verifier with
// [apptoken.WithMatcher], which loads it in New and again every reload
// interval, so that keys added to or retired from the file take effect
// without a restart.
type Source struct {
	path string // "" for keys given as bytes
	data []byte
	cfg  config
	err  error // from the options, returned by every Load
}

// KeyFile returns a Source that reads its keys from the file at path: PEM
// "PUBLIC KEY" blocks, or a JWK Set (JSON). The file is read in
// [apptoken.New] and again every reload interval; one that is missing,
// malformed, holds a private key or is larger than 1 MiB is an error from
// New, or at a reload an [apptoken.EventReloadFailed] that keeps the last
// good keys. An invalid option is an error from New too.
func KeyFile(path string, opts ...Option) *Source {
	return newSource(&Source{path: path}, opts)
}

// Keys returns a Source with fixed keys, in either form [KeyFile] reads.
func Keys(data []byte, opts ...Option) *Source {
	return newSource(&Source{data: slices.Clone(data)}, opts)
}

// FromEnv returns [KeyFile] of the path in APP_API_TOKEN_KEYS, with
// [WithAudience] of APP_API_TOKEN_AUDIENCE when that is set, and true; or
// nil and false when APP_API_TOKEN_KEYS is unset or empty.
func FromEnv(opts ...Option) (*Source, bool) {
	path := strings.TrimSpace(os.Getenv(KeysEnvVar))
	if path == "" {
		return nil, false
	}
	if aud := strings.TrimSpace(os.Getenv(AudienceEnvVar)); aud != "" {
		opts = append(opts, WithAudience(aud))
	}
	return KeyFile(path, opts...), true
}

func newSource(s *Source, opts []Option) *Source {
	s.cfg = config{leeway: DefaultLeeway, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&s.cfg)
		}
	}
	s.err = s.cfg.err
	return s
}

// String describes the source; it never holds a key.
func (s *Source) String() string {
	if s.path != "" {
		return "signed-token keys in file " + s.path
	}
	return fmt.Sprintf("signed-token keys (%d bytes given)", len(s.data))
}

// Load reads the keys and returns the matcher that verifies tokens with
// them, and the SHA-256 of the key file as its digest.
func (s *Source) Load() (apptoken.Matcher, string, error) {
	if s.err != nil {
		return nil, "", s.err
	}
	data := s.data
	if s.path != "" {
		var err error
		if data, err = readFile(s.path); err != nil {
			return nil, "", err
		}
	}
	keys, err := parseKeys(data)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return newMatcher(keys, s.cfg), hex.EncodeToString(sum[:]), nil
}

// readFile reads a regular file of at most maxFileSize bytes. It opens the
// file without blocking, so that a FIFO put in its place cannot stall the
// reloader.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0) //nolint:gosec // G304: the key file the application named, by design
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidKeys, maxFileSize)
	}
	return data, nil
}

// Option configures a [Source].
type Option func(*config)

type config struct {
	audience    string
	issuers     []string
	leeway      time.Duration
	maxLifetime time.Duration
	now         func() time.Time
	err         error
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{apptoken.ErrInvalidOption}, args...)...)
	}
}

// WithAudience requires tokens to name aud, the app's Dapr app id, in their
// aud claim, so that a token minted for one app opens no other. Without
// it, any token the keys verify is accepted, whatever its audience: give
// it whenever one key signs the tokens of several apps.
func WithAudience(aud string) Option {
	return func(c *config) {
		if aud == "" {
			c.fail("WithAudience: empty audience")
			return
		}
		c.audience = aud
	}
}

// WithIssuers accepts only tokens whose iss claim is one of issuers.
func WithIssuers(issuers ...string) Option {
	return func(c *config) {
		if len(issuers) == 0 || slices.Contains(issuers, "") {
			c.fail("WithIssuers: no issuer, or an empty one")
			return
		}
		c.issuers = append(c.issuers, issuers...)
	}
}

// WithLeeway sets how far clocks may disagree when exp, nbf and iat are
// checked: [DefaultLeeway] unless given, at most [MaxLeeway].
func WithLeeway(d time.Duration) Option {
	return func(c *config) {
		if d < 0 || d > MaxLeeway {
			c.fail("WithLeeway: %v is not between 0 and %v", d, MaxLeeway)
			return
		}
		c.leeway = d
	}
}

// WithMaxLifetime refuses tokens meant to live longer than d: from iat
// (or, without iat, from now) to exp. A token minted for years is then
// refused as [apptoken.Malformed] even when its signature verifies.
func WithMaxLifetime(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("WithMaxLifetime: %v is not positive", d)
			return
		}
		c.maxLifetime = d
	}
}

// WithClock sets the clock the claims are checked against, for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.fail("WithClock: nil clock")
			return
		}
		c.now = now
	}
}
