// Command goreader is the Go side of gotv's decode benchmark: it reads every
// event of a trace with Go's own reader (internal/trace, the reference that
// gotv's decoder agrees with) and prints how many there were and how long
// reading took.
//
// internal/trace can only be imported from inside GOROOT, so benches/decode.sh
// copies this file into a private copy of the toolchain's source tree
// (src/cmd/gotvbench-goreader) and builds it there. It is not built in place.
//
// Usage: goreader [-goroutines] FILE
//
// Output (one line): events=N seconds=S [goroutines=G]. With -goroutines it
// also counts the distinct goroutines the trace mentions; that costs time, so
// the benchmark runs never pass it (the script uses it to describe the trace).
package main

import (
	"errors"
	"flag"
	"fmt"
	"internal/trace"
	"io"
	"os"
	"time"
)

func main() {
	countGoroutines := flag.Bool("goroutines", false, "also count distinct goroutines (slower; not for timing)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: goreader [-goroutines] FILE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()

	start := time.Now()
	r, err := trace.NewReader(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goreader:", err)
		os.Exit(1)
	}
	var events int64
	goroutines := map[trace.GoID]struct{}{}
	for {
		ev, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "goreader: after %d events: %v\n", events, err)
			os.Exit(1)
		}
		events++
		if *countGoroutines && ev.Kind() == trace.EventStateTransition {
			if st := ev.StateTransition(); st.Resource.Kind == trace.ResourceGoroutine {
				goroutines[st.Resource.Goroutine()] = struct{}{}
			}
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("events=%d seconds=%.3f", events, elapsed.Seconds())
	if *countGoroutines {
		fmt.Printf(" goroutines=%d", len(goroutines))
	}
	fmt.Println()
}
