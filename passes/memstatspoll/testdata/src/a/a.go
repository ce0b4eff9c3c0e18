package a

import (
	"context"
	"runtime"
	rt "runtime"
	"time"
)

var sink uint64

func ticker(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var m runtime.MemStats
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			runtime.ReadMemStats(&m) // want `runtime.ReadMemStats stops the world; called every 100ms here \(read runtime/metrics`
			sink = m.HeapAlloc
		}
	}
}

func rangeTicker() {
	t := time.NewTicker(time.Second)
	var m rt.MemStats
	for range t.C {
		rt.ReadMemStats(&m) // once a second: not reported
	}
}

func tick() {
	var m runtime.MemStats
	for range time.Tick(250 * time.Millisecond) {
		runtime.ReadMemStats(&m) // want `called every 250ms here`
	}
}

func sleep() {
	var m runtime.MemStats
	for {
		runtime.ReadMemStats(&m) // want `called every 10ms here`
		time.Sleep(10 * time.Millisecond)
	}
}

func slowSleep() {
	var m runtime.MemStats
	for {
		runtime.ReadMemStats(&m) // every 15s: not reported
		time.Sleep(15 * time.Second)
	}
}

func after(ctx context.Context) {
	var m runtime.MemStats
	for ctx.Err() == nil {
		<-time.After(time.Minute)
		runtime.ReadMemStats(&m) // once a minute: not reported
	}
}

func configured(every time.Duration) {
	var m runtime.MemStats
	for {
		runtime.ReadMemStats(&m) // the period is configuration: not reported
		time.Sleep(every)
	}
}

func perItem(items []int) {
	var m runtime.MemStats
	for range items {
		runtime.ReadMemStats(&m) // want `called on every iteration of a loop that nothing paces`
	}
}

func once() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m) // not in a loop: not reported
	return m.HeapAlloc
}

func closureInLoop(items []int) {
	for range items {
		go func() {
			var m runtime.MemStats
			runtime.ReadMemStats(&m) // its own function, not in a loop there: not reported
		}()
	}
}

func suppressed() {
	var m runtime.MemStats
	for i := 0; i < 3; i++ {
		runtime.ReadMemStats(&m) //vitals:ignore memstatspoll three reads at startup to calibrate, measured 40µs each
	}
}
