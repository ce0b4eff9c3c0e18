// Package debug links the pprof handlers into whoever imports it.
package debug

import _ "net/http/pprof"

// On reports that the handlers are linked.
func On() bool { return true }
