//! `mistype policy`: validate a policy file, or print the embedded default policy; and the
//! engine of a policy file, which every other command judges with.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use mistype::{Engine, Policy};

use crate::exit::{emit, fail, stop_writing};

/// The engine of the policy file `policy`; the embedded default policy's without one. The error
/// names the file.
pub fn load_engine(policy: Option<&PathBuf>) -> Result<Engine, String> {
    match policy {
        None => Ok(Engine::with_default_policy()),
        Some(p) => {
            let text = fs::read_to_string(p)
                .map_err(|e| format!("cannot read the policy file '{}': {e}", p.display()))?;
            Engine::from_policy_json(&text).map_err(|e| format!("{}: {e}", p.display()))
        }
    }
}

/// Run `mistype policy`: print the embedded default policy (`default`), or validate `file`.
pub fn run(default: bool, file: Option<&PathBuf>) -> ExitCode {
    if default {
        return match emit(Policy::EMBEDDED_JSON) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => stop_writing(&e, ExitCode::SUCCESS),
        };
    }
    let Some(path) = file else {
        return fail("give a policy FILE or --default");
    };
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return fail(format!(
                "cannot read the policy file '{}': {e}",
                path.display()
            ))
        }
    };
    match Policy::from_json(&text) {
        Ok(p) => {
            let engine = Engine::new(&p);
            let line = format!(
                "{}: valid. {} protected, {} trusted, {} known, {} rules{}; {} reference domains in all.\n",
                path.display(),
                p.protected.len(),
                p.trusted.len(),
                p.known.len(),
                p.rules.len(),
                if p.defaults { ", plus the embedded defaults" } else { "" },
                engine.reference_count()
            );
            match emit(&line) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => stop_writing(&e, ExitCode::SUCCESS),
            }
        }
        Err(e) => fail(format!("{}: {e}", path.display())),
    }
}
