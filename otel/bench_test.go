package apptokenotel_test

import (
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenotel "github.com/apptoken-go/apptoken/otel"
)

// BenchmarkDecision measures a decision recorded with the SDK's meter,
// against the same decision with no metrics.
func BenchmarkDecision(b *testing.B) {
	cases := []struct {
		name    string
		metrics bool
		opts    []apptokenotel.Option
		values  []string
	}{
		{"accepted/no-metrics", false, nil, []string{token}},
		{"accepted", true, nil, []string{token}},
		{"accepted/method", true, []apptokenotel.Option{apptokenotel.WithMethodAttribute()}, []string{token}},
		{"mismatch", true, nil, []string{other}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			opts := []apptoken.Option{apptoken.WithTokens(token), apptoken.WithEventLog(nil)}
			if c.metrics {
				m, _ := newMetrics(b, c.opts...)
				opts = append(opts, m.Options()...)
			}
			v, err := apptoken.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				v.Verify("POST", "/orders", c.values)
			}
		})
	}
}
