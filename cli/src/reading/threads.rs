//! An ordered parallel map: one thread reads items, `workers` threads transform them, and the
//! caller's thread consumes the results in the order the items were read. Items are dealt out
//! round-robin and collected round-robin, so the order needs no sorting, and every channel is
//! bounded, so memory is too.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

/// How many items wait for (or come out of) each worker.
const DEPTH: usize = 2;

/// Map `f` over `source` on `workers` threads and hand the results to `consume`, in order.
pub fn ordered_map<T, U, I, F, C>(source: I, workers: usize, f: F, mut consume: C)
where
    T: Send,
    U: Send,
    I: Iterator<Item = T> + Send,
    F: Fn(T) -> U + Sync,
    C: FnMut(U),
{
    if workers <= 1 {
        source.for_each(|t| consume(f(t)));
        return;
    }
    thread::scope(|s| {
        let mut inputs: Vec<SyncSender<T>> = Vec::with_capacity(workers);
        let mut outputs: Vec<Receiver<U>> = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (in_tx, in_rx) = sync_channel::<T>(DEPTH);
            let (out_tx, out_rx) = sync_channel::<U>(DEPTH);
            inputs.push(in_tx);
            outputs.push(out_rx);
            let f = &f;
            s.spawn(move || {
                for t in in_rx {
                    if out_tx.send(f(t)).is_err() {
                        break;
                    }
                }
            });
        }
        s.spawn(move || {
            for (i, t) in source.enumerate() {
                if inputs[i % workers].send(t).is_err() {
                    break;
                }
            }
            // Dropping the senders ends the workers.
        });
        let mut i = 0;
        // The reader deals in order, so the results come back in order; the first worker with
        // nothing more means the source is exhausted.
        while let Ok(u) = outputs[i % workers].recv() {
            consume(u);
            i += 1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_whatever_the_timing() {
        let mut got = Vec::new();
        ordered_map(
            0..1000u64,
            3,
            |i| {
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                i * 2
            },
            |u| got.push(u),
        );
        assert_eq!(got, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        let mut one = Vec::new();
        ordered_map(0..5, 1, |i| i + 1, |u| one.push(u));
        assert_eq!(one, vec![1, 2, 3, 4, 5]);
    }
}
