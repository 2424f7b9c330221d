// cgo: goroutines call into C, which calls back into Go both on the calling
// thread and on a fresh pthread (a callback on an M the runtime did not create).
package main

/*
#include <pthread.h>

void goCallback(int);

static void *threadMain(void *arg) {
	goCallback((int)(long)arg);
	return 0;
}

static void callOnNewThread(int n) {
	pthread_t th;
	pthread_create(&th, 0, threadMain, (void *)(long)n);
	pthread_join(th, 0);
}

static int callBack(int n) {
	goCallback(n);
	return n + 1;
}
*/
import "C"

import (
	"context"
	"runtime/trace"
	"sync"
	"sync/atomic"

	"gotv.test/gen/internal/load"
)

var calls atomic.Int64

//export goCallback
func goCallback(n C.int) {
	calls.Add(1)
	load.Sink = make([]byte, 256+int(n))
}

func main() {
	stop := load.Start()
	ctx, task := trace.NewTask(context.Background(), "cgo")
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			defer trace.StartRegion(ctx, "cgo-calls").End()
			for i := 0; i < 20; i++ {
				C.callBack(C.int(i))
			}
			C.callOnNewThread(C.int(g))
		}(g)
	}
	wg.Wait()
	trace.Logf(ctx, "cgo", "callbacks=%d", calls.Load())
	task.End()
	stop()
}
