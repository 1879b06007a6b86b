package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkHandOff measures hand-offs per second through the HTTP handler
// into PostgreSQL: each iteration is a new lead, routed, stored with its
// events and queued work in one transaction.
func BenchmarkHandOff(b *testing.B) {
	e := newIntakeEnv(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := strings.Replace(fullHandOff, `"crm-123"`, fmt.Sprintf(`"bench-%d"`, i), 1)
			body = strings.Replace(body, `dana@acme.test`, fmt.Sprintf(`dana%d@acme.test`, i), 1)
			if r := e.post(b, "/v1/handoffs", body); r.Status != http.StatusCreated {
				b.Fatalf("status %d: %s", r.Status, r.Raw)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handoffs/s")
}
