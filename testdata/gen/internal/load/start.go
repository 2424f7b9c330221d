package load

import (
	"os"
	"runtime"
	"runtime/trace"
)

// Start sets GOMAXPROCS to 4 and starts tracing into the file named by the
// first command-line argument. The returned function stops tracing and closes it.
func Start() func() {
	if len(os.Args) != 2 {
		println("usage:", os.Args[0], "OUT.trace")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(4)
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	return func() {
		trace.Stop()
		if err := f.Close(); err != nil {
			panic(err)
		}
	}
}
