//go:build race

package vitals_test

// raceEnabled: this test binary is built with -race.
const raceEnabled = true
