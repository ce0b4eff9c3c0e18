// Package stackbuf defines an Analyzer that reports runtime.Stack calls whose
// truncation goes unnoticed.
//
// # Analyzer stackbuf
//
// stackbuf: report runtime.Stack into a fixed buffer without a length check
//
// runtime.Stack(buf, all) writes at most len(buf) bytes and returns how many
// it wrote; when the trace does not fit, it is cut off without an error. With
// all set, one goroutine dump of a busy service easily exceeds the 4 or 64
// KiB buffers code tends to allocate.
//
// A call is reported when buf has a fixed size (a make([]byte, N) with a
// constant N assigned in the same function, or a slice of an array) and the
// result is ignored, assigned to _, or stored in a variable that the function
// never compares with anything. A buffer that the function reallocates with
// a computed size is taken to grow, and is not reported. The fix is a loop
// that doubles the buffer until the result is less than its length, or
// pprof.Lookup("goroutine").WriteTo(w, 2), which handles the buffering.
//
// A //vitals:ignore stackbuf <reason> comment suppresses a report.
// There is no suggested fix.
package stackbuf
