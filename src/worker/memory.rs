//! Giving memory back to the OS: mapped pages of the trace, and heap freed
//! by a decode.
//!
//! A memory-mapped trace counts towards the process's RSS for every page
//! touched: indexing touches a page per batch header, decoding touches a
//! whole generation. Indexing runs under `MADV_RANDOM` ([`indexing`]), so
//! the kernel maps only the header's page rather than reading ahead and
//! mapping its neighbours (which would make the index pass map the whole
//! file). After indexing and after each decode the range is released with
//! `madvise(MADV_DONTNEED)` ([`release`]), so only the generations being
//! decoded are resident and browsing a 1 GB trace does not cost 1 GB.
//!
//! Decoding a generation allocates hundreds of megabytes in many blocks and
//! frees them; glibc keeps freed memory in its per-thread arenas, so the
//! RSS would stay at the peak of every decode thread. [`trim_heap`] returns
//! it when a decode thread runs out of work and after the ui drops a
//! generation's detail.

use std::ops::Range;

use memmap2::{Advice, UncheckedAdvice};

use crate::trace::Input;

/// Releases the pages of `range` of the input, if it is mapped.
pub(crate) fn release(input: &Input, range: Range<usize>) {
    let Input::Mapped(map) = input else { return };
    let end = range.end.min(map.len());
    let start = range.start.min(end);
    // SAFETY: the map is a read-only shared mapping of a file. Dropping its
    // pages does not change what they read as: the next access faults them
    // back in from the file (the page cache), so any slice into the map,
    // including one another thread is reading, stays valid and unchanged.
    // The documented hazard (pages reading as zero) applies only to private
    // mappings that were written to.
    let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start) };
}

/// Tells the kernel the input is about to be read sparsely (`true`: the
/// index pass) or sequentially again (`false`).
pub(crate) fn indexing(input: &Input, sparse: bool) {
    if let Input::Mapped(map) = input {
        let _ = map.advise(if sparse {
            Advice::Random
        } else {
            Advice::Normal
        });
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
