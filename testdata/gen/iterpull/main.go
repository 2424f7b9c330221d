// iterpull: iter.Pull turns push iterators into pull iterators; each next()
// is a coroutine switch (GoSwitch / GoSwitchDestroy events in the trace).
package main

import (
	"context"
	"iter"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
)

func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func main() {
	runtime.GOMAXPROCS(4)
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	ctx, task := trace.NewTask(context.Background(), "iterpull")
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer trace.StartRegion(ctx, "pull").End()
			next, stop := iter.Pull(count(50 + g))
			sum := 0
			for {
				v, ok := next()
				if !ok {
					break
				}
				sum += v
			}
			stop()
			// Stop a pull iterator early, too.
			next, stop = iter.Pull(count(100))
			next()
			next()
			stop()
			trace.Logf(ctx, "sum", "%d", sum)
		}()
	}
	wg.Wait()
	task.End()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}
