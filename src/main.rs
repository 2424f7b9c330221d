//! The `gotv` binary: see [`gotv::cli`].

fn main() -> std::process::ExitCode {
    gotv::cli::main()
}
