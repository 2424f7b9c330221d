// A module of its own: iter.Pull needs language version 1.23.
module gotv.test/iterpull

go 1.23
