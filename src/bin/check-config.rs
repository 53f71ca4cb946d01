//! The pre-deploy check's native half: reads one environment's settings
//! (vars and secrets, a JSON object of names to values) on stdin and checks
//! them with the Worker's own settings code (`readiness`). Prints one line
//! per problem, each naming a setting and never a value, and exits 1; or
//! prints the configured features and exits 0. `scripts/check-config.mjs`
//! reads the wrangler config and the secrets file and runs this.
//!
//! `check-config --secret-names` prints the name of every secret the
//! gateway reads (`settings::names::SECRETS`), one a line: the deploy
//! tooling's one list of what must never be a var.

use std::io::Read;
use std::process::ExitCode;

use upscope_edge_gateway::readiness::{readiness, JsonVars, SECRET_NAMES};

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--secret-names") {
        for name in SECRET_NAMES {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    let mut input = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("check-config: could not read settings from stdin: {err}");
        return ExitCode::from(2);
    }
    let vars = match JsonVars::parse(&input) {
        Ok(vars) => vars,
        Err(why) => {
            eprintln!("check-config: {why}");
            return ExitCode::from(2);
        }
    };
    let report = readiness(&vars);
    if report.is_ready() {
        println!("ready: {}", report.features.join(" "));
        ExitCode::SUCCESS
    } else {
        for problem in &report.problems {
            println!("problem: {problem}");
        }
        ExitCode::FAILURE
    }
}
