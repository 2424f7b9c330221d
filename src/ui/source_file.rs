//! Finding a stack frame's source file on this machine.
//!
//! A trace records the file paths of the machine that built the program.
//! An absolute path is taken as it is. A program built with `-trimpath`
//! (release builds, most container images) records paths relative to
//! nothing on any disk, and gotv looks for them where Go keeps them:
//!
//! - a dependency's files as `module@version/dir/file.go`: in the module
//!   cache (`GOMODCACHE`), under the module path with upper-case letters
//!   escaped as Go's module cache does (`!` and the lower-case letter);
//! - the main module's files as `module/dir/file.go`: under the directory of
//!   a `go.mod` declaring that module, found in the directory of the trace
//!   file, the working directory, or a directory above either;
//! - the standard library's as `net/http/server.go`: under `GOROOT/src`.
//!
//! `GOROOT` and `GOMODCACHE` come from `go env` when a `go` command is on
//! `PATH` (which honours the user's settings), else from the environment
//! and Go's defaults. All of this touches the file system and may start a
//! process, so it runs on the editor's background thread.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Go keeps source files on this machine.
#[derive(Debug, Default)]
pub(crate) struct Places {
    /// The Go installation (its `src` holds the standard library).
    goroot: Option<PathBuf>,
    /// The module cache.
    modcache: Option<PathBuf>,
    /// Modules with their directory, from `go.mod` files.
    modules: Vec<(String, PathBuf)>,
}

impl Places {
    /// The places of this machine, with the main modules declared above
    /// the directories `near` (the trace file's, the working one).
    pub(crate) fn find(near: &[&Path]) -> Places {
        let (goroot, modcache) = go_env();
        let mut modules: Vec<(String, PathBuf)> = Vec::new();
        for dir in near.iter().flat_map(|d| d.ancestors()) {
            if let Some(module) = module_of(&dir.join("go.mod"))
                && !modules.iter().any(|(_, d)| d == dir)
            {
                modules.push((module, dir.to_path_buf()));
            }
        }
        Places {
            goroot,
            modcache,
            modules,
        }
    }

    /// The file a stack names `file`, if it is on this machine, and in
    /// words where it was found when `file` is not where it points.
    pub(crate) fn locate(&self, file: &Path) -> Option<(PathBuf, Option<&'static str>)> {
        if file.is_absolute() {
            return file.is_file().then(|| (file.to_path_buf(), None));
        }
        let text = file.to_str()?;
        let in_cache = text.split('/').any(|part| part.contains('@'));
        let cached = |m: &PathBuf| (m.join(escape_module(text)), "the module cache");
        let candidates = [
            self.modcache.as_ref().filter(|_| in_cache).map(cached),
            self.main_module_file(text).map(|f| (f, "its module")),
            self.goroot
                .as_ref()
                .map(|g| (g.join("src").join(text), "GOROOT")),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|(path, _)| path.is_file())
            .map(|(path, place)| (path, Some(place)))
    }

    /// `text` under the directory of the main module it starts with (the
    /// longest module path that is a prefix of it, at a `/`).
    fn main_module_file(&self, text: &str) -> Option<PathBuf> {
        self.modules
            .iter()
            .filter_map(|(module, dir)| {
                let rest = text.strip_prefix(module.as_str())?.strip_prefix('/')?;
                Some((module.len(), dir.join(rest)))
            })
            .max_by_key(|&(len, _)| len)
            .map(|(_, path)| path)
    }
}

/// `GOROOT` and `GOMODCACHE`: from `go env` if a `go` command runs, else
/// from the environment (`GOMODCACHE`, or `GOPATH/pkg/mod`, or
/// `~/go/pkg/mod`).
fn go_env() -> (Option<PathBuf>, Option<PathBuf>) {
    // GOTOOLCHAIN=local: a go.mod in the working directory asking for a
    // newer Go must not make `go env` download one.
    let output = Command::new("go")
        .args(["env", "GOROOT", "GOMODCACHE"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(output) = output {
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut lines = text
            .lines()
            .map(str::trim)
            .map(|l| (!l.is_empty()).then(|| PathBuf::from(l)));
        let goroot = lines.next().flatten();
        let modcache = lines.next().flatten();
        return (goroot, modcache);
    }
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let gopath = var("GOPATH").or_else(|| var("HOME").map(|h| h.join("go")));
    let modcache = var("GOMODCACHE").or_else(|| gopath.map(|p| p.join("pkg/mod")));
    (var("GOROOT"), modcache)
}

/// The module path a `go.mod` file declares, if it is readable and does.
fn module_of(go_mod: &Path) -> Option<String> {
    let text = std::fs::read_to_string(go_mod).ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("module")?;
        let name = rest.trim().trim_matches('"');
        (rest.starts_with(char::is_whitespace) && !name.is_empty()).then(|| name.to_owned())
    })
}

/// `text` (`module@version/dir/file.go`) with the module path and version
/// escaped as the module cache stores them: each upper-case letter becomes
/// `!` and its lower-case form.
fn escape_module(text: &str) -> String {
    let (module, rest) = match text.find('@') {
        Some(at) => match text.get(at..).and_then(|t| t.find('/')) {
            Some(slash) => text.split_at(at + slash),
            None => (text, ""),
        },
        None => (text, ""),
    };
    let mut out = String::with_capacity(text.len() + 4);
    for c in module.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gotv-source-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"package x\n").unwrap();
    }

    #[test]
    fn module_paths_are_escaped_as_in_the_module_cache() {
        assert_eq!(
            escape_module("github.com/BurntSushi/toml@v1.2.0/Decode.go"),
            "github.com/!burnt!sushi/toml@v1.2.0/Decode.go"
        );
        assert_eq!(escape_module("net/http/server.go"), "net/http/server.go");
    }

    #[test]
    fn trimmed_paths_are_found_where_go_keeps_them() {
        let root = scratch("places");
        let goroot = root.join("goroot");
        let modcache = root.join("mod");
        let project = root.join("work/app");
        touch(&goroot.join("src/net/http/server.go"));
        touch(&modcache.join("github.com/!burnt!sushi/toml@v1.2.0/decode.go"));
        touch(&project.join("internal/load/load.go"));
        std::fs::write(
            project.join("go.mod"),
            "// the app\nmodule example.com/app\n\ngo 1.22\n",
        )
        .unwrap();
        let trace_dir = project.join("traces");
        std::fs::create_dir_all(&trace_dir).unwrap();
        let places = Places {
            goroot: Some(goroot.clone()),
            modcache: Some(modcache.clone()),
            ..Places::find(&[&trace_dir])
        };
        let found = |file: &str| places.locate(Path::new(file));
        assert_eq!(
            found("net/http/server.go"),
            Some((goroot.join("src/net/http/server.go"), Some("GOROOT")))
        );
        assert_eq!(
            found("github.com/BurntSushi/toml@v1.2.0/decode.go"),
            Some((
                modcache.join("github.com/!burnt!sushi/toml@v1.2.0/decode.go"),
                Some("the module cache")
            ))
        );
        assert_eq!(
            found("example.com/app/internal/load/load.go"),
            Some((project.join("internal/load/load.go"), Some("its module")))
        );
        assert_eq!(found("example.com/other/main.go"), None);
        assert_eq!(found("net/http/client.go"), None, "only files that exist");
        let absolute = project.join("internal/load/load.go");
        assert_eq!(places.locate(&absolute), Some((absolute.clone(), None)));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_go_mod_names_its_module() {
        let root = scratch("gomod");
        let go_mod = root.join("go.mod");
        std::fs::write(&go_mod, "module \"example.com/quoted\"\n").unwrap();
        assert_eq!(module_of(&go_mod).as_deref(), Some("example.com/quoted"));
        std::fs::write(&go_mod, "modules are not this\n").unwrap();
        assert_eq!(module_of(&go_mod), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
