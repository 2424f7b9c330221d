//! The committed real traces of `testdata/traces/`.

use std::fs;
use std::path::PathBuf;

/// `testdata/traces/` of the checkout.
pub fn dir() -> PathBuf {
    super::repo_root().join("testdata").join("traces")
}

/// `testdata/traces/NAME` (a trace or one of its oracles).
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}

/// The sample trace the GUI opens by default.
pub fn sample() -> PathBuf {
    path("sample.trace")
}

/// Every `testdata/traces/*.trace` with its bytes, sorted by name.
pub fn real_traces() -> Vec<(String, Vec<u8>)> {
    let dir = dir();
    let mut traces: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    traces.sort();
    assert!(!traces.is_empty(), "no *.trace files in {}", dir.display());
    traces
}

/// Go's `-d=parsed` text of trace `NAME` (`NAME.parsed`, or gzipped `NAME.parsed.gz`).
pub fn parsed_text(name: &str) -> String {
    use std::io::Read;
    let plain = path(&format!("{name}.parsed"));
    if plain.is_file() {
        return fs::read_to_string(&plain).unwrap_or_else(|e| panic!("{}: {e}", plain.display()));
    }
    let gz = path(&format!("{name}.parsed.gz"));
    let file = fs::File::open(&gz).unwrap_or_else(|e| panic!("{}: {e}", gz.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("gunzip {}: {e}", gz.display()));
    text
}

/// The goroutines Go's parse of trace `name` says goroutine `parent`
/// created (brought out of `NotExist` by an event of its own).
pub fn created_by(name: &str, parent: i64) -> std::collections::BTreeSet<i64> {
    let text = parsed_text(name);
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let field = |key: &str| words.iter().find_map(|w| w.strip_prefix(key));
            let created = words.get(3) == Some(&"StateTransition")
                && words.get(6).is_some_and(|s| s.starts_with("NotExist->"))
                && field("G=") == Some(&parent.to_string());
            created.then(|| field("GoID=")?.parse().ok()).flatten()
        })
        .collect()
}

/// The goroutines Go's parse of trace `name` says took part in user
/// regions (`task` false) or tasks whose type contains `text`, ignoring
/// case: for regions, those that began or ended one; for tasks, those
/// that began or ended one, or had a region or log message in one.
pub fn annotated(name: &str, task: bool, text: &str) -> std::collections::BTreeSet<i64> {
    let text = text.to_lowercase();
    let mut found = std::collections::BTreeSet::new();
    let mut tasks = std::collections::BTreeSet::new();
    let mut worked_in = Vec::new();
    let parsed = parsed_text(name);
    for line in parsed.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let field = |key: &str| words.iter().find_map(|w| w.strip_prefix(key));
        let (Some(kind), Some(g)) = (
            words.get(3),
            field("G=").and_then(|g| g.parse::<i64>().ok()),
        ) else {
            continue;
        };
        let typed =
            field("Type=").is_some_and(|t| t.trim_matches('"').to_lowercase().contains(&text));
        match (*kind, task) {
            ("RegionBegin" | "RegionEnd", false) if typed && g >= 0 => {
                found.insert(g);
            }
            ("TaskBegin" | "TaskEnd", true) if typed && g >= 0 => {
                tasks.extend(field("ID="));
                found.insert(g);
            }
            ("RegionBegin" | "RegionEnd" | "Log", true) if g >= 0 => {
                worked_in.extend(field("Task=").map(|t| (t, g)));
            }
            _ => {}
        }
    }
    found.extend(
        worked_in
            .into_iter()
            .filter(|(t, _)| tasks.contains(t))
            .map(|(_, g)| g),
    );
    found
}
