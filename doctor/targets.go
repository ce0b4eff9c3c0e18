package doctor

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParseTargets reads a targets file: one target a line, an admin URL
// ("http://10.0.0.7:6060") for a vitals audit or "public URL" for a probe of
// a public port; blank lines and lines starting with # are skipped. Lines of
// more than 64 KiB are an error. It checks each URL's form, not whether it
// answers.
func ParseTargets(r io.Reader) ([]Target, error) {
	var out []Target
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t := Target{Kind: KindVitals, URL: line}
		if f := strings.Fields(line); len(f) == 2 && f[0] == "public" {
			t = Target{Kind: KindPublic, URL: f[1]}
		} else if len(f) != 1 {
			return out, fmt.Errorf("doctor: targets line %d: want a URL or \"public URL\", got %q", n, line)
		}
		if _, err := parseBase(t.URL); err != nil {
			return out, fmt.Errorf("doctor: targets line %d: %w", n, err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("doctor: read targets: %w", err)
	}
	return out, nil
}
