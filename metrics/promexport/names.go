package promexport

import (
	"regexp"
	rtm "runtime/metrics"
	"strings"
)

var validName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// runtimeName maps a runtime/metrics name to the Prometheus name
// client_golang's Go collector gives it, so that dashboards keep working:
// "go_" + the key's directories joined by "_" + "_" + its last element +
// "_" + the unit, with "-" and "*" turned into "_" and "/" in the unit into
// "_per_", and "_total" appended to cumulative scalars. It also returns the
// unit ("bytes", "seconds", ...) used to merge histogram buckets. ok is false
// for names Prometheus cannot carry and kinds it does not know.
func runtimeName(d rtm.Description) (name, unit string, ok bool) {
	key, unit, found := strings.Cut(d.Name, ":")
	if !found || !strings.HasPrefix(key, "/") {
		return "", "", false
	}
	key = key[1:]
	slash := strings.LastIndexByte(key, '/')
	if slash < 0 {
		return "", "", false // no subsystem: client_golang produces no valid name either
	}
	dash := strings.NewReplacer("/", "_", "-", "_")
	sub, base := dash.Replace(key[:slash]), strings.ReplaceAll(key[slash+1:], "-", "_")
	u := strings.NewReplacer("-", "_", "*", "_", "/", "_per_").Replace(unit)
	name = "go_" + sub + "_" + base + "_" + u
	if d.Cumulative && d.Kind != rtm.KindFloat64Histogram {
		name += "_total"
	}
	switch d.Kind {
	case rtm.KindUint64, rtm.KindFloat64, rtm.KindFloat64Histogram:
	default:
		return "", "", false
	}
	return name, u, validName.MatchString(name)
}
