//! Dialling the control plane: resolve `host:port`, open a QUIC connection from an ephemeral
//! local port, checking the server's certificate against `host`.

use std::net::SocketAddr;

/// What can go wrong reaching the control plane.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// The address is not `host:port`.
    #[error("control plane address `{0}` is not host:port")]
    Address(String),
    /// The name did not resolve.
    #[error("cannot resolve the control plane `{0}`: {1}")]
    Resolve(String, std::io::Error),
    /// No local UDP socket.
    #[error("cannot open a UDP socket: {0}")]
    Socket(std::io::Error),
    /// quinn refused to start the connection.
    #[error("cannot start a connection to the control plane: {0}")]
    Connect(#[from] quinn::ConnectError),
    /// The handshake failed (unreachable, wrong CA, refused certificate...).
    #[error("the control plane did not complete the handshake: {0}")]
    Handshake(#[from] quinn::ConnectionError),
}

/// Connects to `address` (`host:port`) with `config`.
pub async fn dial(
    address: &str,
    config: quinn::ClientConfig,
) -> Result<(quinn::Endpoint, quinn::Connection), DialError> {
    let (host, _) = address
        .rsplit_once(':')
        .ok_or_else(|| DialError::Address(address.to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let remote: SocketAddr = tokio::net::lookup_host(address)
        .await
        .map_err(|e| DialError::Resolve(address.to_owned(), e))?
        .next()
        .ok_or_else(|| DialError::Address(address.to_owned()))?;
    let local: SocketAddr = if remote.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let mut endpoint = quinn::Endpoint::client(local).map_err(DialError::Socket)?;
    endpoint.set_default_client_config(config);
    let connection = endpoint.connect(remote, host)?.await?;
    Ok((endpoint, connection))
}
