//! Screenshot mode (`gotv --screenshot OUT.png`): render the real window,
//! wait until everything visible is ready, save it as PNG and exit.
//!
//! It drives the same app as an interactive session, so a screenshot shows
//! exactly what a user would see — which is what makes it useful for bug
//! reports, docs and visual checks in CI. "Ready" is decided by the app
//! ([`Job::step`] takes it as an argument): a trace is loaded (or failed, and
//! the error is on screen) and the worker has nothing pending for the visible
//! range. One more frame is painted after that, so that layout settled in the
//! ready frame (egui sizes some widgets a frame late) is what gets captured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use egui::{ColorImage, ViewportCommand};

/// Give up when nothing became ready in this long: a screenshot run in CI must
/// end. A minute covers indexing a multi-gigabyte trace on a slow disk.
const TIMEOUT: Duration = Duration::from_secs(60);

/// How often a waiting job looks again by itself. Whatever makes the view
/// ready wakes the app anyway (the worker and the analysis do), so this is
/// only a backstop; a shorter one would draw frames that take CPU from the
/// decoding the screenshot waits for.
const POLL: Duration = Duration::from_secs(1);

/// Exit code when the screenshot could not be taken or saved.
const FAILURE: u8 = 1;

#[derive(Debug)]
enum Phase {
    /// Waiting for the app to report that everything visible is ready.
    Waiting,
    /// Ready was seen; the next frame is the one to capture.
    Settling,
    /// The capture was requested; the image arrives on the channel.
    Capturing,
    /// Saved (or failed) and the window was asked to close.
    Done,
}

/// What the app reports each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// Something visible is still loading.
    Loading,
    /// Everything visible is drawn.
    Ready,
    /// Opening failed and the error is on screen: capture it, then exit 1.
    Failed,
}

/// A screenshot to take once the app is ready.
#[derive(Debug)]
pub(crate) struct Job {
    path: PathBuf,
    phase: Phase,
    started: Instant,
    failed: bool,
    tx: Sender<Arc<ColorImage>>,
    rx: Receiver<Arc<ColorImage>>,
}

impl Job {
    /// A job saving to `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        Self {
            path,
            phase: Phase::Waiting,
            started: Instant::now(),
            failed: false,
            tx,
            rx,
        }
    }

    /// Advances the job after a frame was drawn; returns the exit code once
    /// the job is over (the window has then been asked to close).
    pub(crate) fn step(&mut self, ctx: &egui::Context, readiness: Readiness) -> Option<u8> {
        match self.phase {
            Phase::Waiting if readiness != Readiness::Loading => {
                self.failed = readiness == Readiness::Failed;
                self.phase = Phase::Settling;
                ctx.request_repaint();
            }
            Phase::Waiting if self.started.elapsed() > TIMEOUT => {
                eprintln!("gotv: screenshot: nothing was ready after {TIMEOUT:?}; giving up");
                return Some(self.finish(ctx, FAILURE));
            }
            Phase::Waiting => ctx.request_repaint_after(POLL),
            Phase::Settling => {
                let (tx, waker) = (self.tx.clone(), ctx.clone());
                ctx.request_screenshot(move |image| {
                    let _ = tx.send(image);
                    waker.request_repaint();
                });
                self.phase = Phase::Capturing;
            }
            Phase::Capturing => {
                if let Ok(image) = self.rx.try_recv() {
                    let code = match save_png(&image, &self.path) {
                        Ok(()) => {
                            println!("saved {}", self.path.display());
                            u8::from(self.failed)
                        }
                        Err(e) => {
                            eprintln!("gotv: cannot save {}: {e}", self.path.display());
                            FAILURE
                        }
                    };
                    return Some(self.finish(ctx, code));
                }
            }
            Phase::Done => {}
        }
        None
    }

    fn finish(&mut self, ctx: &egui::Context, code: u8) -> u8 {
        self.phase = Phase::Done;
        ctx.send_viewport_cmd(ViewportCommand::Close);
        code
    }
}

/// Encodes the window image as an RGB PNG (the window is opaque: the
/// framebuffer's alpha is meaningless). The pixels are converted into one
/// buffer of exactly their size: this runs at the end of a load, when the
/// process's memory is at its peak.
fn save_png(image: &ColorImage, path: &std::path::Path) -> Result<(), String> {
    let [width, height] = image.size;
    let mut rgb = Vec::with_capacity(image.pixels.len() * 3);
    for p in &image.pixels {
        let [r, g, b, _] = p.to_srgba_unmultiplied();
        rgb.extend_from_slice(&[r, g, b]);
    }
    let (w, h) = (
        u32::try_from(width).map_err(|e| e.to_string())?,
        u32::try_from(height).map_err(|e| e.to_string())?,
    );
    image::save_buffer_with_format(
        path,
        &rgb,
        w,
        h,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| e.to_string())
}
