//! Framing: each message is a 4-byte big-endian length, then that many bytes of JSON.
//!
//! The codec is pure; [`read_frame`] and [`write_message`] are the thin async shell over a
//! QUIC stream. A frame over [`MAX_FRAME`] is refused before it is read, so a peer cannot make
//! the receiver buffer without bound.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{MessageTypes, UnknownMessage};

/// The largest frame either side accepts: 1 MiB.
pub const MAX_FRAME: usize = 1024 * 1024;

/// What can go wrong reading or writing a frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer announced a frame larger than the protocol allows.
    #[error("the peer sent a frame of {0} bytes, more than the 1 MiB the protocol allows")]
    TooLarge(usize),
    /// A message of a known type did not parse.
    #[error("the peer sent a malformed `{kind}` message: {source}")]
    Malformed {
        /// Its type, or `?` when it had none.
        kind: String,
        /// What was wrong.
        source: serde_json::Error,
    },
    /// A message this side made could not be encoded (a bug, not the peer's fault).
    #[error("could not encode a message: {0}")]
    Encode(serde_json::Error),
    /// The stream failed.
    #[error("the connection to the peer failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded<T> {
    /// A message this side knows.
    Known(T),
    /// A message of a type this side does not know: to be skipped and counted.
    Unknown(String),
}

/// Encodes `message` as one frame.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let body = serde_json::to_vec(message).map_err(FrameError::Encode)?;
    if body.len() > MAX_FRAME {
        return Err(FrameError::TooLarge(body.len()));
    }
    let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge(body.len()))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// Decodes the body of one frame.
pub fn decode<T: DeserializeOwned + MessageTypes>(body: &[u8]) -> Result<Decoded<T>, FrameError> {
    match serde_json::from_slice::<T>(body) {
        Ok(message) => Ok(Decoded::Known(message)),
        Err(source) => match serde_json::from_slice::<UnknownMessage>(body) {
            Ok(unknown) if !T::TYPES.contains(&unknown.kind.as_str()) => {
                Ok(Decoded::Unknown(unknown.kind))
            }
            Ok(unknown) => Err(FrameError::Malformed {
                kind: unknown.kind,
                source,
            }),
            Err(_) => Err(FrameError::Malformed {
                kind: "?".to_owned(),
                source,
            }),
        },
    }
}

/// Reads one frame's body; `None` when the peer finished the stream between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// Reads and decodes one message; `None` at the end of the stream.
pub async fn read_message<T, R>(reader: &mut R) -> Result<Option<Decoded<T>>, FrameError>
where
    T: DeserializeOwned + MessageTypes,
    R: AsyncRead + Unpin,
{
    match read_frame(reader).await? {
        Some(body) => decode(&body).map(Some),
        None => Ok(None),
    }
}

/// Encodes and writes one message.
pub async fn write_message<T: Serialize, W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &T,
) -> Result<(), FrameError> {
    let frame = encode(message)?;
    writer.write_all(&frame).await?;
    Ok(())
}

#[cfg(test)]
mod tests;
