// The benchmark trace generator (see ../README.md). Standard library only.
module gotv.bench/gen

go 1.22
