//! What the SIP trunk hands the daemon: one ordered stream of call events, trunk-neutral.
//!
//! For each accepted call: one [`CallEvent::Began`], then its frames and key presses in order,
//! then one [`CallEvent::Ended`], after which nothing more of that call comes. Calls refused or
//! cancelled before the answer never appear. Nothing in an event names the caller or the
//! dialled number; the tenant was resolved from the trunk that the source address proved.

use diala_media::Frame;

use crate::sip::call::CallId;
use crate::sip::core::EndReason;
use crate::sip::rtp::Dtmf;

/// One event of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEvent {
    /// A call was answered.
    Began {
        /// The appliance's id of the call, unique in this run.
        call: CallId,
        /// The tenant whose number was dialled.
        tenant: String,
        /// The trunk it came from.
        trunk: String,
    },
    /// 8 kHz 16-bit audio of one track, in order, with no gaps (losses are concealed).
    Frame {
        /// The call.
        call: CallId,
        /// The audio. A plain SIP call has the caller's track only.
        frame: Frame,
    },
    /// A DTMF key press (RFC 4733); `Debug` hides the key.
    Dtmf {
        /// The call.
        call: CallId,
        /// The press.
        dtmf: Dtmf,
    },
    /// The peer put the call on hold (`true`) or took it off hold (`false`).
    Hold {
        /// The call.
        call: CallId,
        /// On hold now.
        on: bool,
    },
    /// The call is over; this is its last event.
    Ended {
        /// The call.
        call: CallId,
        /// Why.
        reason: EndReason,
    },
}
