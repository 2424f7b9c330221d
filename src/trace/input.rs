//! Access to the trace bytes.
//!
//! Regular files are memory-mapped, so opening a multi-gigabyte trace costs
//! nothing up front and only the generations actually decoded are paged in.
//! Anything that cannot be mapped (standard input, pipes, special files) is
//! read into memory instead. Either way the decoder sees one `&[u8]`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use memmap2::Mmap;

/// The bytes of a trace, mapped or owned.
pub enum Input {
    /// A memory-mapped regular file.
    Mapped(Mmap),
    /// Bytes read from a stream.
    Owned(Vec<u8>),
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
                return Ok(Input::Mapped(map));
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
            Input::Mapped(map) => map,
            Input::Owned(buf) => buf,
        }
    }

    /// Tells the kernel how a mapped file is about to be read: sparsely
    /// (`true`: the index pass, one batch header per batch), so it maps
    /// only the pages touched instead of reading ahead and mapping their
    /// neighbours, or sequentially again (`false`). Does nothing for bytes
    /// read into memory.
    pub fn advise_sparse(&self, sparse: bool) {
        if let Input::Mapped(map) = self {
            let _ = map.advise(if sparse {
                memmap2::Advice::Random
            } else {
                memmap2::Advice::Normal
            });
        }
    }

    /// Tells the kernel that `range` of a mapped file will not be read
    /// again soon, so its pages stop counting toward the resident set (they
    /// are read back from the file if they are). Does nothing for bytes read
    /// into memory.
    pub fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Input::Mapped(map) = self
            && range.start < range.end
            && range.end <= map.len()
        {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
