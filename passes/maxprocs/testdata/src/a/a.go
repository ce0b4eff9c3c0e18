package a

import (
	"os"
	"runtime"
	rt "runtime"
	"strconv"
)

func numCPU() {
	runtime.GOMAXPROCS(runtime.NumCPU()) // want `runtime.GOMAXPROCS\(runtime.NumCPU\(\)\) sizes the scheduler to the host's CPUs, not the container's CPU limit, and stops the runtime`
}

func aliased() {
	rt.GOMAXPROCS(rt.NumCPU()) // want `host's CPUs`
}

func constant() {
	runtime.GOMAXPROCS(4) // want `runtime.GOMAXPROCS with n > 0 freezes GOMAXPROCS`
}

func fromEnv() {
	n, _ := strconv.Atoi(os.Getenv("PROCS"))
	runtime.GOMAXPROCS(n) // want `freezes GOMAXPROCS`
}

func resultUsed() int {
	return runtime.GOMAXPROCS(runtime.NumCPU()) // want `host's CPUs`
}

func reads() int {
	prev := runtime.GOMAXPROCS(0) // a read: not reported
	runtime.GOMAXPROCS(-1)        // ignored by the runtime: not reported
	return prev + runtime.NumCPU()
}

func restore() {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8)) // want `freezes GOMAXPROCS`
	old := runtime.GOMAXPROCS(2)                    // want `freezes GOMAXPROCS`
	defer runtime.GOMAXPROCS(old)                   // puts the old value back: not reported again
}

func suppressed() {
	//vitals:ignore maxprocs batch job pinned to 2 threads by the scheduler contract
	runtime.GOMAXPROCS(2)
}
