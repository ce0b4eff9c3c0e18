package procscan

import "encoding/binary"

// littleEndian is true on machines that store /proc/net/tcp's address words
// byte-reversed.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
