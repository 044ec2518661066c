//! The thin tokio shell: a UDP socket, the clock and one task per call's media around the core.
//!
//! [`SipShell::start`] binds the SIP socket and returns the call event stream. The SIP task
//! feeds datagrams and timeouts to [`SipCore`], sends what it gives, and on an offered call
//! binds the media sockets, starts the media task and accepts (503 when no socket could be
//! bound). Dropping the [`SipShell`] stops every task. Nothing here decides a SIP answer: that
//! is the core's job, tested without sockets.

pub mod event;
pub mod media;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

pub use event::CallEvent;
use media::MediaControl;

use super::call::CallId;
use super::config::{SipConfig, Trunks};
use super::core::{CoreEvent, Counters, SipCore};

/// Call events buffered before the shell waits for the daemon (about 2 s of one call's audio).
pub const EVENT_QUEUE: usize = 128;

/// The running SIP trunk.
#[derive(Debug)]
pub struct SipShell {
    local: SocketAddr,
    counters: Arc<Mutex<Counters>>,
    task: JoinHandle<()>,
}

impl SipShell {
    /// Binds `config.listen` and starts serving `trunks`; calls come out of the receiver.
    pub async fn start(
        config: &SipConfig,
        trunks: Trunks,
    ) -> std::io::Result<(Self, mpsc::Receiver<CallEvent>)> {
        let socket = UdpSocket::bind(config.listen).await?;
        let local = socket.local_addr()?;
        let core = SipCore::new(
            config,
            trunks,
            local,
            rand::random(),
            Instant::now().into_std(),
        );
        let (events, receiver) = mpsc::channel(EVENT_QUEUE);
        let counters = Arc::new(Mutex::new(Counters::default()));

        let sip = SipTask {
            socket,
            core,
            media_ip: config.media_address,
            events,
            calls: HashMap::new(),
            counters: Arc::clone(&counters),
        };
        let task = tokio::spawn(sip.run());
        Ok((
            Self {
                local,
                counters,
                task,
            },
            receiver,
        ))
    }

    /// Where SIP is received.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// What was dropped or refused so far.
    pub fn counters(&self) -> Counters {
        self.counters.lock().map(|c| *c).unwrap_or_default()
    }
}

impl Drop for SipShell {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct SipTask {
    socket: UdpSocket,
    core: SipCore,
    media_ip: IpAddr,
    events: mpsc::Sender<CallEvent>,
    calls: HashMap<CallId, mpsc::UnboundedSender<MediaControl>>,
    counters: Arc<Mutex<Counters>>,
}

impl SipTask {
    async fn run(mut self) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let deadline = self.core.poll_timeout().map(Instant::from_std);
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    // An ICMP error surfaces here on some systems: it says nothing about the
                    // next datagram, so it is skipped.
                    if let Ok((n, from)) = received {
                        let bytes = buf.get(..n).unwrap_or_default();
                        self.core.handle_datagram(from, bytes, Instant::now().into_std());
                    }
                }
                () = sleep_or_never(deadline) => {
                    self.core.handle_timeout(Instant::now().into_std());
                }
            }
            self.flush().await;
            while let Some(event) = self.core.poll_event() {
                self.on_event(event).await;
                self.flush().await;
            }
            if let Ok(mut counters) = self.counters.lock() {
                *counters = self.core.counters();
            }
        }
    }

    async fn flush(&mut self) {
        while let Some(transmit) = self.core.poll_transmit() {
            // UDP: a send that fails is like a datagram lost; the transaction retransmits.
            let _ = self.socket.send_to(&transmit.bytes, transmit.to).await;
        }
    }

    async fn on_event(&mut self, event: CoreEvent) {
        let now = Instant::now().into_std();
        match event {
            CoreEvent::Offered {
                call,
                tenant,
                trunk,
                media,
            } => {
                let bound = media::bind(self.media_ip).await;
                let Ok((sockets, local)) = bound.and_then(|s| s.0.local_addr().map(|a| (s, a)))
                else {
                    let _ = self.core.reject(call, 503, now);
                    return;
                };
                if self.core.accept(call, local, now).is_err() {
                    return;
                }
                let (control, orders) = mpsc::unbounded_channel();
                self.calls.insert(call, control);
                let began = CallEvent::Began {
                    call,
                    tenant,
                    trunk,
                };
                let _ = self.events.send(began).await;
                let events = self.events.clone();
                tokio::spawn(media::run(call, media, sockets, orders, events));
            }
            CoreEvent::MediaChanged { call, media } => {
                if let Some(control) = self.calls.get(&call) {
                    let _ = control.send(MediaControl::Change(media));
                }
            }
            CoreEvent::Ended { call, reason } => {
                if let Some(control) = self.calls.remove(&call) {
                    let _ = control.send(MediaControl::Stop(reason));
                }
            }
        }
    }
}

async fn sleep_or_never(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
