//! The `cinecut` binary: parse the command line, run the command, and turn an
//! error into one clear message (what failed, which file, what to do) and an
//! exit code (2 for usage and input errors, 3 for a broken editing rule in
//! `cinecut check`, 1 otherwise).

use cinecut::cli::Cli;
use cinecut::ui::Ui;
use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes
    // away (`cinecut check … | head`) instead of panicking on a broken pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet, cli.json);
    match cinecut::commands::run(cli, &ui) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("{} {e}", console::style("error:").red().bold());
            if let Some(hint) = e.hint() {
                eprintln!("{} {hint}", console::style("hint:").cyan().bold());
            }
            std::process::exit(e.exit_code());
        }
    }
}
