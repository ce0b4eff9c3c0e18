package main // want package:"registers net/http/pprof via debughandlers -> net/http/pprof"

import (
	"net/http"
	"os"

	"debughandlers"
)

var _ = debughandlers.Enabled

func main() {
	go http.ListenAndServe(":8080", nil)                            // want `http.ListenAndServe serves http.DefaultServeMux on ":8080", which is not loopback, and net/http/pprof \(imported via debughandlers\) registered /debug/pprof/`
	go http.ListenAndServeTLS("0.0.0.0:443", "c", "k", nil)         // want `http.ListenAndServeTLS serves http.DefaultServeMux on "0.0.0.0:443"`
	go http.ListenAndServe(os.Getenv("ADDR"), http.DefaultServeMux) // want `on an address not known to be loopback`
	go http.ListenAndServe("127.0.0.1:6060", nil)                   // loopback: not reported
	go http.ListenAndServe("localhost:6060", nil)                   // loopback: not reported
	go http.ListenAndServe("[::1]:6060", nil)                       // loopback: not reported
	go http.ListenAndServe(":8081", http.NewServeMux())             // its own mux: not reported
	http.ListenAndServe(":9090", nil)                               //vitals:ignore pprofexpose the port is firewalled to the VPN, see runbook
}
