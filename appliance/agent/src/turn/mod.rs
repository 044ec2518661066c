//! The turn loop: a state machine without I/O or clocks that decides, from events and the
//! current time, what to ask the model and the speech service and what to play.
//!
//! It is driven by [`TurnLoop::handle`] and [`TurnLoop::on_time`] and answers with [`Action`]s;
//! a thin async shell ([`crate::run`]) performs them. It must never block, sleep or read a
//! clock, and never lets text reach an action bound for AWS unless it came out of the redactor.

mod events;
mod history;
mod machine;
mod playback;

pub use events::{Action, Event, TurnId};
pub use history::{History, Message, Role};
pub use machine::{LoopSettings, TurnLoop};

#[cfg(test)]
mod tests;
