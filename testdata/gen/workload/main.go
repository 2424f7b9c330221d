// workload: a few rounds of every basic workload (goroutine churn, channels,
// mutexes, file I/O and pipes, timers, GC pressure) plus a short loopback HTTP
// exchange, all under user tasks and regions. Built with every pinned toolchain.
package main

import (
	"context"
	"os"
	"runtime/trace"

	"gotv.test/gen/internal/load"
)

func main() {
	stop := load.Start()
	dir, err := os.MkdirTemp("", "gotv-workload")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx, task := trace.NewTask(context.Background(), "workload")
	for round := 0; round < 6; round++ {
		load.Mixed(ctx, dir, round)
	}
	load.HTTP(ctx, 2, 10)
	task.End()
	stop()
}
