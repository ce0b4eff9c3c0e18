package incident

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Handler serves the bundles: GET / lists them as JSON (newest first, with
// the monitor's state), GET /NAME downloads one, POST /capture?reason=...
// captures a manual bundle and answers with its [Incident] (409 while a
// capture runs, 429 within [ManualInterval]). Mount it under a prefix with
// http.StripPrefix, behind authentication: the admin server does both with
// admin.WithHandler. Listing costs a directory stat per bundle.
func (m *Monitor) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		switch {
		case name == "capture":
			m.serveCapture(w, r)
		case name == "" || name == "index.json":
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			m.serveList(w)
		default:
			m.serveBundle(w, r, name)
		}
	})
}

// BundleInfo is one bundle in the listing.
type BundleInfo struct {
	Name    string    `json:"name"`
	Trigger string    `json:"trigger"`
	Bytes   int64     `json:"bytes"`
	Time    time.Time `json:"time"`
}

func (m *Monitor) serveList(w http.ResponseWriter) {
	files := m.dir.Files()
	list := make([]BundleInfo, 0, len(files))
	for i := len(files) - 1; i >= 0; i-- {
		st, err := os.Stat(files[i])
		if err != nil {
			continue // rotated away meanwhile
		}
		base := filepath.Base(files[i])
		list = append(list, BundleInfo{Name: base, Trigger: TriggerOf(base), Bytes: st.Size(), Time: st.ModTime().UTC()})
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		Bundles []BundleInfo `json:"bundles"`
		State   State        `json:"state"`
	}{list, m.State()})
}

// TriggerOf returns the trigger named in a bundle's file name
// ("incident-memory-20260101T000000.000Z-000001.zip" gives "memory"), or "".
func TriggerOf(name string) string {
	rest, ok := strings.CutPrefix(filepath.Base(name), "incident-")
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(rest, "-")
	if _, err := ParseTrigger(t); err != nil {
		return ""
	}
	return t
}

func (m *Monitor) serveBundle(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Only a finished bundle of this directory, by its exact base name.
	for _, p := range m.dir.Files() {
		if filepath.Base(p) != name {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			http.Error(w, "bundle rotated away", http.StatusNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		http.ServeContent(w, r, name, st.ModTime(), f)
		return
	}
	http.NotFound(w, r)
}

func (m *Monitor) serveCapture(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "capture needs POST", http.StatusMethodNotAllowed)
		return
	}
	reason := r.URL.Query().Get("reason")
	if len(reason) > 200 {
		reason = reason[:200]
	}
	if reason == "" {
		reason = "admin request"
	}
	inc, err := m.Capture(r.Context(), reason)
	code := http.StatusOK
	switch {
	case errors.Is(err, ErrBusy):
		code = http.StatusConflict
	case errors.Is(err, ErrRateLimited):
		code = http.StatusTooManyRequests
	case errors.Is(err, ErrClosed):
		code = http.StatusServiceUnavailable
	case err != nil:
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err != nil && inc.Err == "" {
		inc.Err = err.Error()
	}
	_ = json.NewEncoder(w).Encode(inc)
}
