//! `mistype check`: JSON lines in, one verdict line per request out, in order. Chunks of whole
//! lines are judged on worker threads (the engine is shared, read-only) and written in the
//! order read.

use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mistype::{CheckRequest, Engine};

use super::policy::load_engine;
use crate::exit::fail;
use crate::reading::chunks::{lines, Chunk, Chunker, MAX_LINE};
use crate::reading::threads::ordered_map;

/// One chunk's verdict lines and counts.
struct Judged {
    text: String,
    /// Requests read, per verdict (allow, warn, block), errors.
    n: usize,
    counts: [usize; 3],
    errors: usize,
    /// A read error that ends the input.
    failed: Option<String>,
}

/// The verdict line (or error line) for one request line (1-based `lineno`).
pub fn judge_line(
    engine: &Engine,
    text: &str,
    lineno: u64,
    counts: &mut [usize; 3],
) -> Result<String, String> {
    // Verdicts keep the contract's key order (id, verdict, findings, errors).
    match serde_json::from_str::<CheckRequest>(text) {
        Ok(req) => {
            let v = engine.check(&req);
            counts[v.verdict as usize] += 1;
            Ok(serde_json::to_string(&v).unwrap_or_default())
        }
        // Only a bad line pays for a second parse, to say which it is.
        Err(_) => Err(match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => serde_json::json!({"id": null, "error": format!("line {lineno}: not valid JSON ({e})")})
                .to_string(),
            Ok(value) => {
                let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
                let e = serde_json::from_value::<CheckRequest>(value)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                serde_json::json!({"id": id, "error": format!(
                    "line {lineno}: not a check request ({e}); expected {{\"to\": [\"addr\", ...], \"from\"?: \"addr\", \"cc\"?, \"bcc\"?, \"contacts\"?}}"
                )})
                .to_string()
            }
        }),
    }
}

/// Run `mistype check`: the engine of `policy` (the embedded default without one) on the JSON
/// lines of `input` (standard input when absent or "-"), on as many threads as there are cores.
pub fn run(policy: Option<&PathBuf>, input: Option<&PathBuf>, summary: bool) -> ExitCode {
    let engine = match load_engine(policy) {
        Ok(e) => e.load_suffix_list(),
        Err(e) => return fail(e),
    };
    let reader: Box<dyn Read + Send> = match input {
        Some(p) if p.as_os_str() != "-" => match fs::File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => return fail(format!("cannot read the input '{}': {e}", p.display())),
        },
        _ => Box::new(io::stdin()),
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    judge_all(&engine, reader, workers, summary)
}

/// `mistype check` over `input` with `workers` threads.
fn judge_all(
    engine: &Engine,
    input: Box<dyn Read + Send>,
    workers: usize,
    summary: bool,
) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut n, mut counts, mut errors) = (0usize, [0usize; 3], 0usize);
    let mut failed = None;
    let mut write_error: Option<io::Error> = None;
    // Each chunk with the number of its first line.
    let mut next_line = 1u64;
    let numbered = Chunker::new(input).map(move |c| {
        let first = next_line;
        next_line += match &c {
            Chunk::Lines(d) => {
                memchr::memchr_iter(b'\n', d).count() as u64 + u64::from(!d.ends_with(b"\n"))
            }
            _ => 1,
        };
        (first, c)
    });
    ordered_map(
        numbered,
        workers,
        |(first, chunk)| {
            let mut j = Judged {
                text: String::new(),
                n: 0,
                counts: [0; 3],
                errors: 0,
                failed: None,
            };
            match chunk {
                Chunk::Lines(data) => {
                    for (i, raw) in lines(&data).enumerate() {
                        let text = String::from_utf8_lossy(raw);
                        let text = text.trim();
                        if text.is_empty() {
                            continue;
                        }
                        j.n += 1;
                        let line = match judge_line(engine, text, first + i as u64, &mut j.counts) {
                            Ok(l) => l,
                            Err(l) => {
                                j.errors += 1;
                                l
                            }
                        };
                        j.text.push_str(&line);
                        j.text.push('\n');
                    }
                }
                Chunk::Overlong(len) => {
                    j.n += 1;
                    j.errors += 1;
                    j.text = serde_json::json!({"id": null, "error": format!("line {first}: a line of {len} bytes; at most {MAX_LINE} are read")}).to_string() + "\n";
                }
                Chunk::Error(e) => j.failed = Some(format!("reading line {first}: {e}")),
            }
            j
        },
        |j| {
            n += j.n;
            errors += j.errors;
            for (c, k) in counts.iter_mut().zip(j.counts) {
                *c += k;
            }
            if failed.is_none() {
                failed = j.failed;
            }
            if write_error.is_none() && failed.is_none() {
                if let Err(e) = out.write_all(j.text.as_bytes()) {
                    write_error = Some(e);
                }
            }
        },
    );
    if let Err(e) = out.flush() {
        write_error = write_error.or(Some(e));
    }
    if let Some(e) = write_error {
        // A reader that has gone (`mistype check | head`) has what it wanted.
        if e.kind() != io::ErrorKind::BrokenPipe {
            return fail(format!("cannot write to standard output: {e}"));
        }
    }
    if let Some(e) = failed {
        return fail(e);
    }
    if summary {
        eprintln!(
            "{n} requests: {} allow, {} warn, {} block, {errors} errors",
            counts[0], counts[1], counts[2]
        );
    }
    ExitCode::SUCCESS
}
