package vitals

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/metrics"
)

// TestOneGoroutineCount: go_goroutines on /metrics, "goroutines" on
// /debug/vitals and the grouped dump's total count the same goroutines
// (runtime.NumGoroutine's: the runtime's system goroutines left out), so in
// a steady service they agree; /debug/vitals' goroutines_with_system and
// go_sched_goroutines_goroutines count the system goroutines too.
func TestOneGoroutineCount(t *testing.T) {
	svc, err := Start(context.Background(), quiet(), NoWatchdog(),
		AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "pw"), admin.WithExpensiveInterval(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	addr := svc.Admin().Addr()
	goGoroutines := regexp.MustCompile(`(?m)^go_goroutines (\d+)$`)
	withSystem := regexp.MustCompile(`(?m)^go_sched_goroutines_goroutines (\d+)$`)
	var last string
	for try := 0; try < 20; try++ {
		// /metrics reads the runtime at most once a second: wait for a
		// fresh read so that all three look at the same state.
		time.Sleep(metrics.DefaultMinInterval + 50*time.Millisecond)
		_, m := fetch(t, addr, "/metrics")
		_, v := fetch(t, addr, "/debug/vitals")
		_, d := fetch(t, addr, "/debug/vitals/goroutines?format=json")
		var vs struct {
			State struct {
				Goroutines           int `json:"goroutines"`
				GoroutinesWithSystem int `json:"goroutines_with_system"`
			} `json:"state"`
		}
		var dump struct {
			Goroutines int `json:"goroutines"`
		}
		if err := json.Unmarshal([]byte(v), &vs); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(d), &dump); err != nil {
			t.Fatal(err)
		}
		mm, ms := goGoroutines.FindStringSubmatch(m), withSystem.FindStringSubmatch(m)
		if mm == nil || ms == nil {
			t.Fatalf("/metrics lacks go_goroutines or go_sched_goroutines_goroutines")
		}
		metric, _ := strconv.Atoi(mm[1])
		metricSys, _ := strconv.Atoi(ms[1])
		if metricSys <= metric || vs.State.GoroutinesWithSystem <= vs.State.Goroutines {
			t.Errorf("counts with system goroutines (%d on /metrics, %d on /debug/vitals) not above those without (%d, %d)",
				metricSys, vs.State.GoroutinesWithSystem, metric, vs.State.Goroutines)
		}
		if metric == vs.State.Goroutines && metric == dump.Goroutines {
			return
		}
		last = strconv.Itoa(metric) + " on /metrics, " + strconv.Itoa(vs.State.Goroutines) + " on /debug/vitals, " + strconv.Itoa(dump.Goroutines) + " dumped"
	}
	t.Errorf("the three goroutine counts never agreed in 20 tries; last: %s", last)
}
