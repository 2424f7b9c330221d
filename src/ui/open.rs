//! Opening traces every way a person does it — command line, bundled sample,
//! File → Open…, Open Recent, drag-and-drop, reload — without ever blocking the
//! UI thread.
//!
//! Everything that touches the file system runs on a short-lived thread and
//! reports back through a channel, waking the UI with `request_repaint`; the UI
//! polls the channel once per frame ([`Opener::poll`]). A network mount that
//! hangs, or a file dialog the user leaves open, therefore never freezes the
//! window. Late results of superseded requests are dropped by request number,
//! so the last trace the user asked for wins.
//!
//! A file is accepted when the decoder reads its header and indexes its
//! generations; errors are shown as the decoder words them. Damage the index
//! finds (a truncated download, a corrupt batch) does not reject the file:
//! what precedes it is still worth seeing, so it opens with a warning.
//!
//! The file the user opened is watched by polling its size and modification
//! time ([`WATCH_INTERVAL`]): a `stat` a second costs nothing, needs no
//! platform notification API, and the UI is only woken when something changed.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::trace::index::GenerationEnd;
use crate::trace::input::TraceBytes;
use crate::trace::{Input, SharedIndex, Trace};

/// The sample trace shown when gotv starts without a file, so that a first
/// start shows what the viewer does rather than an empty window.
pub(crate) const SAMPLE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/traces/sample.trace"
));

/// Recent files kept in Open Recent: enough for a day's work, short enough to
/// scan at a glance.
const MAX_RECENT: usize = 10;

/// Key of the recent list in eframe's storage.
const RECENT_KEY: &str = "gotv.recent";

/// How often the open file is checked for changes: a second is quick enough
/// to notice a rewritten trace before the user switches back to the window.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Where a trace comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The sample trace built into the binary.
    Bundled,
    /// A file on disk.
    File(PathBuf),
}

impl Source {
    /// Short name for titles and the status bar: the file name.
    pub(crate) fn name(&self) -> String {
        match self {
            Self::Bundled => "sample.trace (bundled)".to_owned(),
            Self::File(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }

    /// The file, unless it is the bundled sample.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Self::Bundled => None,
            Self::File(path) => Some(path),
        }
    }
}

/// A trace whose header was accepted and whose generations are indexed.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    /// Where it came from.
    pub(crate) source: Source,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Format version from the header, e.g. `go 1.26`.
    pub(crate) version: String,
    /// Number of generations the index found.
    pub(crate) generations: usize,
    /// Why the trace cannot be read to its end (truncated or corrupt), if so:
    /// what precedes the damage is still worth showing.
    pub(crate) damage: Option<String>,
    /// Size and modification time when loaded, to notice changes.
    stamp: Option<Stamp>,
    /// The index of the file, for every later pass over it.
    pub(crate) index: Arc<SharedIndex>,
}

/// A trace file as a later pass over it takes it: where it comes from and
/// its shared index.
pub(crate) type TraceFile<'a> = (&'a Source, &'a Arc<SharedIndex>);

/// What identifies a version of a file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// Something the background threads finished.
#[derive(Debug)]
pub(crate) enum Event {
    /// A trace is ready to show.
    Loaded(Loaded),
    /// Opening failed; `message` says why in words for the user.
    Failed {
        /// What the user tried to open.
        source: Source,
        /// Why it failed.
        message: String,
    },
    /// The file dialog closed; `None` if the user cancelled it.
    Picked(Option<PathBuf>),
    /// No file dialog can be shown on this system; the message says what to do.
    NoDialog(String),
    /// The open file changed on disk since it was loaded.
    Changed,
}

/// Starts loads, the file dialog and the file watcher, and collects their results.
pub(crate) struct Opener {
    ctx: egui::Context,
    tx: Sender<(u64, Event)>,
    rx: Receiver<(u64, Event)>,
    /// Number of the latest load request; results of older ones are dropped.
    request: u64,
    loading: Option<Source>,
    dialog_open: bool,
    /// Dropping the sender stops the watcher thread.
    watcher: Option<Sender<()>>,
    recent: Vec<PathBuf>,
}

/// Request number of events that belong to no load request.
const UNNUMBERED: u64 = 0;

impl Opener {
    /// An opener that wakes `ctx` when something finished, with the recent list
    /// from eframe's storage.
    pub(crate) fn new(ctx: egui::Context, storage: Option<&dyn eframe::Storage>) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let recent: Vec<PathBuf> = storage
            .and_then(|s| eframe::get_value(s, RECENT_KEY))
            .unwrap_or_default();
        Self {
            ctx,
            tx,
            rx,
            request: UNNUMBERED,
            loading: None,
            dialog_open: false,
            watcher: None,
            recent: recent.into_iter().take(MAX_RECENT).collect(),
        }
    }

    /// Starts opening `source` in the background; supersedes any open in
    /// flight. The file's index goes to `index` for the other threads
    /// opening it (or comes from there if one of them was first).
    pub(crate) fn open(&mut self, source: Source, index: Arc<SharedIndex>) {
        self.request += 1;
        self.loading = Some(source.clone());
        let (request, tx, ctx) = (self.request, self.tx.clone(), self.ctx.clone());
        thread::spawn(move || {
            let event = match load(&source, index) {
                Ok(loaded) => Event::Loaded(loaded),
                Err(message) => Event::Failed { source, message },
            };
            // The app may be gone (window closed): nobody left to tell.
            let _ = tx.send((request, event));
            ctx.request_repaint();
        });
    }

    /// What is being opened right now, if anything.
    pub(crate) fn loading(&self) -> Option<&Source> {
        self.loading.as_ref()
    }

    /// Shows the system file dialog on its own thread (it blocks until the user
    /// picks a file); the answer arrives as [`Event::Picked`] or [`Event::NoDialog`].
    pub(crate) fn show_dialog(&mut self, start_in: Option<&Path>) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        let start_in = start_in.and_then(Path::parent).map(Path::to_path_buf);
        let (tx, ctx) = (self.tx.clone(), self.ctx.clone());
        thread::spawn(move || {
            let event = match dialog_unavailable() {
                Some(message) => Event::NoDialog(message),
                None => Event::Picked(pick_file(start_in)),
            };
            let _ = tx.send((UNNUMBERED, event));
            ctx.request_repaint();
        });
    }

    /// The results that arrived since the last call, oldest first.
    pub(crate) fn poll(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Ok((request, event)) = self.rx.try_recv() {
            match event {
                Event::Loaded(_) | Event::Failed { .. } if request != self.request => {}
                Event::Loaded(loaded) => {
                    self.loading = None;
                    if let Some(path) = loaded.source.path() {
                        self.remember(path.to_path_buf());
                    }
                    self.watch(&loaded);
                    events.push(Event::Loaded(loaded));
                }
                Event::Failed { .. } => {
                    self.loading = None;
                    events.push(event);
                }
                Event::Picked(None) => self.dialog_open = false,
                Event::Picked(Some(_)) | Event::NoDialog(_) => {
                    self.dialog_open = false;
                    events.push(event);
                }
                Event::Changed => events.push(event),
            }
        }
        events
    }

    /// Recently opened files, most recent first.
    pub(crate) fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// Writes the recent list to eframe's storage.
    pub(crate) fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, RECENT_KEY, &self.recent);
    }

    fn remember(&mut self, path: PathBuf) {
        let path = std::path::absolute(&path).unwrap_or(path);
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }

    /// Watches the file of `loaded` (replacing the previous watch) and reports
    /// [`Event::Changed`] when its size or modification time changes.
    fn watch(&mut self, loaded: &Loaded) {
        self.watcher = None;
        let Some(path) = loaded.source.path().map(Path::to_path_buf) else {
            return;
        };
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let (tx, ctx, mut known) = (self.tx.clone(), self.ctx.clone(), loaded.stamp);
        thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(WATCH_INTERVAL) {
                let now = Stamp::of(&path);
                if now != known {
                    known = now;
                    let _ = tx.send((UNNUMBERED, Event::Changed));
                    ctx.request_repaint();
                }
            }
        });
        self.watcher = Some(stop);
    }
}

/// Maps the file, reads its header and indexes its generations (one pass over
/// batch headers: cheap, but it touches the whole file, so it runs on a
/// loader thread), or takes the index from `index` if the worker made it
/// first.
fn load(source: &Source, index: Arc<SharedIndex>) -> Result<Loaded, String> {
    match source {
        Source::Bundled => check(source, SAMPLE, &|_| {}, (None, index)),
        Source::File(path) => {
            let meta =
                std::fs::metadata(path).map_err(|e| format!("Cannot open the file: {e}."))?;
            if meta.is_dir() {
                return Err("This is a folder, not a trace file.".to_owned());
            }
            if meta.len() == 0 {
                return Err("The file is empty.".to_owned());
            }
            let input = Input::open(path).map_err(|e| format!("Cannot read the file: {e}."))?;
            check(
                source,
                &input,
                &|range| input.release(range),
                (Stamp::of(path), index),
            )
        }
    }
}

/// What the decoder says about `data` before decoding any event. The
/// worker opens the file on its own thread, in parallel (see
/// `super::session`), and whichever of the two comes first indexes it for
/// both (`index`). Each generation's bytes go to `release` once indexed.
fn check(
    source: &Source,
    data: &(impl TraceBytes + ?Sized),
    release: &(dyn Fn(std::ops::Range<usize>) + Sync),
    (stamp, index): (Option<Stamp>, Arc<SharedIndex>),
) -> Result<Loaded, String> {
    let trace = Trace::open_shared(data, release, &index).map_err(|e| e.to_string())?;
    let generations = &trace.index().generations;
    if generations.is_empty() {
        return Err("The trace is truncated: it has a header but no events.".to_owned());
    }
    let damage = generations.iter().find_map(|g| match &g.end {
        GenerationEnd::Broken(e) | GenerationEnd::CompleteThenError(e) => Some(e.to_string()),
        GenerationEnd::Complete | GenerationEnd::TrailingBatches => None,
    });
    Ok(Loaded {
        source: source.clone(),
        size: data.bytes().len() as u64,
        version: trace.version().to_string(),
        generations: generations.len(),
        damage,
        stamp,
        index,
    })
}

/// Opens the trace of `source` (with its `index`) for a pass that releases
/// each generation's bytes once read, and runs `f` on it.
pub(crate) fn with_trace<R>(
    source: &Source,
    index: &SharedIndex,
    f: impl FnOnce(&Trace<'_>) -> R,
) -> Result<R, String> {
    let input = match source {
        Source::Bundled => None,
        Source::File(path) => {
            Some(Input::open(path).map_err(|e| format!("Cannot read the file: {e}."))?)
        }
    };
    let release = |range: Range<usize>| {
        if let Some(input) = &input {
            input.release(range);
        }
    };
    let trace = match &input {
        Some(input) => Trace::open_shared(input, &release, index),
        None => Trace::open_shared(SAMPLE, &release, index),
    };
    Ok(f(&trace.map_err(|e| e.to_string())?))
}

/// Why no file dialog can open, if so. rfd asks the XDG desktop portal over
/// the D-Bus session bus and falls back to `zenity`; with neither it returns
/// "cancelled" without a word, which would leave the user clicking a dead menu.
#[cfg(all(unix, not(target_os = "macos")))]
fn dialog_unavailable() -> Option<String> {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| Path::new(&dir).join("bus").exists());
    let zenity = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()));
    (!bus && !zenity).then(|| {
        "No file dialog is available: there is no desktop portal (no D-Bus session) and \
         `zenity` is not installed. Drop a trace onto the window, or pass it on the \
         command line: gotv FILE."
            .to_owned()
    })
}

/// Other platforms always have a native dialog.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn dialog_unavailable() -> Option<String> {
    None
}

fn pick_file(start_in: Option<PathBuf>) -> Option<PathBuf> {
    let dialog = rfd::FileDialog::new().set_title("Open Go execution trace");
    match start_in {
        Some(dir) => dialog.set_directory(dir),
        None => dialog,
    }
    .pick_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `bytes` from a temporary file named `name`, then removes it.
    fn load_bytes(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
        let path =
            std::env::temp_dir().join(format!("gotv-open-test-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("write");
        let result = load(&Source::File(path.clone()), Arc::default());
        let _ = std::fs::remove_file(path);
        result
    }

    fn error(name: &str, bytes: &[u8]) -> String {
        load_bytes(name, bytes).expect_err("not a readable trace")
    }

    #[test]
    fn bundled_sample_is_a_trace() {
        let loaded = load(&Source::Bundled, Arc::default()).expect("the sample loads");
        assert!(loaded.generations > 0);
        assert_eq!(loaded.damage, None);
    }

    #[test]
    fn says_why_a_file_is_not_a_trace() {
        assert!(error("text", b"hello world").contains("not a Go execution trace"));
        assert!(error("empty", b"").contains("empty"));
        assert!(error("header-only", b"go 1.26 trace\0\0\0").contains("no events"));
        assert!(error("old", b"go 1.21 trace\0\0\0\0\0\0").contains("not supported"));
        let dir = std::env::temp_dir();
        assert!(
            load(&Source::File(dir), Arc::default())
                .expect_err("a folder")
                .contains("folder")
        );
    }

    #[test]
    fn reports_damage_after_the_readable_part() {
        let mut bytes = SAMPLE.to_vec();
        bytes.truncate(bytes.len() * 2 / 3);
        let loaded = load_bytes("cut.trace", &bytes).expect("the readable part loads");
        assert!(loaded.damage.is_some());
    }
}
