//! Giving memory back to the OS: mapped pages of the trace (through
//! [`Input`](crate::trace::Input)'s advice), and heap freed by a decode.
//!
//! A memory-mapped trace counts towards the process's RSS for every page
//! touched. Indexing touches none: it reads the batch headers from the file
//! ([`TraceBytes::read_at`](crate::trace::input::TraceBytes::read_at)).
//! Decoding touches a whole generation: as each event batch's events are
//! ordered, and after each decode, the range is released with
//! `madvise(MADV_DONTNEED)`
//! ([`Input::release`](crate::trace::Input::release)), so only the tables
//! and the batches in use of the generations being decoded are resident and
//! browsing a 1 GB trace does not cost 1 GB (nor two generations of 17 MB
//! per decode thread).
//!
//! Decoding a generation allocates hundreds of megabytes in many blocks and
//! frees them; glibc keeps freed memory in its per-thread arenas, so the
//! RSS would stay at the peak of every decode thread. [`trim_heap`] returns
//! it when a decode thread runs out of work and after the ui drops a
//! generation's detail.

/// Blocks at least this large are mapped on their own by glibc's malloc
/// rather than carved from its arenas: a decode's biggest rows (tens of
/// megabytes) then go back to the OS the moment they are freed, and grow by
/// remapping instead of copying. Lower costs the ui thread page faults on
/// the per-frame buffers of a zoomed-out view (a few megabytes; at 1 MB a
/// whole-trace frame of a 1 GB trace took 9 ms instead of 5); glibc's own
/// threshold climbs to 32 MB as big blocks are freed, leaving more of a
/// decode resident until trimmed.
const MMAP_THRESHOLD: i32 = 16 << 20;

/// Free memory at the top of a heap that `free` leaves there rather than
/// handing back to the OS at once. Setting [`MMAP_THRESHOLD`] also stops
/// glibc from raising this one as it sees big blocks come and go, leaving it
/// at 128 KiB: the ui thread then gave back the buffers of a zoomed-out
/// frame after every frame and faulted them in again in the next, which
/// made a whole-trace frame of the 1 GB trace cost 8–9 ms instead of 3–4 in
/// about half the runs, when its lanes were a mesh of 233k vertices. Since
/// the lanes are one texture (`ui::canvas`) a frame's buffers are smaller:
/// at 8 MiB the frame bench's whole-trace frame takes 3.8–4.3 ms (median,
/// at most 6 ms) in every run, as at 32 MiB. The price is freed memory kept
/// resident between [`trim_heap`] calls, in every thread's arena: the
/// window's peak RSS on that trace is 312–319 MB at 8 MiB against 324–325
/// at 32 MiB, and 310–313 at 2 MiB, where loading took 0.2 s longer.
const TRIM_THRESHOLD: i32 = 8 << 20;

/// Sets glibc's malloc up for the decode threads' large, short-lived
/// blocks and the ui's per-frame buffers (see [`MMAP_THRESHOLD`] and
/// [`TRIM_THRESHOLD`]); a no-op elsewhere.
pub(crate) fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it may be called
    // at any time, from any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Returns freed heap memory to the OS (glibc only; elsewhere a no-op).
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator already holds
    // as free; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
