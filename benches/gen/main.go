// Command gen writes the large execution trace that gotv's decode benchmark
// reads (see ../README.md). Test traces are small and exercise every event
// kind; this one is big and shaped like a busy server, so the benchmark
// measures the decoder on the mix of events that dominates real traces:
// goroutine creation and exit, blocking and unblocking on channels, mutexes
// and timers, processor hand-offs, and a garbage collector kept busy.
//
// The program repeats rounds of that workload until the trace it has written
// reaches -size bytes, then stops tracing. The shape of the work is fixed;
// its timing, and so the exact trace, is not. GOMAXPROCS is pinned (-procs)
// so that the number of Ps, which shapes the trace, does not depend on the
// machine.
//
// Usage: gen -o FILE [-size 100m|1g|BYTES] [-procs N]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// countingWriter counts the trace bytes written so far. The runtime's trace
// writer goroutine writes while the main goroutine polls the count.
type countingWriter struct {
	w *bufio.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// spawned counts every goroutine the workload starts.
var spawned atomic.Int64

// sink keeps allocations reachable long enough to be real garbage.
var sink atomic.Pointer[[]byte]

func main() {
	out := flag.String("o", "", "output trace file")
	sizeArg := flag.String("size", "100m", "stop once the trace has this many bytes (suffix k, m or g: powers of 1000)")
	procs := flag.Int("procs", 4, "GOMAXPROCS while tracing")
	flag.Parse()
	size, err := parseSize(*sizeArg)
	if *out == "" || err != nil || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -o FILE [-size 100m|1g|BYTES] [-procs N]", err)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	// A small GC target keeps the collector cycling, as on a loaded server.
	debug.SetGCPercent(100)

	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cw := &countingWriter{w: bufio.NewWriterSize(f, 4<<20)}
	start := time.Now()
	if err := trace.Start(cw); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rounds := 0
	for cw.n.Load() < size {
		round(rounds)
		rounds++
	}
	trace.Stop()
	if err := cw.w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gen: %d bytes, %d rounds, %d goroutines started, %.1fs\n",
		cw.n.Load(), rounds, spawned.Load(), time.Since(start).Seconds())
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"k": 1e3, "m": 1e6, "g": 1e9} {
		if strings.HasSuffix(s, suffix) {
			mult, s = m, strings.TrimSuffix(s, suffix)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// goSpawn starts fn on a new goroutine, counted, and tracked by wg.
func goSpawn(wg *sync.WaitGroup, fn func()) {
	spawned.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn()
	}()
}

// round runs one of each workload concurrently and waits for all of them.
func round(n int) {
	rng := rand.New(rand.NewSource(int64(n)))
	var wg sync.WaitGroup
	goSpawn(&wg, func() { pipeline(rng.Int63(), 4, 24, 3000) })
	goSpawn(&wg, func() { requests(rng.Int63(), 16, 48) })
	goSpawn(&wg, func() { contention(24, 100) })
	goSpawn(&wg, func() { timers(rng.Int63(), 120) })
	wg.Wait()
}

// garbage allocates and drops a buffer, feeding the collector.
func garbage(n int) {
	b := make([]byte, n)
	b[n-1] = byte(n)
	sink.Store(&b)
}

// pipeline passes items through stages of workers joined by small channels,
// so that senders and receivers block and wake each other constantly.
func pipeline(seed int64, stages, workers, items int) {
	rng := rand.New(rand.NewSource(seed))
	var wg sync.WaitGroup
	in := make(chan int, 2)
	first := in
	for s := 0; s < stages; s++ {
		stageIn, out := in, make(chan int, 1+rng.Intn(3))
		var stage sync.WaitGroup
		for w := 0; w < workers; w++ {
			stage.Add(1)
			goSpawn(&wg, func() {
				defer stage.Done()
				for v := range stageIn {
					garbage(256 + v%2048)
					out <- v + 1
				}
			})
		}
		goSpawn(&wg, func() { stage.Wait(); close(out) })
		in = out
	}
	goSpawn(&wg, func() {
		for range in {
		}
	})
	for i := 0; i < items; i++ {
		first <- i
	}
	close(first)
	wg.Wait()
}

// requests starts "request handler" goroutines, each serving a few batches
// by fanning out to backend goroutines of its own and collecting their
// replies under a deadline, like an RPC server.
func requests(seed int64, handlers, batches int) {
	rng := rand.New(rand.NewSource(seed))
	var wg sync.WaitGroup
	for i := 0; i < handlers; i++ {
		fan := 2 + rng.Intn(4)
		work := 1 + rng.Intn(40)
		goSpawn(&wg, func() {
			calls, replies := make(chan int), make(chan int)
			var backends sync.WaitGroup
			for j := 0; j < fan; j++ {
				goSpawn(&backends, func() {
					for call := range calls {
						sum := 0
						for k := 0; k < work*100; k++ {
							sum += k ^ call
						}
						garbage(512 + work*64)
						if call%5 == 0 {
							runtime.Gosched()
						}
						replies <- sum
					}
				})
			}
			for b := 0; b < batches; b++ {
				for j := 0; j < fan; j++ {
					calls <- b*fan + j
				}
				deadline := time.NewTimer(50 * time.Millisecond)
				for got := 0; got < fan; got++ {
					select {
					case <-replies:
					case <-deadline.C:
						// Late replies still arrive; wait for them without a deadline.
						for ; got < fan; got++ {
							<-replies
						}
					}
				}
				deadline.Stop()
			}
			close(calls)
			backends.Wait()
		})
	}
	wg.Wait()
}

// contention makes workers share a mutex-guarded map and a small queue
// guarded by a condition variable (producers wait while it is full,
// consumers while it is empty), producing sync blocking and hand-offs.
func contention(workers, iters int) {
	var mu sync.Mutex
	shared := map[int]int{}
	var qmu sync.Mutex
	notFull, notEmpty := sync.NewCond(&qmu), sync.NewCond(&qmu)
	var queue []int
	producing := workers / 2
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		producer := w < workers/2
		goSpawn(&wg, func() {
			for i := 0; i < iters; i++ {
				mu.Lock()
				shared[(w*iters+i)%97]++
				mu.Unlock()
				if i%4 == 0 {
					garbage(1024)
				}
				if !producer {
					continue
				}
				qmu.Lock()
				for len(queue) == 4 {
					notFull.Wait()
				}
				queue = append(queue, i)
				notEmpty.Signal()
				qmu.Unlock()
			}
			qmu.Lock()
			defer qmu.Unlock()
			if producer {
				producing--
				notEmpty.Broadcast()
				return
			}
			for {
				for len(queue) == 0 && producing > 0 {
					notEmpty.Wait()
				}
				if len(queue) == 0 {
					return
				}
				queue = queue[1:]
				notFull.Signal()
			}
		})
	}
	wg.Wait()
}

// timers runs goroutines that sleep, tick and time out for short, varied
// durations, so the trace has timer-driven wake-ups amid the churn.
func timers(seed int64, count int) {
	rng := rand.New(rand.NewSource(seed))
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		d := time.Duration(20+rng.Intn(400)) * time.Microsecond
		goSpawn(&wg, func() {
			switch i % 3 {
			case 0:
				for k := 0; k < 4; k++ {
					time.Sleep(d)
				}
			case 1:
				t := time.NewTicker(d)
				for k := 0; k < 4; k++ {
					<-t.C
				}
				t.Stop()
			default:
				never := make(chan int)
				for k := 0; k < 4; k++ {
					select {
					case <-never:
					case <-time.After(d):
					}
				}
			}
		})
	}
	wg.Wait()
}
