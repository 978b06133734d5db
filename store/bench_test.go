package store

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngest commits one event and opens its case per operation, from
// 16 goroutines, as the webhook does under load.
func BenchmarkIngest(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			s := newStore(b, d)
			var n atomic.Int64
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // about 16 goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					_, err := s.Ingest(b.Context(), Event{
						Source: "hr", EventID: fmt.Sprintf("e%d", i), Type: "terminated",
						Email: fmt.Sprintf("user%d@example.com", i), Reason: "terminated",
						ReceivedAt: time.Now(), Actor: "source:hr",
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
