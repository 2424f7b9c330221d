// allocfree: a deliberately small program meant to run with
// GODEBUG=traceallocfree=1, which adds the experimental heap-object, span and
// goroutine-stack alloc/free events (one per object, so keep it tiny).
package main

import (
	"context"
	"runtime/trace"
	"sync"
	"time"

	"gotv.test/gen/internal/load"
)

type node struct {
	next *node
	val  [6]int
}

func main() {
	stop := load.Start()
	ctx, task := trace.NewTask(context.Background(), "allocfree")
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			defer trace.StartRegion(ctx, "build-list").End()
			var head *node
			for i := 0; i < 500; i++ {
				head = &node{next: head, val: [6]int{g, i}}
			}
			load.Sink = make([]byte, 64<<10) // a large object gets its own span
			_ = head
		}(g)
	}
	wg.Wait()
	// Drop the lists and trigger a collection with a few large allocations
	// rather than runtime.GC, which spins in Gosched until sweeping is done
	// (tens of thousands of events on Go 1.23). Then give the background
	// sweeper time to free the lists' objects while the trace is still on.
	for i := 0; i < 8; i++ {
		load.Sink = make([]byte, 1<<20)
	}
	time.Sleep(50 * time.Millisecond)
	task.End()
	stop()
}
