//! The line card's driver as the main loop sees it: the driver's thread hands each card
//! event, and each command's result, to one bounded queue that wakes the loop; commands go
//! to the driver fire-and-forget. A command the card refuses (or never answers) comes back
//! as an event for the log.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverError, DriverEvent, SerialSettings};
use tipring_hal::model::{CmdResult, Command, PortId};
use tokio::sync::mpsc;

/// A command without an answer for this long is reported as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// Depth of the queue from the driver's thread to the main loop.
const QUEUE: usize = 1024;

/// What the driver's thread puts on the queue.
#[derive(Debug)]
pub enum CardMessage {
    Event(DriverEvent),
    /// The card's answer to command `id`.
    Done {
        id: u64,
        result: CmdResult,
    },
}

/// What the card tells the main loop.
#[derive(Debug)]
pub enum HalEvent {
    Driver(DriverEvent),
    CommandFailed {
        port: PortId,
        command: Command,
        why: CommandError,
    },
}

/// Why a command to the card failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("not sent: {0}")]
    Submit(#[from] DriverError),
    #[error("the card answered {0:?}")]
    Refused(CmdResult),
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
}

struct Pending {
    port: PortId,
    command: Command,
    deadline: Instant,
}

/// The running driver and the commands awaiting the card's answer.
pub struct Card {
    driver: Driver,
    answers: mpsc::Sender<CardMessage>,
    pending: BTreeMap<u64, Pending>,
    next_id: u64,
}

impl Card {
    /// Starts the driver; its events and answers arrive on the returned queue, which must
    /// be dropped before the card (the driver's thread may wait on a full queue).
    pub fn start(settings: SerialSettings) -> std::io::Result<(Card, mpsc::Receiver<CardMessage>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let events = tx.clone();
        let driver = Driver::start_with_sink(settings, move |e| {
            let _ = events.blocking_send(CardMessage::Event(e));
        })?;
        let card = Card {
            driver,
            answers: tx,
            pending: BTreeMap::new(),
            next_id: 0,
        };
        Ok((card, rx))
    }

    /// Sends a command to `port`; a failure to queue it at all comes back at once.
    pub fn send(&mut self, now: Instant, port: PortId, command: Command) -> Option<HalEvent> {
        let id = self.next_id;
        self.next_id += 1;
        let answers = self.answers.clone();
        let done = move |result| {
            let _ = answers.blocking_send(CardMessage::Done { id, result });
        };
        match self.driver.submit_then(port, command.clone(), done) {
            Ok(()) => {
                self.pending.insert(
                    id,
                    Pending {
                        port,
                        command,
                        deadline: now + COMMAND_TIMEOUT,
                    },
                );
                None
            }
            Err(e) => Some(HalEvent::CommandFailed {
                port,
                command,
                why: e.into(),
            }),
        }
    }

    /// A message from the driver's thread: an event, or the failure an answer reports.
    pub fn on_message(&mut self, m: CardMessage) -> Option<HalEvent> {
        match m {
            CardMessage::Event(e) => Some(HalEvent::Driver(e)),
            CardMessage::Done { id, result } => {
                let p = self.pending.remove(&id)?;
                (result != CmdResult::Ok).then(|| HalEvent::CommandFailed {
                    port: p.port,
                    command: p.command,
                    why: CommandError::Refused(result),
                })
            }
        }
    }

    /// When the oldest unanswered command times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// The commands unanswered by `now`, reported as failed.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<HalEvent> {
        let late: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        late.into_iter()
            .filter_map(|id| self.pending.remove(&id))
            .map(|p| HalEvent::CommandFailed {
                port: p.port,
                command: p.command,
                why: CommandError::NoAnswer(COMMAND_TIMEOUT),
            })
            .collect()
    }

    /// Whether every command sent has been answered (or given up on).
    pub fn is_settled(&self) -> bool {
        self.pending.is_empty()
    }
}
