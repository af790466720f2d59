package apptokenotel_test

import (
	"context"
	"fmt"
	"log"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenotel "github.com/apptoken-go/apptoken/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func ExampleNew() {
	// In an application the meter provider has a real reader or exporter
	// (Prometheus, OTLP), or is the global one set at start-up.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	m, err := apptokenotel.New(apptokenotel.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	v, err := apptoken.New(append(m.Options(), apptoken.WithTokens("s3cr3t-token-shared-with-daprd"))...)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	reg, err := m.Observe(v) // the gauges: tokens in force, time left before the earliest exp
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = reg.Unregister() }()

	v.Verify("POST", "/orders", []string{"s3cr3t-token-shared-with-daprd"})
	v.Verify("POST", "/orders", []string{"guess"})
	v.Verify("POST", "/orders", nil)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, md := range rm.ScopeMetrics[0].Metrics {
		switch data := md.Data.(type) {
		case metricdata.Sum[int64]:
			for _, p := range data.DataPoints {
				if d, ok := p.Attributes.Value("apptoken.decision"); ok {
					fmt.Printf("%s{apptoken.decision=%s} %d\n", md.Name, d.AsString(), p.Value)
				}
			}
		case metricdata.Gauge[int64]:
			fmt.Printf("%s %d\n", md.Name, data.DataPoints[0].Value)
		}
	}
	// Unordered output:
	// apptoken.decisions{apptoken.decision=accepted} 1
	// apptoken.decisions{apptoken.decision=exempt} 0
	// apptoken.decisions{apptoken.decision=missing} 1
	// apptoken.decisions{apptoken.decision=mismatch} 1
	// apptoken.decisions{apptoken.decision=too_long} 0
	// apptoken.decisions{apptoken.decision=too_many_values} 0
	// apptoken.decisions{apptoken.decision=malformed} 0
	// apptoken.decisions{apptoken.decision=expired} 0
	// apptoken.decisions{apptoken.decision=not_yet_valid} 0
	// apptoken.decisions{apptoken.decision=wrong_audience} 0
	// apptoken.decisions{apptoken.decision=wrong_issuer} 0
	// apptoken.decisions{apptoken.decision=unknown_key} 0
	// apptoken.decisions{apptoken.decision=bad_signature} 0
	// apptoken.token.count 1
}
