//! `gotv --screenshot` end to end: the real binary, a real X display (Xvfb),
//! real OpenGL, the sample trace decoded by the worker — and the PNG it
//! saves checked for what a person would see: the right size, and lanes
//! full of distinct colours rather than an empty window.
//!
//! With `DISPLAY` unset the test starts its own Xvfb on a free display
//! number. Without Xvfb it is skipped with a message, except in CI
//! (`CI=true`), where a missing Xvfb fails it.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Window size asked for, in points (the PNG has this many pixels at scale 1).
const SIZE: (u32, u32) = (1280, 800);

/// How long Xvfb may take to accept connections.
const XVFB_START: Duration = Duration::from_secs(10);

/// Display numbers tried for a private Xvfb: high, so as not to collide with
/// a desktop session.
const DISPLAYS: std::ops::Range<u32> = 140..200;

/// An Xvfb this test started; stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
    /// Stops it with SIGTERM, which lets it remove its lock file and socket
    /// (SIGKILL would leave them, and the display number would look taken).
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Whether `program` is an executable on `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Starts Xvfb on the first free display of [`DISPLAYS`].
fn start_xvfb() -> Option<Xvfb> {
    if !on_path("Xvfb") {
        return common::missing("Xvfb (apt-get install xvfb) to run gotv --screenshot");
    }
    for n in DISPLAYS {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let screen = format!("{}x{}x24", SIZE.0 + 100, SIZE.1 + 100);
        let Ok(child) = Command::new("Xvfb")
            .args([format!(":{n}"), "-screen".into(), "0".into(), screen])
            .args(["-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            continue;
        };
        let mut xvfb = Xvfb {
            child,
            display: format!(":{n}"),
        };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + XVFB_START;
        while Instant::now() < deadline {
            if socket.exists() {
                return Some(xvfb);
            }
            if let Ok(Some(_)) = xvfb.child.try_wait() {
                break; // Lost a race for this display: try the next.
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("Xvfb is installed but would not start on any of displays {DISPLAYS:?}");
}

/// Runs `gotv` on the sample trace with `--screenshot` and `args` on a
/// display (its own Xvfb if none is set); the PNG and what gotv wrote to
/// stderr, or `None` if no Xvfb could be had outside CI.
fn screenshot(name: &str, args: &[&str]) -> Option<(image::RgbImage, String)> {
    // One at a time: each test's Xvfb goes away with it.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let own_xvfb;
    let display = match std::env::var("DISPLAY") {
        Ok(display) if !display.is_empty() => display,
        _ => {
            own_xvfb = start_xvfb()?;
            own_xvfb.display.clone()
        }
    };
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_file(&out);
    let sample = common::repo_root().join("testdata/traces/sample.trace");
    let run = Command::new(common::gotv_bin())
        .arg(&sample)
        .arg("--screenshot")
        .arg(&out)
        .arg("--size")
        .arg(format!("{}x{}", SIZE.0, SIZE.1))
        .args(args)
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .output()
        .expect("run gotv");
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(
        run.status.success(),
        "gotv --screenshot failed: {}\n{stderr}",
        run.status
    );
    let image = image::open(&out)
        .expect("the screenshot is a PNG")
        .to_rgb8();
    assert_eq!(image.dimensions(), SIZE, "one pixel per point");
    Some((image, stderr))
}

#[test]
fn screenshot_of_the_sample_shows_its_lanes() {
    let Some((image, _)) = screenshot("gui_screenshot.png", &[]) else {
        return;
    };
    // The lanes: right of the name column, below the menu bar and axis,
    // above the status bar.
    let (w, h) = image.dimensions();
    let mut colours = HashSet::new();
    for y in (60..h - 40).step_by(2) {
        for x in (220..w - 10).step_by(2) {
            colours.insert(image.get_pixel(x, y).0);
        }
    }
    assert!(
        colours.len() > 200,
        "the lanes look empty: only {} distinct colours",
        colours.len()
    );
}

/// With `--panel outliers`, the screenshot waits for the analysis: the
/// panel at the bottom shows the histogram's bars, not "Analysing…". With
/// `--timings`, gotv says when each stage was reached.
#[test]
fn screenshot_with_the_outliers_panel_shows_its_histogram() {
    let args = ["--panel", "outliers", "--timings"];
    let Some((image, stderr)) = screenshot("gui_screenshot_outliers.png", &args) else {
        return;
    };
    for stage in ["first frame", "latency outliers", "overview decoded"] {
        let line = stderr
            .lines()
            .find_map(|l| l.strip_prefix(&format!("gotv: {stage} after ")))
            .unwrap_or_else(|| panic!("no {stage} in {stderr:?}"));
        let (seconds, frames): (f64, u64) = line
            .strip_suffix(" frames)")
            .and_then(|l| l.split_once(" s ("))
            .and_then(|(s, f)| Some((s.parse().ok()?, f.parse().ok()?)))
            .unwrap_or_else(|| panic!("{stage}: {line:?}"));
        assert!((0.0..60.0).contains(&seconds), "{stage}: {seconds} s");
        assert!(frames >= 1, "{stage}: {frames} frames");
    }
    // The histogram: the left third of the panel, in the bottom third.
    let (w, h) = image.dimensions();
    let bar = |p: &image::Rgb<u8>| {
        let [r, g, b] = p.0;
        r < 40 && (150..200).contains(&g) && (190..240).contains(&b)
    };
    let bars = (h * 2 / 3..h - 30)
        .flat_map(|y| (0..w / 3).map(move |x| (x, y)))
        .filter(|&(x, y)| bar(image.get_pixel(x, y)))
        .count();
    assert!(
        bars > 2_000,
        "no histogram in the outliers panel: {bars} bar pixels"
    );
}
