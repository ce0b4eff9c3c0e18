package depsprobe

import (
	_ "github.com/KimMachineGun/automemlimit/memlimit"
	_ "github.com/arl/statsviz"
	_ "github.com/google/gops/agent"
	_ "github.com/govitals/vitals/internal/depsprobe"
	_ "github.com/maruel/panicparse/v2/stack"
	_ "github.com/prometheus/client_golang/prometheus/collectors"
	_ "go.uber.org/automaxprocs/maxprocs"
	_ "go.uber.org/goleak"
)
