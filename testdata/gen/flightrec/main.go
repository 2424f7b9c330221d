//go:build go1.25

// flightrec: runs the mixed workload under runtime/trace.FlightRecorder (Go
// 1.25+) without trace.Start and writes one snapshot of its window to the file
// named by the first argument.
package main

import (
	"context"
	"os"
	"runtime"
	"runtime/trace"
	"time"

	"gotv.test/gen/internal/load"
)

func main() {
	runtime.GOMAXPROCS(4)
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{
		MinAge:   50 * time.Millisecond,
		MaxBytes: 256 << 10,
	})
	if err := fr.Start(); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "gotv-flightrec")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx, task := trace.NewTask(context.Background(), "flightrec")
	for round := 0; round < 8; round++ {
		load.Mixed(ctx, dir, round)
	}
	task.End()
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if _, err := fr.WriteTo(f); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
	fr.Stop()
}
