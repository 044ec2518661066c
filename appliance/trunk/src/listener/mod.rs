//! The HTTPS listener Twilio calls: a thin tokio shell around the pure trunk.
//!
//! It accepts TCP, completes TLS (with a deadline, so a silent peer cannot hold a task), serves
//! HTTP/1.1 with upgrades, and hands each request to the routes. It must never decide anything
//! the trunk decides, and never log a request body or header value.

mod metrics;
mod routes;
mod stream;
mod tls;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use metrics::{REFUSAL_REASONS, TrunkMetrics};
pub use routes::{SharedTrunk, router, shared_router};
pub use stream::{StreamEnd, StreamUpdate};
pub use tls::{ServerTls, TlsError, server_config, server_config_der};

/// How long a peer has to finish the TLS handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// How long a peer has to send a request's headers.
const HEADER_DEADLINE: Duration = Duration::from_secs(10);

/// Serves `router` over TLS on `listener` until `shutdown` completes; then stops accepting and
/// ends the connections still open.
pub async fn serve(
    listener: TcpListener,
    tls: ServerTls,
    router: Router,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    let acceptor = TlsAcceptor::from(tls.current());
                    connections.spawn(connection(acceptor, tcp, router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "trunk listener could not accept a connection");
                    // Out of descriptors or memory: give the box a moment instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn connection(acceptor: TlsAcceptor, tcp: tokio::net::TcpStream, router: Router) {
    let stream = match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return tracing::debug!(%error, "trunk TLS handshake failed"),
        Err(_) => return tracing::debug!("trunk TLS handshake timed out"),
    };
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_DEADLINE)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
        .with_upgrades()
        .await;
    if let Err(error) = served {
        tracing::debug!(%error, "trunk connection ended with an error");
    }
}
