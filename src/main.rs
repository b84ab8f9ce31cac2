//! The `forksim` command: parses arguments and hands over to [`forksim::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    forksim::cli::main()
}
