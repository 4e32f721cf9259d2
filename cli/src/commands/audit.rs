//! `mistype audit`: find the misaddressed mail in past mail (logs, traces, mailboxes).

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::policy::load_engine;
use crate::exit::fail;
use crate::input::format::Format;
use crate::input::record::{Message, Skip};
use crate::judge::{for_recipient, Judge, Outcome};
use crate::output::report::{finding_csv, finding_json, skip_json, Row, Summary, CSV_HEADER};
use crate::reading::progress::Bar;
use crate::reading::reader::{Progress, Reader, Sink};

/// Options shared by `audit` and `learn`: what to read and how.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Log files, CSV exports, mbox files, Maildir folders or message files (plain or gzip);
    /// standard input when none is given or for "-".
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The input format: auto (told from each input's content), postfix, exim, csv (Microsoft
    /// 365 / Exchange message trace, Google Workspace email log search), mbox, maildir or eml.
    #[arg(long, value_name = "F", default_value = "auto")]
    pub format: String,
    /// A policy JSON file; without it the embedded default policy applies.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Threads that parse mail logs (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar (it is shown on standard error only when that is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

impl InputArgs {
    /// The forced format and the worker count, or a usage error.
    pub fn prepare(&self) -> Result<(Option<Format>, usize), String> {
        let format = Format::parse(&self.format)?;
        let workers = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, 64);
        Ok((format, workers))
    }
}

/// `mistype audit` options.
#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// One JSON object per line: each finding and each unreadable entry as read, then the totals
    /// (the human summary goes to standard error).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV for spreadsheets: a header row, then one row per finding (the human summary goes to
    /// standard error).
    #[arg(long)]
    pub csv: bool,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Mode {
    Human,
    Json,
    Csv,
}

struct AuditSink<'e, W: Write> {
    judge: Judge<'e>,
    summary: Summary,
    names: Vec<String>,
    mode: Mode,
    out: W,
    /// The first write error (a reader that has gone, or a full disk).
    write_error: Option<io::Error>,
}

impl<W: Write> AuditSink<'_, W> {
    fn write(&mut self, line: &str) {
        if self.write_error.is_none() {
            if let Err(e) = writeln!(self.out, "{line}") {
                self.write_error = Some(e);
            }
        }
    }
}

impl<W: Write> Sink for AuditSink<'_, W> {
    fn input(&mut self, name: &str) {
        self.names.push(name.to_string());
    }

    fn message(&mut self, m: Message) {
        self.summary.messages += 1;
        let mut flagged = false;
        for r in &m.rcpts {
            self.summary.recipients += 1;
            *self.summary.status.entry(r.status).or_default() += 1;
            match self.judge.judge(m.sender.as_deref(), &r.address) {
                Outcome::Clean => {}
                Outcome::Error(why) => {
                    self.summary.unjudged += 1;
                    if self.summary.unjudged_examples.len() < 3 {
                        self.summary
                            .unjudged_examples
                            .push((r.loc, why.to_string()));
                    }
                }
                Outcome::Flagged(fs) => {
                    flagged = true;
                    // The most severe finding (the engine lists it first).
                    let shown = match &r.name {
                        Some(n) => format!("{n} <{}>", r.address),
                        None => r.address.clone(),
                    };
                    let row = Row {
                        time: m.time.clone(),
                        sender: m.sender.clone(),
                        message_id: m.message_id.clone(),
                        rcpt: r.clone(),
                        finding: for_recipient(&fs[0], &r.address, &shown),
                    };
                    match self.mode {
                        Mode::Json => {
                            let l = finding_json(&self.names, &row);
                            self.write(&l);
                        }
                        Mode::Csv => {
                            let l = finding_csv(&self.names, &row);
                            self.write(&l);
                        }
                        Mode::Human => {}
                    }
                    self.summary.add(row);
                }
            }
        }
        if flagged {
            self.summary.flagged_messages += 1;
        }
    }

    fn skip(&mut self, s: Skip) {
        if self.mode == Mode::Json {
            let l = skip_json(&self.names, &s);
            self.write(&l);
        }
        self.summary.skip(s);
    }

    fn other_lines(&mut self, n: u64) {
        self.summary.other_lines += n;
    }
}

/// Describe the formats read: `postfix 2, mbox 1`.
pub fn formats_read(formats: &[Option<Format>]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for f in formats {
        let name = f.map_or("unreadable", Format::as_str);
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some(c) => c.1 += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run `mistype audit`.
pub fn run(args: &AuditArgs) -> ExitCode {
    let (format, workers) = match args.input.prepare() {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let engine = match load_engine(args.input.policy.as_ref()) {
        Ok(e) => e.load_suffix_list(),
        Err(e) => return fail(e),
    };
    let mode = if args.json {
        Mode::Json
    } else if args.csv {
        Mode::Csv
    } else {
        Mode::Human
    };
    let progress = Arc::new(Progress::default());
    let bar = Bar::start(progress.clone(), !args.input.no_progress);
    let stdout = io::stdout();
    let mut sink = AuditSink {
        judge: Judge::new(&engine),
        summary: Summary::default(),
        names: Vec::new(),
        mode,
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        write_error: None,
    };
    if mode == Mode::Csv {
        sink.write(CSV_HEADER);
    }
    let mut reader = Reader::new(format, workers, progress);
    reader.read_all(&args.input.inputs, &mut sink);
    bar.stop();
    let formats = formats_read(&reader.formats);
    let human = sink.summary.human(&reader.names, &formats);
    match mode {
        Mode::Human => sink.write(human.trim_end()),
        Mode::Json => {
            let l = sink.summary.json(&reader.names).to_string();
            sink.write(&l);
            eprint!("{human}");
        }
        Mode::Csv => eprint!("{human}"),
    }
    if let Err(e) = sink.out.flush() {
        sink.write_error = sink.write_error.or(Some(e));
    }
    // A reader that has gone (`mistype audit --json | head`) has what it wanted; any other
    // write error is reported.
    if let Some(e) = sink
        .write_error
        .filter(|e| e.kind() != io::ErrorKind::BrokenPipe)
    {
        return fail(format!("cannot write to standard output: {e}"));
    }
    if sink.summary.flagged > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
