package a

import (
	"os"
	"runtime"
	rt "runtime"
)

type File struct{ fd int }

func (f *File) Close() error { return nil }

func plain() *File {
	f := &File{fd: 3}
	runtime.SetFinalizer(f, (*File).Close) // want `runtime.SetFinalizer may never run .* explicit Close called via defer, or use runtime.AddCleanup$`
	return f
}

func aliased() *File {
	f := &File{fd: 3}
	rt.SetFinalizer(f, func(f *File) { f.Close() }) // want `runtime.SetFinalizer may never run`
	return f
}

func selfCapture() *File {
	f := &File{fd: 3}
	runtime.SetFinalizer(f, func(_ *File) {
		f.Close() // want `finalizer refers to f, its own object, so f stays reachable forever`
	})
	return f
}

func remove(f *File) {
	runtime.SetFinalizer(f, nil) // removing a finalizer: not reported
}

func cleanupOK(f *os.File) {
	fd := f.Fd()
	runtime.AddCleanup(f, func(fd uintptr) { _ = fd }, fd) // the cleanup gets only the fd: not reported
}

func cleanupCaptures(f *File) {
	runtime.AddCleanup(f, func(int) {
		f.Close() // want `runtime.AddCleanup cleanup refers to f, the object it watches`
	}, 0)
}

func cleanupArg(f *File) {
	runtime.AddCleanup(f, func(g *File) { g.Close() }, f) // want `runtime.AddCleanup cleanup argument refers to f`
}

func cleanupCopies(f *os.File, p *pipe) {
	runtime.AddCleanup(f, func(name string) { os.Remove(name) }, f.Name()) // a copied string: not reported
	runtime.AddCleanup(p, func(fds fields) {}, p.fields)                   // a copied struct: not reported
	runtime.AddCleanup(p, func(fds *fields) {}, &p.fields)                 // want `runtime.AddCleanup cleanup argument refers to p`
}

type fields struct{ r, w int }

type pipe struct{ fields }

func suppressed() *File {
	f := &File{fd: 3}
	//vitals:ignore finalizer safety net only: every caller defers Close, checked by TestClose
	runtime.SetFinalizer(f, (*File).Close)
	return f
}
