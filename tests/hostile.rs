//! Hostile inputs: `gotv check` and `gotv dump` on real traces that have been
//! cut short or damaged.
//!
//! gotv opens whatever file a user points it at: a trace whose program died
//! mid-write, a half-downloaded `/debug/pprof/trace`, a file that is not a
//! trace at all. On every such input the command line must give an answer —
//! exit 0 (valid) or 1 (invalid or truncated, with a message on stderr) — and
//! never panic (exit 101), die by a signal, or hang. Each run here is watched
//! by a watchdog that kills it after [`TIMEOUT`] and fails the test naming the
//! case, so a decoder loop shows up as a failure instead of a stuck CI job.
//!
//! The inputs are derived from every trace in `testdata/traces/`:
//!
//! - truncations at spread-out offsets, including the edges of the header and
//!   of a batch header, a batch boundary and the last byte;
//! - corruptions from a fixed-seed PRNG (flipped bytes, runs of 0xFF or zeros,
//!   huge uvarints inserted or written over batch-header fields, copied
//!   chunks), so every run tests the same inputs and a failure reproduces.
//!
//! A second test checks the promise behind "a truncated trace shows every
//! complete generation": `gotv dump` on a truncated multi-generation trace
//! starts with exactly the lines of the whole trace's dump, line for line,
//! up to the Sync that opens the first generation the cut broke (so a cut
//! past the first generation shows all of it); the next line, if any, must be
//! that Sync. What comes after it is not compared: for a broken generation Go's reader
//! yields what the batches present order to, which is not a prefix of the
//! whole generation (the oracle tests hold gotv to Go's output there).
//!
//! The batch layout needed to aim the cuts is read by a small walker of our
//! own here ([`batches`]), not by the decoder under test.
//!
//! A third test runs `gotv check --deep` on the same damaged traces: it also
//! builds what the window builds from a trace (each generation's summary,
//! full-detail model and latency analysis, and the whole-trace analysis).
//! What Go's reader accepts up to the damage can still be absurd (a
//! timestamp years after the one before), and none of it may panic, hang or
//! allocate without bound (which the watchdog sees as a hang).

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::traces::real_traces;

/// A run still going after this long counts as a hang.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Corrupted variants per trace.
const CORRUPTIONS: usize = 24;

/// Traces larger than this are left out of the dump-prefix test: dumping them
/// in a debug build takes seconds per run, and the smaller multi-generation
/// traces exercise the same property.
const DUMP_MAX_BYTES: usize = 256 << 10;

/// Batch type bytes of the v2 format (Go's `tracev2.EventType` numbering).
const EV_EVENT_BATCH: u8 = 1;
const EV_EXPERIMENTAL_BATCH: u8 = 49;
const EV_END_OF_GENERATION: u8 = 52;

/// One input to feed to gotv.
struct Case {
    name: String,
    bytes: Vec<u8>,
    /// Whether `gotv check` must reject it (exit 1), not just survive it.
    invalid: bool,
}

/// What a finished run printed and how it ended.
struct Run {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// A scratch directory removed when dropped (also when a test fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("gotv-hostile-{test}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `bytes` to a fresh file of the scratch directory.
    fn file(&self, n: usize, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(format!("case-{n}.trace"));
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// xorshift64*: a tiny deterministic PRNG, so the corruptions are the same
/// on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough value in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `gotv ARGS FILE` under the watchdog.
fn run_gotv(args: &[&str], file: &Path) -> Result<Run, String> {
    let mut child = Command::new(common::gotv_bin())
        .args(args)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start gotv: {e}"))?;
    // Drain both pipes concurrently, or a chatty child blocks on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            pipe.read_to_end(&mut buf).map(|_| buf)
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + TIMEOUT;
    let mut nap = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "`gotv {}` still running after {TIMEOUT:?}: killed",
                args.join(" ")
            ));
        }
        thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    Ok(Run {
        status,
        stdout: stdout.join().unwrap().map_err(|e| e.to_string())?,
        stderr: stderr.join().unwrap().map_err(|e| e.to_string())?,
    })
}

/// Checks the contract of every run: exit 0 or 1, never a panic or a signal,
/// and a message on stderr with exit 1.
fn verdict(subcommand: &str, run: &Run) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&run.stderr);
    match run.status.code() {
        Some(0) => Ok(()),
        Some(1) if stderr.trim().is_empty() => Err(format!(
            "`gotv {subcommand}` exited 1 with nothing on stderr"
        )),
        Some(1) => Ok(()),
        Some(code) => Err(format!(
            "`gotv {subcommand}` exited {code}; stderr:\n{stderr}"
        )),
        None => Err(format!(
            "`gotv {subcommand}` was killed by {}; stderr:\n{stderr}",
            run.status
        )),
    }
}

/// Reads an unsigned LEB128 varint (Go's `binary.Uvarint`) at `*pos`.
fn uvarint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Length of the header (`go 1.NN trace\0\0\0`), and whether the version is
/// 1.22 or newer (the batch-based "v2" format), or `None` if it is not a trace.
fn header(data: &[u8]) -> Option<(usize, bool)> {
    let rest = data.strip_prefix(b"go 1.")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let minor: u32 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    rest[digits..]
        .starts_with(b" trace\0\0\0")
        .then_some((5 + digits + 9, minor >= 22))
}

/// One batch of a v2 trace: its byte range, where its header ends, and its
/// generation (`None` for an end-of-generation marker).
#[derive(Clone, Copy, Debug)]
struct Batch {
    start: usize,
    header_end: usize,
    end: usize,
    generation: Option<u64>,
}

/// The batches of a well-formed v2 trace, or `None` for anything else
/// (v1 traces, traces that are themselves truncated).
fn batches(data: &[u8]) -> Option<Vec<Batch>> {
    let (mut pos, v2) = header(data)?;
    if !v2 {
        return None;
    }
    let mut out = Vec::new();
    while pos < data.len() {
        let start = pos;
        let kind = data[pos];
        pos += 1;
        if kind == EV_END_OF_GENERATION {
            out.push(Batch {
                start,
                header_end: pos,
                end: pos,
                generation: None,
            });
            continue;
        }
        match kind {
            EV_EVENT_BATCH => {}
            EV_EXPERIMENTAL_BATCH => pos += 1,
            _ => return None,
        }
        let generation = uvarint(data, &mut pos)?;
        let _thread = uvarint(data, &mut pos)?;
        let _time = uvarint(data, &mut pos)?;
        let size = usize::try_from(uvarint(data, &mut pos)?).ok()?;
        let header_end = pos;
        pos = pos.checked_add(size).filter(|&end| end <= data.len())?;
        out.push(Batch {
            start,
            header_end,
            end: pos,
            generation: Some(generation),
        });
    }
    Some(out)
}

/// For each generation of the trace in order, the offset from which Go's
/// reader sees it complete: the end of the first batch after it that is an
/// end-of-generation marker (Go 1.26) or belongs to another generation
/// (before 1.26 the reader learns that a generation ended only by reading
/// that batch whole). The last generation of a trace without markers is
/// complete only at the end of the file, which no truncation reaches.
fn generation_ends(batches: &[Batch]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut current = None;
    for b in batches {
        match (current, b.generation) {
            (None, g) => current = g,
            (Some(_), None) => {
                ends.push(b.end);
                current = None;
            }
            (Some(c), Some(g)) if g != c => {
                ends.push(b.end);
                current = Some(g);
            }
            _ => {}
        }
    }
    ends
}

/// Truncation offsets: the header's edges, the edges of a batch header and of
/// a batch in the middle of the trace, sixteenths of the file, the last byte.
fn truncation_offsets(data: &[u8]) -> Vec<usize> {
    let n = data.len();
    let h = header(data).map_or(16, |(len, _)| len);
    let mut offsets = vec![0, 1, h - 1, h, h + 1, n - 1];
    if let Some(batches) = batches(data).filter(|b| !b.is_empty()) {
        let mid = batches[batches.len() / 2];
        offsets.extend([
            mid.start,
            mid.start + 1,                            // just the batch type byte
            (mid.start + mid.header_end).div_ceil(2), // inside the header's uvarints
            mid.header_end - 1,                       // inside the size uvarint
            mid.header_end,                           // header whole, no body
            mid.end - 1,                              // body one byte short
        ]);
        offsets.extend(generation_ends(&batches).first());
    }
    offsets.extend((1..16).map(|k| n * k / 16));
    offsets.retain(|&o| o < n);
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

/// Corrupted copies of `data`, each named by what was done to it.
fn corruptions(name: &str, data: &[u8]) -> Vec<Case> {
    // Seeded per trace, so adding a trace does not change the others' cases.
    let seed = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng(seed | 1);
    let batches = batches(data).unwrap_or_default();
    let h = header(data).map_or(0, |(len, _)| len);
    // Ten bytes of 0xff...0x01: the largest a uvarint can be, and more.
    let huge: [u8; 10] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    (0..CORRUPTIONS)
        .map(|i| {
            let mut bytes = data.to_vec();
            // Mostly past the header, where the decoder's real work is.
            let at = if i % 8 == 0 {
                rng.below(data.len())
            } else {
                h + rng.below(data.len() - h)
            };
            let what = match i % 6 {
                0 => {
                    let x = 1 + rng.below(255) as u8;
                    bytes[at] ^= x;
                    format!("byte {at} ^= {x:#04x}")
                }
                1 => {
                    let len = 1 + rng.below(64);
                    let end = (at + len).min(bytes.len());
                    bytes[at..end].fill(0xff);
                    format!("bytes {at}..{end} = 0xff")
                }
                2 => {
                    bytes.splice(at..at, huge);
                    format!("huge uvarint inserted at {at}")
                }
                3 if !batches.is_empty() => {
                    // Replace one uvarint field of a batch header (generation,
                    // M, time or size) with a huge one.
                    let b = batches[rng.below(batches.len())];
                    let mut pos = b.start + 1 + usize::from(data[b.start] == EV_EXPERIMENTAL_BATCH);
                    let field = rng.below(4);
                    for _ in 0..field {
                        uvarint(data, &mut pos);
                    }
                    let start = pos;
                    if uvarint(data, &mut pos).is_some() {
                        bytes.splice(start..pos, huge);
                        format!("batch at {} header field {field} = huge uvarint", b.start)
                    } else {
                        bytes[b.start] ^= 0x80;
                        format!("end-of-generation marker at {} ^= 0x80", b.start)
                    }
                }
                4 => {
                    let len = 1 + rng.below(256);
                    let end = (at + len).min(bytes.len());
                    bytes[at..end].fill(0);
                    format!("bytes {at}..{end} = 0")
                }
                _ => {
                    let len = 1 + rng.below(512).min(data.len() - 1);
                    let from = rng.below(data.len() - len + 1);
                    bytes.splice(at..at, data[from..from + len].iter().copied());
                    format!("bytes {from}..{} copied to {at}", from + len)
                }
            };
            Case {
                name: format!("{name}: corruption {i}: {what}"),
                bytes,
                invalid: false,
            }
        })
        .collect()
}

/// Batches per trace whose timestamp [`time_jumps`] moves.
const TIME_JUMPS: usize = 4;

/// How far [`time_jumps`] moves a batch's base time, in clock ticks: days
/// to years at the clock rates Go uses.
const JUMPS: [u64; 2] = [1 << 48, 1 << 54];

/// Copies of `data` in which one batch's base time is moved far ahead (the
/// header field grows; the batch's framing is unchanged): Go's reader may
/// accept a generation whose events then jump by days or years.
fn time_jumps(name: &str, data: &[u8]) -> Vec<Case> {
    let Some(batches) = batches(data) else {
        return Vec::new();
    };
    let events: Vec<Batch> = batches
        .into_iter()
        .filter(|b| b.generation.is_some())
        .collect();
    let step = (events.len() / TIME_JUMPS).max(1);
    let mut cases = Vec::new();
    for b in events.iter().step_by(step).take(TIME_JUMPS) {
        let mut pos = b.start + 1 + usize::from(data[b.start] == EV_EXPERIMENTAL_BATCH);
        uvarint(data, &mut pos);
        uvarint(data, &mut pos);
        let start = pos;
        let Some(time) = uvarint(data, &mut pos) else {
            continue;
        };
        for jump in JUMPS {
            let mut bytes = data.to_vec();
            bytes.splice(start..pos, put_uvarint(time.saturating_add(jump)));
            cases.push(Case {
                name: format!("{name}: batch at {} base time + {jump} ticks", b.start),
                bytes,
                invalid: false,
            });
        }
    }
    cases
}

/// `v` as an unsigned LEB128 varint.
fn put_uvarint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// Maps `f` over `items` on two worker threads (the CI machine has two
/// cores); the results come back in item order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(items.len()));
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(i, item);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Fails the test with the error messages among `results` (one per case),
/// if there are any.
fn assert_all_passed(results: Vec<Result<(), String>>) {
    let cases = results.len();
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases,
        failures.join("\n")
    );
}

/// The damaged copies of trace `name`: cut at every `step`-th of its
/// truncation offsets, corrupted, and with its time jumping ahead.
fn damaged(name: &str, data: &[u8], step: usize) -> Vec<Case> {
    let offsets = truncation_offsets(data);
    assert!(
        offsets.len() >= 20,
        "{name}: only {} truncation offsets",
        offsets.len()
    );
    // A file cut inside the header is never a trace.
    let header_len = header(data).map_or(0, |(len, _)| len);
    let mut cases: Vec<Case> = (offsets.into_iter().step_by(step))
        .map(|off| Case {
            name: format!("{name}: truncated at {off} of {}", data.len()),
            bytes: data[..off].to_vec(),
            invalid: off < header_len,
        })
        .collect();
    cases.extend(corruptions(name, data));
    cases.extend(time_jumps(name, data));
    cases
}

/// Runs `gotv ARGS` on each of `cases` under the watchdog, two at a time,
/// and fails the test naming every case whose run `verdict` rejects or
/// `judge` finds wrong.
fn run_all(
    args: &[&str],
    cases: &[Case],
    judge: impl Fn(&Case, &Run) -> Result<(), String> + Sync,
) {
    let command = args.join(" ");
    let scratch = Scratch::new(&args.join("-").replace("--", ""));
    let started = Instant::now();
    let results = parallel(cases, |i, case| {
        let file = scratch.file(i, &case.bytes);
        let result = run_gotv(args, &file).and_then(|run| {
            verdict(&command, &run)?;
            judge(case, &run)
        });
        let _ = fs::remove_file(&file);
        result.map_err(|e| format!("{}: {e}", case.name))
    });
    eprintln!(
        "{} hostile inputs through `gotv {command}` in {:.1?}",
        cases.len(),
        started.elapsed()
    );
    assert_all_passed(results);
}

#[test]
fn check_survives_truncated_and_corrupted_traces() {
    let cases: Vec<Case> = real_traces()
        .iter()
        .flat_map(|(name, data)| damaged(name, data, 1))
        .collect();
    run_all(&["check"], &cases, |case, run| match run.status.code() {
        Some(code) if case.invalid && code != 1 => {
            Err(format!("exited {code} on a file that is not a trace"))
        }
        _ => Ok(()),
    });
}

#[test]
fn deep_check_survives_truncated_and_corrupted_traces() {
    let cases: Vec<Case> = real_traces()
        .iter()
        .filter(|(_, data)| data.len() <= DUMP_MAX_BYTES)
        .flat_map(|(name, data)| damaged(name, data, 4))
        .collect();
    run_all(&["check", "--deep"], &cases, |_, run| {
        let out = String::from_utf8_lossy(&run.stdout);
        let built = out.lines().any(|l| l.starts_with("deep: "));
        match (run.status.code(), built) {
            (Some(0), false) => Err("a valid trace without a deep build".to_owned()),
            _ => Ok(()),
        }
    });
}

/// Lines of a dump, without the final empty string after the last newline.
fn lines(out: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The `N=` field of a Sync event line (its generation count), if it is one.
fn sync_number(line: &[u8]) -> Option<&[u8]> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text.strip_prefix("M=-1 P=-1 G=-1 Sync Time=")?;
    let n = &rest[rest.find(" N=")? + 3..];
    Some(n.split(' ').next()?.as_bytes())
}

#[test]
fn dump_of_a_truncated_trace_is_a_prefix_of_the_full_dump() {
    // Multi-generation traces, with the offsets at which generations end.
    let traces: Vec<(String, Vec<u8>, Vec<usize>)> = real_traces()
        .into_iter()
        .filter(|(_, data)| data.len() <= DUMP_MAX_BYTES)
        .filter_map(|(name, data)| {
            let ends = generation_ends(&batches(&data)?);
            (!ends.is_empty()).then_some((name, data, ends))
        })
        .collect();
    assert!(
        !traces.is_empty(),
        "no multi-generation trace of at most {DUMP_MAX_BYTES} bytes in the test data"
    );
    let scratch = Scratch::new("dump");
    let full_dumps = parallel(&traces, |i, (name, data, _)| {
        let file = scratch.file(i, data);
        let run = run_gotv(&["dump"], &file).and_then(|run| verdict("dump", &run).map(|()| run));
        let _ = fs::remove_file(&file);
        run.map(|run| run.stdout)
            .unwrap_or_else(|e| panic!("{name} (whole trace): {e}"))
    });
    let mut cases = Vec::new();
    for ((name, data, ends), full) in traces.iter().zip(&full_dumps) {
        let (n, first) = (data.len(), ends[0]);
        let offsets = [
            header(data).unwrap().0 + 1,
            first - 1,
            first,
            (first + n) / 2,
            n - 1,
        ];
        for off in offsets {
            let complete = ends.iter().filter(|&&end| end <= off).count();
            cases.push((name, data, off, complete, lines(full)));
        }
    }

    let results = parallel(&cases, |i, (name, data, off, complete, full)| {
        let what = format!("{name} truncated at {off} of {}", data.len());
        let file = scratch.file(traces.len() + i, &data[..*off]);
        let run = run_gotv(&["dump"], &file).and_then(|run| verdict("dump", &run).map(|()| run));
        let _ = fs::remove_file(&file);
        let run = run.map_err(|e| format!("{what}: {e}"))?;
        let cut = lines(&run.stdout);

        // The complete generations: every line of the whole trace's dump
        // before the Sync that opens the first generation the cut breaks.
        let next = (complete + 1).to_string();
        let opening = full
            .iter()
            .position(|l| sync_number(l) == Some(next.as_bytes()))
            .unwrap_or(full.len());
        if let Some(k) = (0..opening).find(|&k| cut.get(k) != Some(&full[k])) {
            return Err(format!(
                "{what}: {complete} generation(s) are complete, but dump line {} is {:?}, the whole trace's is {:?}",
                k + 1,
                cut.get(k).map(|l| String::from_utf8_lossy(l)),
                String::from_utf8_lossy(full[k]),
            ));
        }
        // Then at most a Sync numbered as the broken generation (its time
        // comes from the batches present, as do any events after it: Go
        // yields what those batches order to).
        if let Some(line) = cut.get(opening)
            && sync_number(line) != Some(next.as_bytes())
        {
            return Err(format!(
                "{what}: after the complete generations, dump line {} is {:?}, not Sync N={next}",
                opening + 1,
                String::from_utf8_lossy(line),
            ));
        }
        Ok(())
    });
    assert_all_passed(results);
}
