package adminclient_test

import (
	"fmt"

	"github.com/govitals/vitals/internal/adminclient"
)

// Remote strings are escaped and bounded before they reach a terminal, and
// URLs lose their password.
func Example() {
	fmt.Println(adminclient.Clean("build \x1b]0;owned\x07done"))
	fmt.Println(adminclient.Redact("http://ops:s3cret@127.0.0.1:6060/debug/vitals"))
	// Output:
	// build \x1b]0;owned\x07done
	// http://ops:xxxxx@127.0.0.1:6060/debug/vitals
}
