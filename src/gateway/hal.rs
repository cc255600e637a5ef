//! The line card's driver on a thread of its own: its events go to the main loop through
//! a tokio channel, commands come in through a std channel and go out fire-and-forget;
//! a command the card refuses (or never answers) comes back as an event for the log.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverError, DriverEvent, SerialSettings};
use tipring_hal::model::{CmdResult, Command, PortId};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// How long the thread waits for a card event before looking at its command queue.
const SLICE: Duration = Duration::from_millis(5);
/// A command without an answer for this long is reported as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// At shutdown, how long the last commands may take to be answered.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

/// What the hal thread tells the main loop.
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
    #[error("driver stopped")]
    DriverStopped,
}

/// The running hal thread. Dropping `commands` ends it (and the driver).
pub struct Hal {
    pub events: UnboundedReceiver<HalEvent>,
    pub commands: Sender<(PortId, Command)>,
    pub thread: std::thread::JoinHandle<()>,
}

impl Hal {
    pub fn start(settings: SerialSettings) -> std::io::Result<Hal> {
        let driver = Driver::start(settings)?;
        let (ev_tx, events) = unbounded_channel();
        let (commands, cmd_rx) = channel();
        let thread = std::thread::Builder::new()
            .name("tipring-hal".into())
            .spawn(move || serve(driver, cmd_rx, ev_tx))?;
        Ok(Hal {
            events,
            commands,
            thread,
        })
    }
}

struct Pending {
    port: PortId,
    command: Command,
    since: Instant,
    reply: Receiver<CmdResult>,
}

fn serve(driver: Driver, commands: Receiver<(PortId, Command)>, events: UnboundedSender<HalEvent>) {
    let mut pending: Vec<Pending> = Vec::new();
    // Once the main loop hangs up: the moment, so the last commands (releases) still go out.
    let mut closing: Option<Instant> = None;
    loop {
        if closing.is_some_and(|t| pending.is_empty() || t.elapsed() > CLOSING_GRACE) {
            return;
        }
        if let Ok(e) = driver.events().recv_timeout(SLICE) {
            if events.send(HalEvent::Driver(e)).is_err() {
                return;
            }
            while let Ok(e) = driver.events().try_recv() {
                if events.send(HalEvent::Driver(e)).is_err() {
                    return;
                }
            }
        }
        loop {
            match commands.try_recv() {
                Ok((port, command)) => match driver.submit(port, command.clone()) {
                    Ok(reply) => pending.push(Pending {
                        port,
                        command,
                        since: Instant::now(),
                        reply,
                    }),
                    Err(e) => {
                        let _ = events.send(HalEvent::CommandFailed {
                            port,
                            command,
                            why: e.into(),
                        });
                    }
                },
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closing.get_or_insert_with(Instant::now);
                    break;
                }
            }
        }
        let now = Instant::now();
        pending.retain(|p| {
            let why = match p.reply.try_recv() {
                Ok(CmdResult::Ok) => return false,
                Ok(other) => CommandError::Refused(other),
                Err(TryRecvError::Empty) if now - p.since < COMMAND_TIMEOUT => return true,
                Err(TryRecvError::Empty) => CommandError::NoAnswer(COMMAND_TIMEOUT),
                Err(TryRecvError::Disconnected) => CommandError::DriverStopped,
            };
            let _ = events.send(HalEvent::CommandFailed {
                port: p.port,
                command: p.command.clone(),
                why,
            });
            false
        });
    }
}
