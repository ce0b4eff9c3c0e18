package limit // want package:"sets a memory limit in limit"

import "runtime/debug"

// Set caps the heap.
func Set(n int64) { debug.SetMemoryLimit(n) }
