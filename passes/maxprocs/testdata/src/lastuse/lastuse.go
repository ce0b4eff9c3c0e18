package lastuse

import "runtime"

func init() {
	runtime.GOMAXPROCS(runtime.NumCPU()) // want `host's CPUs`
}
