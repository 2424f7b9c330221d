// sample: the trace gotv shows by default. A bit of everything, at a size that
// is pleasant to browse: a loopback HTTP server and clients, a worker pool,
// CPU-bound goroutines under a CPU profile (CPU samples), GC, timers, mutex
// contention, file I/O, user tasks, regions and logs, over several generations.
package main

import (
	"context"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"

	"gotv.test/gen/internal/load"
)

func main() {
	stop := load.Start()
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "gotv-sample")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx, task := trace.NewTask(context.Background(), "sample")

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // front end: HTTP traffic
		defer wg.Done()
		load.HTTP(ctx, 3, 150)
	}()
	go func() { // batch jobs: the mixed workload
		defer wg.Done()
		for round := 0; round < 10; round++ {
			load.Mixed(ctx, dir, round)
		}
	}()
	go func() { // number crunching
		defer wg.Done()
		load.Burn(ctx, 2, 400*time.Millisecond)
	}()
	wg.Wait()
	load.GCPressure(ctx, 8)
	task.End()
	pprof.StopCPUProfile()
	stop()
}
