// Trace generators for gotv's test data. Standard library only; see ../README.md.
// The language version stays at 1.21 so that every pinned toolchain can build
// these programs (iterpull/ is a separate module because iter.Pull needs 1.23).
module gotv.test/gen

go 1.21
