// Package load holds the small, bounded workloads the trace generators run.
// Every function does a fixed amount of work (shape is deterministic; timing
// is not) and returns when all goroutines it started have exited.
package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

// Sink keeps allocations alive long enough that the compiler cannot drop them.
var Sink []byte

// Churn starts waves of short-lived goroutines.
func Churn(ctx context.Context, waves, perWave int) {
	defer trace.StartRegion(ctx, "churn").End()
	for w := 0; w < waves; w++ {
		var wg sync.WaitGroup
		for i := 0; i < perWave; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				buf := make([]byte, 64+i%512)
				for j := range buf {
					buf[j] = byte(i + j)
				}
				if i%7 == 0 {
					runtime.Gosched()
				}
			}(i)
		}
		wg.Wait()
	}
}

// Pipeline passes items through an unbuffered and a buffered channel stage,
// with a select on a timeout and a done channel.
func Pipeline(ctx context.Context, items int) {
	defer trace.StartRegion(ctx, "pipeline").End()
	src := make(chan int)
	mid := make(chan int, 8)
	done := make(chan struct{})
	go func() {
		for i := 0; i < items; i++ {
			src <- i
		}
		close(src)
	}()
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range src {
				mid <- v * v
			}
		}()
	}
	go func() { wg.Wait(); close(mid) }()
	sum := 0
	go func() {
		defer close(done)
		timeout := time.NewTimer(time.Second)
		defer timeout.Stop()
		for {
			select {
			case v, ok := <-mid:
				if !ok {
					return
				}
				sum += v
			case <-timeout.C:
				return
			}
		}
	}()
	<-done
	trace.Logf(ctx, "pipeline", "sum=%d", sum)
}

// Mutexes makes goroutines contend on a mutex, an RWMutex and a condition variable.
func Mutexes(ctx context.Context, workers, iters int) {
	defer trace.StartRegion(ctx, "mutexes").End()
	var mu sync.Mutex
	var rw sync.RWMutex
	cond := sync.NewCond(&mu)
	counter, ready := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				mu.Lock()
				counter++
				for k := 0; k < 200; k++ { // hold the lock a little
					counter ^= k
				}
				mu.Unlock()
				if i%4 == 0 {
					rw.Lock()
					counter++
					rw.Unlock()
				} else {
					rw.RLock()
					_ = counter
					rw.RUnlock()
				}
			}
			mu.Lock()
			ready++
			cond.Broadcast()
			for ready < workers {
				cond.Wait()
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
}

// FileIO writes, syncs and reads back files in dir and blocks reading a pipe.
func FileIO(ctx context.Context, dir string, files int) {
	defer trace.StartRegion(ctx, "fileio").End()
	data := make([]byte, 32<<10)
	for i := range data {
		data[i] = byte(i)
	}
	for i := 0; i < files; i++ {
		name := filepath.Join(dir, fmt.Sprintf("f%d", i))
		f, err := os.Create(name)
		if err != nil {
			panic(err)
		}
		f.Write(data)
		f.Sync()
		f.Close()
		back, err := os.ReadFile(name)
		if err != nil || len(back) != len(data) {
			panic(fmt.Sprint("read back ", len(back), err))
		}
		os.Remove(name)
	}
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	go func() {
		for i := 0; i < 5; i++ {
			time.Sleep(2 * time.Millisecond)
			w.Write([]byte("tick"))
		}
		w.Close()
	}()
	io.Copy(io.Discard, r)
	r.Close()
}

// Timers sleeps, uses time.After, a ticker and AfterFunc.
func Timers(ctx context.Context) {
	defer trace.StartRegion(ctx, "timers").End()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i+1) * time.Millisecond)
			<-time.After(time.Millisecond)
		}(i)
	}
	t := time.NewTicker(time.Millisecond)
	for i := 0; i < 10; i++ {
		<-t.C
	}
	t.Stop()
	fired := make(chan struct{})
	time.AfterFunc(2*time.Millisecond, func() { close(fired) })
	<-fired
	wg.Wait()
}

// GCPressure allocates garbage from two goroutines, about 1 MiB per round, so
// a few rounds trigger a collection. It never calls runtime.GC: that spins in
// Gosched waiting for the sweep, and with every P busy the background sweeper
// yields once per span; either floods the trace with scheduling events.
func GCPressure(ctx context.Context, rounds int) {
	defer trace.StartRegion(ctx, "gc-pressure").End()
	var wg sync.WaitGroup
	for g := 1; g <= 2; g++ { // two goroutines, so some Ps stay idle and bgsweep need not yield per span
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var keep [][]byte
			for i := 0; i < rounds*100; i++ {
				b := make([]byte, 1024+(i*g)%8192)
				if i%50 == 0 {
					keep = append(keep, b)
				}
				if len(keep) > 64 {
					keep = keep[:0]
				}
			}
			if len(keep) > 0 {
				Sink = keep[0]
			}
		}(g)
	}
	wg.Wait()
}

// Burn spins the CPU on n goroutines for about d.
func Burn(ctx context.Context, n int, d time.Duration) {
	defer trace.StartRegion(ctx, "cpu-burn").End()
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := uint64(g + 1)
			for time.Now().Before(deadline) {
				for i := 0; i < 10000; i++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			if x == 42 {
				println(x)
			}
		}(g)
	}
	wg.Wait()
}

// HTTP serves on a loopback port and issues requests from a few client goroutines.
func HTTP(ctx context.Context, clients, requests int) {
	defer trace.StartRegion(ctx, "http").End()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		_, task := trace.NewTask(r.Context(), "handle")
		defer task.End()
		trace.Log(r.Context(), "path", r.URL.Path)
		body := make([]byte, 4096)
		for i := range body {
			body[i] = 'a' + byte(i%26)
		}
		w.Write(body)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String() + "/work"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < requests; i++ {
				rctx, task := trace.NewTask(ctx, "request")
				trace.WithRegion(rctx, "get", func() {
					resp, err := client.Get(url)
					if err != nil {
						panic(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				})
				task.End()
			}
		}(c)
	}
	wg.Wait()
	client.CloseIdleConnections()
	srv.Close()
}

// Mixed runs one round of every workload above except HTTP and Burn, inside a task.
func Mixed(ctx context.Context, dir string, round int) {
	ctx, task := trace.NewTask(ctx, "round")
	defer task.End()
	trace.Logf(ctx, "round", "%d", round)
	Churn(ctx, 2, 50)
	Pipeline(ctx, 200)
	Mutexes(ctx, 4, 100)
	FileIO(ctx, dir, 2)
	Timers(ctx)
	GCPressure(ctx, 2)
}
