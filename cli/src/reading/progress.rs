//! A progress bar on standard error, for long runs on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::reader::Progress;

/// A running progress bar; dropped (or [`Bar::stop`]ped), it clears its line.
#[derive(Debug)]
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / (1 << 20) as f64)
}

/// The bar's text for `done` of `total` bytes.
pub fn line(done: u64, total: u64) -> String {
    if total == 0 {
        return format!("reading... {}", mib(done));
    }
    let frac = (done as f64 / total as f64).clamp(0.0, 1.0);
    let filled = (frac * 30.0) as usize;
    format!(
        "[{}{}] {:>3.0}% {} of {}",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        frac * 100.0,
        mib(done),
        mib(total)
    )
}

impl Bar {
    /// Start a bar when standard error is a terminal and `enabled`; otherwise a silent one.
    pub fn start(progress: Arc<Progress>, enabled: bool) -> Bar {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (enabled && std::io::stderr().is_terminal()).then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut shown = false;
                // Quick runs show nothing.
                let mut ticks = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    ticks += 1;
                    if ticks < 5 || ticks % 2 == 1 {
                        continue;
                    }
                    let l = line(
                        progress.done.load(Ordering::Relaxed),
                        progress.total.load(Ordering::Relaxed),
                    );
                    let _ = write!(std::io::stderr(), "\r{l}\x1b[K");
                    shown = true;
                }
                if shown {
                    let _ = write!(std::io::stderr(), "\r\x1b[K");
                }
            })
        });
        Bar { stop, thread }
    }

    /// Stop and clear the bar.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_text() {
        assert_eq!(
            line(1 << 20, 2 << 20),
            "[###############...............]  50% 1.0 MiB of 2.0 MiB"
        );
        assert_eq!(line(5, 0), "reading... 0.0 MiB");
    }
}
