//! `participant-bench`: parses the options, runs the benchmark, prints the markdown report
//! on standard output (progress goes to standard error).

use std::process::ExitCode;

use clap::Parser as _;

/// The same allocator as the roles (`participant`), so the ceilings it serves are measured
/// on equal terms.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let options = bench::Options::parse();
    match bench::run(options).await {
        Ok(report) => {
            print!("{}", report.to_markdown());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
