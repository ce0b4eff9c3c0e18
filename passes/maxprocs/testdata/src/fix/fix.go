package fix

import (
	"fmt"
	"runtime"
)

func main() {
	runtime.GOMAXPROCS(runtime.NumCPU()) // want `host's CPUs`
	fmt.Println("serving")
}

func inSwitch(on bool) {
	switch {
	case on:
		runtime.GOMAXPROCS(runtime.NumCPU()) // want `host's CPUs`
	}
}
