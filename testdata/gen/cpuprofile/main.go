// cpuprofile: CPU-bound goroutines while a CPU profile is running, so the
// trace carries CPU samples, plus one round of the mixed workload.
package main

import (
	"context"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"gotv.test/gen/internal/load"
)

func main() {
	stop := load.Start()
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "gotv-cpuprofile")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx, task := trace.NewTask(context.Background(), "cpuprofile")
	load.Burn(ctx, 3, 300*time.Millisecond)
	load.Mixed(ctx, dir, 0)
	task.End()
	pprof.StopCPUProfile()
	stop()
}
