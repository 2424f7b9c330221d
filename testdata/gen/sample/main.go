// sample: the trace gotv shows by default. A bit of everything, at a size that
// is pleasant to browse: a loopback HTTP server and clients, a worker pool,
// CPU-bound goroutines under a CPU profile (CPU samples), GC, timers, mutex
// contention, file I/O, user tasks, regions and logs, over several generations.
package main

import (
	"context"
	"io"
	"os"
	"runtime"
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
	// A live 16 MiB ballast raises the heap goal, so GC cycles come every few
	// dozen milliseconds instead of back to back on the 4 MiB minimum heap.
	ballast := make([]byte, 16<<20)
	defer runtime.KeepAlive(ballast)
	ctx, task := trace.NewTask(context.Background(), "sample")

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // front end: HTTP traffic
		defer wg.Done()
		load.HTTP(ctx, 3, 700)
	}()
	go func() { // batch jobs: the mixed workload
		defer wg.Done()
		for round := 0; round < 40; round++ {
			load.Mixed(ctx, dir, round)
		}
	}()
	go func() { // number crunching, in bursts
		defer wg.Done()
		for burst := 0; burst < 5; burst++ {
			load.Burn(ctx, 2, 150*time.Millisecond)
			time.Sleep(150 * time.Millisecond)
		}
	}()
	wg.Wait()
	load.GCPressure(ctx, 8)
	task.End()
	pprof.StopCPUProfile()
	stop()
}
