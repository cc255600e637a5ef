//! A switchboard for simulated cards: a thread that answers every ringing phone at once
//! and, if asked, hangs up a phone that hears reorder (the far end left), counting the
//! answers. For tests and benches that place many calls to a gateway.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_hal::sim::{FrameSink, SimCard, SimPort};
use tipring_media::goertzel::energy;
use tipring_media::tone::oscillator::dbm0_amplitude;

/// Raises a flag when the US reorder tone (480 + 620 Hz) is heard for two frames.
struct ReorderSink {
    flag: Arc<AtomicBool>,
    run: u32,
    min: f32,
}

impl FrameSink for ReorderSink {
    fn frame(&mut self, f: &Frame) {
        if energy(480.0, f) > self.min && energy(620.0, f) > self.min {
            self.run += 1;
            if self.run >= 2 {
                self.flag.store(true, Ordering::Relaxed);
            }
        } else {
            self.run = 0;
        }
    }
}

/// Answers every ringing phone on a card at once and, if asked, hangs up a phone that
/// hears reorder (the far end left). Counts the answers.
pub struct Switchboard {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pub answered: Arc<Mutex<u64>>,
}

impl Switchboard {
    pub fn start(card: Arc<SimCard>, ports: usize, hang_up_on_reorder: bool) -> Switchboard {
        // A tone component of -35 dBm0 or more.
        let a = dbm0_amplitude(-35.0);
        let min = (a * FRAME_SAMPLES as f32 / 2.0).powi(2);
        let flags: Vec<Arc<AtomicBool>> = (0..ports).map(|_| Arc::default()).collect();
        if hang_up_on_reorder {
            for (p, f) in flags.iter().enumerate() {
                card.add_sink(
                    p as u8,
                    Box::new(ReorderSink {
                        flag: f.clone(),
                        run: 0,
                        min,
                    }),
                );
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(Mutex::new(0));
        let (st, ans) = (stop.clone(), answered.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let now = card.now_ms();
                let mut n = 0;
                {
                    let mut s = card.lock();
                    for (p, port) in s.ports.iter_mut().enumerate() {
                        let SimPort::Fxs(ph) = port else { continue };
                        if ph.is_ringing() && !ph.is_off_hook() {
                            ph.off_hook(now);
                            flags[p].store(false, Ordering::Relaxed);
                            n += 1;
                        } else if flags[p].swap(false, Ordering::Relaxed) && ph.is_off_hook() {
                            ph.on_hook(now);
                        }
                    }
                }
                if n > 0
                    && let Ok(mut a) = ans.lock()
                {
                    *a += n;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Switchboard {
            stop,
            thread: Some(thread),
            answered,
        }
    }
}

impl Drop for Switchboard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether every FXS phone on the card is on-hook.
pub fn all_on_hook(card: &SimCard) -> bool {
    card.lock().ports.iter().all(|p| match p {
        SimPort::Fxs(ph) => !ph.is_off_hook(),
        SimPort::Fxo(_) => true,
    })
}
