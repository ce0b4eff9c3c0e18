package promexport

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/govitals/vitals/metrics"
)

// TestConcurrentScrapes gathers and encodes (text and protobuf) from several
// goroutines at once while frames are shared and while they are rebuilt;
// run with -race it proves the shared protobufs are only read.
func TestConcurrentScrapes(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Hour} {
		t.Run(interval.String(), func(t *testing.T) {
			c := newTestCollector(t, append(hooks(), metrics.WithMinInterval(interval))...)
			reg := prometheus.NewRegistry()
			reg.MustRegister(c)
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for range 10 {
						var gather prometheus.Gatherer = reg
						if g%2 == 1 {
							gather = c
						}
						mfs, err := gather.Gather()
						if err != nil {
							t.Error(err)
							return
						}
						for _, f := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeProtoDelim)} {
							var b bytes.Buffer
							enc := expfmt.NewEncoder(&b, f)
							for _, mf := range mfs {
								if err := enc.Encode(mf); err != nil {
									t.Error(err)
									return
								}
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
