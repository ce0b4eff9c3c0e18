package main // want package:"registers net/http/pprof via net/http/pprof"

import (
	"net/http"
	pp "net/http/pprof"
)

func main() {
	admin := http.NewServeMux()
	admin.HandleFunc("/debug/pprof/", pp.Index)

	s1 := &http.Server{Addr: ":8080"} // want `this http.Server serves http.DefaultServeMux on ":8080", which is not loopback`
	go s1.ListenAndServe()

	s2 := &http.Server{Addr: ":8081", Handler: nil} // want `this http.Server serves`
	go s2.ListenAndServe()

	s3 := http.Server{} // want `on "" \(every interface\)`
	go s3.ListenAndServe()

	s4 := &http.Server{Addr: "127.0.0.1:6060"} // loopback: not reported
	go s4.ListenAndServe()

	s5 := &http.Server{Addr: ":8082", Handler: admin} // own mux: not reported
	go s5.ListenAndServe()

	s6 := &http.Server{Addr: ":8083"} // Handler set below: not reported
	s6.Handler = admin
	s6.ListenAndServe()
}
