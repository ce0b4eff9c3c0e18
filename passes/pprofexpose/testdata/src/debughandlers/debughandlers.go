package debughandlers // want package:"registers net/http/pprof via net/http/pprof"

import (
	_ "net/http/pprof"
)

// Enabled says the handlers are linked in.
const Enabled = true
