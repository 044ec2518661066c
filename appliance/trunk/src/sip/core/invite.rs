//! INVITEs: a new call checked (digest, dialled number, limits, offer) and offered to the
//! shell, its answer when the shell accepts, and re-INVITEs that hold or resume it.
//!
//! The order of the checks is the order of trust: a trunk that must authenticate is challenged
//! before anything about its request is looked at. This module must never answer an INVITE
//! with 200 before the shell has bound the call's media.

use std::net::SocketAddr;
use std::time::Instant;

use super::{CoreError, CoreEvent, SipCore};
use crate::sip::call::{Call, CallId, CallState, PendingOk};
use crate::sip::config::Trunk;
use crate::sip::digest::{Verdict, challenges, verify};
use crate::sip::header::{call_id, cseq, tag, uri_user};
use crate::sip::message::{Request, Response};
use crate::sip::response::{ALLOW, to_request};
use crate::sip::sdp::{Negotiated, Offer, SdpError};
use crate::sip::transaction::TxKey;

impl SipCore {
    pub(super) fn new_call(
        &mut self,
        trunk: &Trunk,
        key: &TxKey,
        invite: Request,
        from: SocketAddr,
        now: Instant,
    ) {
        let local_tag = self.new_tag();
        let refuse = |core: &mut Self, status| {
            let response = to_request(&invite, status, Some(&local_tag));
            core.send(key, response, now);
        };

        if let Some(credentials) = &trunk.digest {
            let secs = now.saturating_duration_since(self.epoch).as_secs();
            let authorization = invite.headers.get("Authorization");
            let verdict = verify(
                authorization,
                "INVITE",
                credentials,
                &self.nonces,
                from.ip(),
                secs,
            );
            if verdict != Verdict::Authorized {
                self.counters.challenged += 1;
                let nonce = self.nonces.make(from.ip(), secs);
                let mut challenge = to_request(&invite, 401, Some(&local_tag));
                for value in challenges(&credentials.realm, &nonce, verdict == Verdict::Stale) {
                    challenge.headers.push("WWW-Authenticate", value);
                }
                return self.send(key, challenge, now);
            }
        }
        let Some(tenant) = uri_user(&invite.uri).and_then(|n| trunk.tenant_for(n)) else {
            return refuse(self, 404);
        };
        if self.calls.len() >= self.max_calls {
            self.counters.over_limit += 1;
            let mut busy = to_request(&invite, 503, Some(&local_tag));
            busy.headers
                .push("Retry-After", self.retry_after_secs.to_string());
            return self.send(key, busy, now);
        }
        let on_trunk = self.calls.iter().filter(|c| c.trunk == trunk.name).count();
        if trunk.max_calls.is_some_and(|max| on_trunk >= max) {
            self.counters.over_limit += 1;
            return refuse(self, 486);
        }
        let media = match negotiate(&invite) {
            Ok(media) => media,
            Err(status) => return refuse(self, status),
        };

        let trying = to_request(&invite, 100, None);
        self.send(key, trying, now);
        let id = CallId(self.next_call);
        self.next_call += 1;
        let call = Call {
            id,
            tenant: tenant.to_owned(),
            trunk: trunk.name.clone(),
            peer: from,
            sip_call_id: call_id(&invite.headers).unwrap_or_default().to_owned(),
            remote_tag: invite
                .headers
                .get("From")
                .and_then(tag)
                .unwrap_or_default()
                .to_owned(),
            local_tag,
            invite_key: key.clone(),
            invite: Some(invite),
            state: CallState::Offered,
            media: media.clone(),
            local_media: None,
            sdp_version: 1,
            pending_ok: None,
        };
        self.events.push_back(CoreEvent::Offered {
            call: id,
            tenant: call.tenant.clone(),
            trunk: call.trunk.clone(),
            media,
        });
        self.calls.push(call);
    }

    /// Answers an offered call with 200 and an SDP answer receiving at `local_media`.
    pub fn accept(
        &mut self,
        id: CallId,
        local_media: SocketAddr,
        now: Instant,
    ) -> Result<(), CoreError> {
        let call = self.offered(id)?;
        let invite = call.invite.take().ok_or(CoreError::NotOffered(id))?;
        let session_id = id.0;
        let ok = self.answer(&invite, id, local_media, session_id, 1);
        let key = {
            let call = self.call_mut(id).ok_or(CoreError::NotOffered(id))?;
            call.state = CallState::Answered;
            call.local_media = Some(local_media);
            call.invite_key.clone()
        };
        self.send_ok(&key, id, &invite, ok, now);
        Ok(())
    }

    /// Refuses an offered call with `status` (503 when no media port could be bound, say).
    pub fn reject(&mut self, id: CallId, status: u16, now: Instant) -> Result<(), CoreError> {
        let call = self.offered(id)?;
        let invite = call.invite.take().ok_or(CoreError::NotOffered(id))?;
        let response = to_request(&invite, status, Some(&call.local_tag));
        let key = call.invite_key.clone();
        self.calls.retain(|c| c.id != id);
        self.send(&key, response, now);
        Ok(())
    }

    pub(super) fn reinvite(&mut self, key: &TxKey, request: &Request, now: Instant) {
        let Some(call) = self.calls.iter().find(|c| c.owns(request)) else {
            return self.send(key, to_request(request, 481, None), now);
        };
        let (id, state, local) = (call.id, call.state, call.local_media);
        let Some(local) = local.filter(|_| state == CallState::Confirmed) else {
            // Our own answer is not acknowledged yet (RFC 3261 section 14.2).
            return self.send(key, to_request(request, 491, None), now);
        };
        let media = match negotiate(request) {
            Ok(media) => media,
            Err(status) => return self.send(key, to_request(request, status, None), now),
        };

        let version = call.sdp_version + 1;
        let ok = self.answer(request, id, local, id.0, version);
        if let Some(call) = self.call_mut(id) {
            call.sdp_version = version;
            call.media = media.clone();
        }
        self.send_ok(key, id, request, ok, now);
        self.events
            .push_back(CoreEvent::MediaChanged { call: id, media });
    }

    fn answer(
        &self,
        request: &Request,
        id: CallId,
        local: SocketAddr,
        session: u64,
        version: u64,
    ) -> Response {
        let local_tag = self
            .calls
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.local_tag.clone());
        let mut ok = to_request(request, 200, local_tag.as_deref());
        ok.headers.push("Contact", self.contact.clone());
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Content-Type", "application/sdp");
        // The offer was read once already; reading it again cannot fail differently.
        if let Ok(offer) = Offer::read(&request.body) {
            ok.body = offer.answer(local, session, version).into_bytes();
        }
        ok
    }

    fn send_ok(&mut self, key: &TxKey, id: CallId, request: &Request, ok: Response, now: Instant) {
        let bytes = ok.to_bytes();
        let number = cseq(&request.headers).map_or(0, |(n, _)| n);
        self.transmits
            .extend(self.txs.respond(key, 200, bytes.clone(), now));
        if let Some(call) = self.call_mut(id) {
            call.pending_ok = Some(PendingOk::new(number, bytes, now));
        }
    }
}

/// The agreed stream of an INVITE's offer, or the status that refuses it.
fn negotiate(request: &Request) -> Result<Negotiated, u16> {
    // Limitation: an INVITE without an offer (the offer in our 2xx, the answer in the ACK) is
    // refused with 488; trunks send offers in the INVITE.
    let content_type = request.headers.get("Content-Type").unwrap_or_default();
    if request.body.is_empty() {
        return Err(488);
    }
    if !content_type.trim().eq_ignore_ascii_case("application/sdp") {
        return Err(415);
    }
    let offer = Offer::read(&request.body).map_err(|_| 400u16)?;
    offer.negotiated().cloned().map_err(|e| match e {
        SdpError::NoCodec => 488,
        SdpError::Unreadable(_) => 400,
    })
}
