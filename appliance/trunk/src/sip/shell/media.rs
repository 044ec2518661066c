//! The task that receives one call's RTP (and RTCP) and turns it into call events.
//!
//! It owns the call's sockets and receiver; the SIP task steers it with [`MediaControl`]. RTP
//! from any address but the one the SDP named is dropped. When told to stop it releases what
//! the jitter buffer holds, then sends the call's `Ended`, so that event is always the last. It
//! must never log audio or keys.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use diala_media::Track;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{Instant, interval};

use super::event::CallEvent;
use crate::sip::call::CallId;
use crate::sip::core::EndReason;
use crate::sip::rtp::{Media, RtpReceiver};
use crate::sip::sdp::Negotiated;

/// How often a receiver report is sent (RFC 3550's minimum interval).
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// What the SIP task tells a media task.
#[derive(Debug)]
pub enum MediaControl {
    /// A re-INVITE agreed a new stream.
    Change(Negotiated),
    /// The call ended: flush and send `Ended`.
    Stop(EndReason),
}

/// Binds an RTP socket on `ip` and, best effort, its RTCP socket on the next port.
pub async fn bind(ip: IpAddr) -> std::io::Result<(UdpSocket, Option<UdpSocket>)> {
    let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
    let port = rtp.local_addr()?.port();
    // Limitation: when the next port is taken, the call runs without RTCP.
    let rtcp = match port.checked_add(1) {
        Some(next) => UdpSocket::bind(SocketAddr::new(ip, next)).await.ok(),
        None => None,
    };
    Ok((rtp, rtcp))
}

/// Runs one call's media until told to stop or the SIP task is gone.
pub async fn run(
    call: CallId,
    media: Negotiated,
    sockets: (UdpSocket, Option<UdpSocket>),
    mut control: mpsc::UnboundedReceiver<MediaControl>,
    events: mpsc::Sender<CallEvent>,
) {
    let (rtp, rtcp) = sockets;
    let mut peer = media.remote;
    let mut receiver = RtpReceiver::new(Track::Caller, media, rand::random());
    let (mut buf, mut rtcp_buf) = (vec![0u8; 2048], vec![0u8; 1500]);
    let mut reports = interval(REPORT_EVERY);

    let reason = loop {
        let out = tokio::select! {
            received = rtp.recv_from(&mut buf) => match received {
                Ok((n, from)) if from.ip() == peer.ip() => {
                    receiver.packet(buf.get(..n).unwrap_or_default(), Instant::now().into_std())
                }
                _ => Vec::new(),
            },
            received = recv_rtcp(rtcp.as_ref(), &mut rtcp_buf) => {
                if let Some((n, _)) = received.filter(|(_, from)| from.ip() == peer.ip()) {
                    receiver.rtcp(rtcp_buf.get(..n).unwrap_or_default(), Instant::now().into_std());
                }
                Vec::new()
            }
            _ = reports.tick() => {
                send_report(&mut receiver, rtcp.as_ref(), peer).await;
                Vec::new()
            }
            order = control.recv() => match order {
                Some(MediaControl::Change(media)) => {
                    peer = media.remote;
                    let on = media.is_hold();
                    receiver.set_media(media);
                    let _ = events.send(CallEvent::Hold { call, on }).await;
                    Vec::new()
                }
                Some(MediaControl::Stop(reason)) => break reason,
                None => return,
            },
        };
        if !forward(call, out, &events).await {
            return;
        }
    };

    forward(call, receiver.finish(), &events).await;
    let _ = events.send(CallEvent::Ended { call, reason }).await;
}

async fn recv_rtcp(socket: Option<&UdpSocket>, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
    match socket {
        Some(socket) => socket.recv_from(buf).await.ok(),
        None => std::future::pending().await,
    }
}

async fn send_report(receiver: &mut RtpReceiver, rtcp: Option<&UdpSocket>, peer: SocketAddr) {
    let (Some(socket), Some(report)) = (rtcp, receiver.report(Instant::now().into_std())) else {
        return;
    };
    let to = SocketAddr::new(peer.ip(), peer.port().saturating_add(1));
    // A lost report is harmless: the next one carries cumulative counts.
    let _ = socket.send_to(&report, to).await;
}

/// Sends a packet's results; false when the daemon stopped listening.
async fn forward(call: CallId, out: Vec<Media>, events: &mpsc::Sender<CallEvent>) -> bool {
    for media in out {
        let event = match media {
            Media::Frame(frame) => CallEvent::Frame { call, frame },
            Media::Dtmf(dtmf) => CallEvent::Dtmf { call, dtmf },
        };
        if events.send(event).await.is_err() {
            return false;
        }
    }
    true
}
