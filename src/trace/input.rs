//! Access to the trace bytes.
//!
//! Regular files are memory-mapped, so opening a multi-gigabyte trace costs
//! nothing up front and only the generations actually decoded are paged in.
//! Anything that cannot be mapped (standard input, pipes, special files) is
//! read into memory instead. Either way the decoder sees one `&[u8]`.
//!
//! The index pass reads a few dozen bytes per event batch (its header) and
//! skips the rest ([`TraceBytes::read_at`]). From a mapped file it reads
//! them with `pread` rather than through the mapping: touching the mapping
//! would fault in a page per batch, about 4 µs each here (0.065 s for the
//! 15,750 batches of the 1 GB benchmark trace, all of it kernel time, and
//! several times that while the window starts up and competes for the
//! process's memory map), where `pread` takes 0.01 s for them all and
//! leaves no pages to release.
//!
//! A mapped file can shrink under us: `go test -trace trace.out` run again
//! truncates the very file being viewed, and a page of the mapping past the
//! new end then raises `SIGBUS` when touched, which would kill the viewer
//! (pages released with [`Input::release`] are read back from the file, so
//! any of them can be that page). On Linux a `SIGBUS` handler (`truncation`
//! below) puts a page of zeros in place of such a page of a registered trace
//! mapping and lets the read go on: the decoder then meets bytes that are
//! not a valid trace and reports that generation as broken, while the
//! window notices the file changed and offers to reload it. A `SIGBUS`
//! anywhere else keeps its previous handling.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
#[cfg(unix)]
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use memmap2::Mmap;

/// The page size [`Input::release`] rounds to. Where pages are larger, the
/// kernel rounds a released range's start down to its page, which at worst
/// drops a neighbour's page that is then read back.
const PAGE: usize = 4096;

/// Released ranges shorter than this (an event batch is tens of kilobytes)
/// are gathered until they join into a run this long: each `madvise` call
/// interrupts every other thread of the process to flush its TLB, and one a
/// batch cost `gotv check` 8% of its time on the 1 GB trace.
const RUN: usize = 1 << 20;

/// Most bytes between two gathered ranges that still join them: the header
/// of the batch between two batches' bodies.
const RUN_GAP: usize = 64;

/// Gathered ranges that make the gatherer look for runs: about a run's
/// worth of batches.
const GATHER: usize = 16;

/// Gathered ranges kept at most; past this they are released as they are
/// (the end of each generation's decode releases the rest anyway).
const MAX_GATHERED: usize = 256;

/// The bytes of a trace, mapped or owned.
pub enum Input {
    /// A memory-mapped regular file.
    Mapped(MappedFile),
    /// Bytes read from a stream.
    Owned(Vec<u8>),
}

/// A mapped trace file, protected against being truncated while mapped
/// (see the module docs).
pub struct MappedFile {
    /// Declared first, so dropped (unregistered) before the map goes.
    #[cfg(target_os = "linux")]
    _guard: truncation::Guard,
    map: Mmap,
    /// The file mapped, for reads that should not touch the mapping.
    #[cfg_attr(not(unix), allow(dead_code))]
    file: File,
    gathered: Mutex<Runs>,
}

impl MappedFile {
    fn new(map: Mmap, file: File) -> MappedFile {
        MappedFile {
            #[cfg(target_os = "linux")]
            _guard: truncation::Guard::new(map.as_ptr() as usize, map.len()),
            map,
            file,
            gathered: Mutex::default(),
        }
    }

    /// [`TraceBytes::read_at`] from the file rather than the mapping, as
    /// far as the mapping goes (a file grown since is read no further; one
    /// truncated since reads short, as its mapping would read zeros).
    #[cfg(unix)]
    fn read_at(&self, pos: usize, buf: &mut [u8]) -> usize {
        let want = buf.len().min(self.map.len().saturating_sub(pos));
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..want).filter(|r| !r.is_empty()) {
            match self.file.read_at(rest, (pos + done) as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        done
    }
}

/// The bytes of a trace: whole, for decoding, or a few at a time, for the
/// index pass (see the module docs).
pub trait TraceBytes: Sync {
    /// All the bytes.
    fn bytes(&self) -> &[u8];

    /// Copies the bytes from offset `pos` into `buf`, fewer at the end of
    /// the trace; returns how many.
    fn read_at(&self, pos: usize, buf: &mut [u8]) -> usize {
        let from = self.bytes().get(pos..).unwrap_or_default();
        let n = from.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), from.get(..n)) {
            to.copy_from_slice(from);
        }
        n
    }
}

impl TraceBytes for [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl TraceBytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl TraceBytes for Input {
    fn bytes(&self) -> &[u8] {
        Input::bytes(self)
    }

    #[cfg(unix)]
    fn read_at(&self, pos: usize, buf: &mut [u8]) -> usize {
        match self {
            Input::Mapped(m) => m.read_at(pos, buf),
            Input::Owned(bytes) => bytes.read_at(pos, buf),
        }
    }
}

/// Short released ranges waiting to join into runs of [`RUN`] bytes.
#[derive(Default)]
struct Runs {
    pending: Vec<Range<usize>>,
}

impl Runs {
    /// Takes `range` and hands `release` whatever is now ready to go:
    /// `range` itself if it is a run, else the runs the gathered ranges
    /// make with it, or all of them once too many wait.
    fn add(&mut self, range: Range<usize>, mut release: impl FnMut(Range<usize>)) {
        if range.len() >= RUN {
            self.pending
                .retain(|p| p.start < range.start || p.end > range.end);
            return release(range);
        }
        self.pending.push(range);
        if self.pending.len() < GATHER {
            return;
        }
        self.pending.sort_unstable_by_key(|r| r.start);
        let flush = self.pending.len() >= MAX_GATHERED;
        let mut kept = Vec::new();
        let mut rest = self.pending.as_slice();
        while let Some(first) = rest.first() {
            let joined = rest
                .windows(2)
                .take_while(|w| w[1].start >= w[0].end && w[1].start - w[0].end <= RUN_GAP)
                .count();
            let (run, after) = rest.split_at(joined + 1);
            let end = run.last().map_or(first.end, |r| r.end);
            if end - first.start >= RUN || flush {
                release(first.start..end);
            } else {
                kept.extend_from_slice(run);
            }
            rest = after;
        }
        self.pending = kept;
    }
}

impl Input {
    /// Opens `path`; `-` means standard input.
    pub fn open(path: &Path) -> io::Result<Input> {
        if path.as_os_str() == "-" {
            return Self::read_all(io::stdin().lock());
        }
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only. Another process truncating or
            // rewriting the file while it is mapped is outside what a viewer
            // can guard against (it is the documented hazard of memmap2).
            if let Ok(map) = unsafe { Mmap::map(&file) } {
                return Ok(Input::Mapped(MappedFile::new(map, file)));
            }
        }
        Self::read_all(file)
    }

    /// Reads a whole stream into memory.
    pub fn read_all(mut reader: impl Read) -> io::Result<Input> {
        let mut buf = Vec::new();
        reader.read_to_end(&mut buf)?;
        Ok(Input::Owned(buf))
    }

    /// The trace bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => &m.map,
            Input::Owned(buf) => buf,
        }
    }

    /// Tells the kernel that the whole pages inside `range` of a mapped
    /// file will not be read again soon, so they stop counting toward the
    /// resident set (they are read back from the file if they are). The
    /// pages it shares with the bytes around it stay: a neighbouring batch
    /// or generation may be in use. A range shorter than a run (1 MiB) is
    /// gathered until it joins others into a run that long, or until a
    /// longer range covering it is released. Does nothing for bytes read
    /// into memory.
    pub fn release(&self, range: Range<usize>) {
        if let Input::Mapped(file) = self {
            let mut runs = file.gathered.lock().unwrap_or_else(|e| e.into_inner());
            runs.add(range, |run| file.release_pages(run));
        }
    }
}

impl MappedFile {
    /// [`Input::release`] of the whole pages inside `range`, now.
    fn release_pages(&self, range: Range<usize>) {
        let range = range.start.div_ceil(PAGE) * PAGE..range.end / PAGE * PAGE;
        let map = &self.map;
        #[cfg(unix)]
        if range.start < range.end && range.end <= map.len() {
            // SAFETY: the map is a read-only, file-backed mapping: dropping
            // its pages loses nothing (MADV_DONTNEED only zero-fills private
            // anonymous memory). The result is only advice, so errors are
            // ignored.
            let _ = unsafe {
                map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    range.start,
                    range.end - range.start,
                )
            };
        }
    }
}

/// The `SIGBUS` handler that keeps a truncated trace file from killing the
/// process, and the registry of the mappings it covers.
#[cfg(target_os = "linux")]
mod truncation {
    use std::sync::Once;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Trace mappings covered at once (each open trace maps its file once
    /// per reader: the worker, the analysis, a filter scan, the opener). A
    /// mapping past this many is simply not covered.
    const SLOTS: usize = 32;

    /// Start and end address of each registered mapping; a start of 0 is a
    /// free slot, an end of 0 one being filled or emptied.
    static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALL: Once = Once::new();
    /// The handler that was in place before ours (Rust's own, which reports
    /// stack overflows), as a `libc::sigaction` stored in plain memory.
    static mut PREVIOUS: Option<libc::sigaction> = None;

    /// A registered mapping; unregistered on drop.
    pub(super) struct Guard(Option<usize>);

    impl Guard {
        /// Registers the mapping `[start, start + len)`.
        pub(super) fn new(start: usize, len: usize) -> Guard {
            INSTALL.call_once(install);
            let end = start.saturating_add(len);
            for (i, slot) in STARTS.iter().enumerate() {
                if start != 0
                    && slot
                        .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    if let Some(e) = ENDS.get(i) {
                        e.store(end, Ordering::Release);
                    }
                    return Guard(Some(i));
                }
            }
            Guard(None)
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(i) = self.0 {
                if let Some(e) = ENDS.get(i) {
                    e.store(0, Ordering::Release);
                }
                if let Some(s) = STARTS.get(i) {
                    s.store(0, Ordering::Release);
                }
            }
        }
    }

    fn install() {
        // SAFETY: sysconf has no preconditions. The sigaction structs are
        // plain C data, zeroed then filled as sigaction(2) documents;
        // PREVIOUS is written here once, under the Once, before the
        // handler that reads it can run.
        unsafe {
            if let Ok(page) = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE))
                && page.is_power_of_two()
            {
                PAGE.store(page, Ordering::Relaxed);
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                PREVIOUS = Some(previous);
            }
        }
    }

    /// Maps a page of zeros over the faulting page if it belongs to a
    /// registered trace mapping; otherwise puts the previous handler back,
    /// so the fault, raised again on return, is handled as it would have
    /// been without us.
    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO
        // handlers. mmap with MAP_FIXED replaces only the faulting page,
        // which lies inside a mapping registered by a live Guard (a Guard
        // is dropped before its map is unmapped), with private zeroed
        // memory of the same protection the reader expects. sigaction is
        // async-signal-safe; PREVIOUS was set before the handler existed.
        unsafe {
            let addr = (*info).si_addr() as usize;
            let page = PAGE.load(Ordering::Relaxed);
            let ours = STARTS.iter().zip(&ENDS).any(|(s, e)| {
                let (s, e) = (s.load(Ordering::Acquire), e.load(Ordering::Acquire));
                s != 0 && s <= addr && addr < e
            });
            if ours {
                let at = (addr & !(page - 1)) as *mut libc::c_void;
                let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
                let zero = libc::mmap(at, page, libc::PROT_READ, flags, -1, 0);
                if zero != libc::MAP_FAILED {
                    return;
                }
            }
            match *std::ptr::addr_of!(PREVIOUS) {
                Some(previous) => {
                    libc::sigaction(libc::SIGBUS, &previous, std::ptr::null_mut());
                }
                None => {
                    libc::signal(libc::SIGBUS, libc::SIG_DFL);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches released one by one (out of order, with header gaps) go
    /// back as runs; a long range goes at once and takes the gathered
    /// ranges inside it along.
    #[test]
    fn short_ranges_are_released_in_runs() {
        const BATCH: usize = 80 << 10;
        let batch = |i: usize| i * (BATCH + 20)..i * (BATCH + 20) + BATCH;
        let mut runs = Runs::default();
        let mut released = Vec::new();
        for i in (0..GATHER - 1).rev() {
            runs.add(batch(i), |r| released.push(r));
        }
        assert!(released.is_empty(), "fewer than a run: {released:?}");
        // Far away: joins nothing, stays gathered.
        runs.add(batch(1000), |r| released.push(r));
        assert_eq!(released, vec![batch(0).start..batch(GATHER - 2).end]);
        assert_eq!(runs.pending, vec![batch(1000)]);
        released.clear();
        runs.add(0..batch(2000).end, |r| released.push(r));
        assert_eq!(released, vec![0..batch(2000).end]);
        assert!(runs.pending.is_empty());
        for i in 0..MAX_GATHERED {
            runs.add(batch(2 * i), |r| released.push(r));
        }
        assert_eq!(released.len(), 1 + MAX_GATHERED, "too many wait: all go");
        assert!(runs.pending.is_empty());
    }

    /// A trace file truncated while mapped reads as zeros past its new end
    /// instead of killing the process.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_truncated_while_mapped_reads_as_zeros() {
        let path = std::env::temp_dir().join(format!("gotv-truncated-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 64 << 10]).unwrap();
        let input = Input::open(&path).unwrap();
        assert!(matches!(input, Input::Mapped(_)));
        input.release(0..64 << 10);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(4096)
            .unwrap();
        let bytes = input.bytes();
        assert_eq!(bytes[0], 7, "what is still in the file reads as before");
        assert_eq!(bytes[40 << 10], 0, "what was cut off reads as zeros");
        drop(input);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn maps_files_and_reads_streams() {
        let dir = std::env::temp_dir().join(format!("gotv-input-{}", std::process::id()));
        std::fs::write(&dir, b"go 1.26 trace\0\0\0").unwrap();
        let input = Input::open(&dir).unwrap();
        assert!(matches!(input, Input::Mapped(_)));
        assert_eq!(input.bytes(), b"go 1.26 trace\0\0\0");
        std::fs::remove_file(&dir).unwrap();
        let owned = Input::read_all(&b"abc"[..]).unwrap();
        assert_eq!(owned.bytes(), b"abc");
        assert!(Input::open(Path::new("/nonexistent/gotv")).is_err());
    }

    /// The index pass's reads of a mapped file come from the file, touch
    /// no page of the mapping, and stop where the mapping (and the file)
    /// ends, as reads of owned bytes do.
    #[cfg(target_os = "linux")]
    #[test]
    fn reads_a_few_bytes_without_touching_the_mapping() {
        let path = std::env::temp_dir().join(format!("gotv-read-at-{}", std::process::id()));
        let data: Vec<u8> = (0..64u32 << 10).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let input = Input::open(&path).unwrap();
        let Input::Mapped(mapped) = &input else {
            panic!("a regular file is mapped");
        };
        let owned = Input::Owned(data.clone());
        for (pos, want) in [(0, 43), (40_000, 43), (data.len() - 5, 5), (data.len(), 0)] {
            let (mut from_file, mut from_bytes) = ([0; 43], [0; 43]);
            assert_eq!(input.read_at(pos, &mut from_file), want, "at {pos}");
            assert_eq!(owned.read_at(pos, &mut from_bytes), want, "at {pos}");
            assert_eq!(from_file[..want], data[pos..pos + want]);
            assert_eq!(from_bytes, from_file);
        }
        assert_eq!(input.read_at(data.len() + 7, &mut [0; 8]), 0);
        let start = format!("{:x}-", mapped.map.as_ptr() as usize);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let rss = smaps
            .split_once(&start)
            .and_then(|(_, after)| after.lines().find(|l| l.starts_with("Rss:")))
            .unwrap();
        assert_eq!(
            rss.split_whitespace().nth(1),
            Some("0"),
            "no page of the mapping was touched: {rss}"
        );
        drop(input);
        std::fs::remove_file(&path).unwrap();
    }
}
