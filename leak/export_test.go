package leak

import "time"

// Tick takes one sample at now, as the running watchdog does every
// interval: for tests of package leak_test, whose goroutines are not
// vitals' own (those of package leak are left out of reports).
func (w *Watchdog) Tick(now time.Time) { w.tick(now) }
