package main // want package:"registers expvar via expvar"

import (
	_ "expvar"
	"net"
	"net/http"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(l, nil) // a loopback listener: not reported

	pub, err := net.Listen("tcp", ":0")
	if err != nil {
		panic(err)
	}
	http.Serve(pub, nil) // want `http.Serve serves http.DefaultServeMux on a listener not known to be loopback, and expvar registered /debug/vars`
}
