package apptoken_test

import (
	"strings"
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
)

// BenchmarkVerify measures the decision alone, without any framework.
func BenchmarkVerify(b *testing.B) {
	wrong := strings.Repeat("x", len(conformance.Token))
	jwtWrong := strings.Repeat("x", len(conformance.JWTToken))
	cases := []struct {
		name   string
		tokens []string
		value  string
	}{
		{"accept-43B", []string{conformance.Token}, conformance.Token},
		{"reject-43B", []string{conformance.Token}, wrong},
		{"accept-jwt", []string{conformance.JWTToken}, conformance.JWTToken},
		{"reject-jwt", []string{conformance.JWTToken}, jwtWrong},
		{"accept-43B-2tokens", []string{conformance.NextToken, conformance.Token}, conformance.Token},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v := mustNew(b, apptoken.WithTokens(c.tokens...))
			values := []string{c.value}
			b.ReportAllocs()
			for b.Loop() {
				v.Verify("POST", "/orders", values)
			}
		})
	}
	b.Run("exempt", func(b *testing.B) {
		v := mustNew(b, apptoken.WithTokens(conformance.Token))
		b.ReportAllocs()
		for b.Loop() {
			v.Verify("GET", "/healthz", nil)
		}
	})
}
