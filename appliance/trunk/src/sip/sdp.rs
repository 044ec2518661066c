//! SDP offer/answer (RFC 3264) for a receive-only audio endpoint.
//!
//! The appliance listens: it takes the first audio stream whose codecs it can decode (PCMU,
//! then PCMA, in the offerer's order of preference) and telephone-event (RFC 4733) when
//! offered, and answers `recvonly` (or `inactive` when the peer will not send). Every other
//! stream is refused with port 0, as RFC 3264 section 6 asks, so the answer keeps the offer's
//! shape. G.722 is not accepted: no maintained pure-Rust decoder is in use here, so an offer of
//! G.722 alone is refused (488). This module must never accept a codec the media stage cannot
//! decode, and never log connection addresses together with the call's numbers.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use diala_media::g711::Law;

/// Why an offer was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    /// The body is not SDP this endpoint can read (no `v=0`, a bad `m=` or `c=` line).
    #[error("the SDP offer cannot be read: {0}")]
    Unreadable(&'static str),
    /// No audio stream offers PCMU or PCMA: answer 488. Configure the PBX to offer G.711.
    #[error("the offer has no codec the appliance decodes (PCMU or PCMA)")]
    NoCodec,
}

/// Which way media flows, from the offerer's side (RFC 3264 section 5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// The offerer sends only (it put us on hold with music, or it is a recorder).
    SendOnly,
    /// The offerer receives only.
    RecvOnly,
    /// Neither way (hold).
    Inactive,
}

impl Direction {
    /// True when the offerer will send us audio.
    pub fn peer_sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    fn attribute(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }
}

/// What was agreed for the audio stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The G.711 law of the stream.
    pub law: Law,
    /// Its RTP payload type (0 or 8 as a rule, whatever the offer mapped).
    pub payload_type: u8,
    /// The payload type of telephone-event at 8000 Hz, when offered.
    pub dtmf_payload_type: Option<u8>,
    /// Where the peer receives RTP (and so, symmetric RTP, where it sends from).
    pub remote: SocketAddr,
    /// The offerer's direction.
    pub direction: Direction,
}

impl Negotiated {
    /// True when the offer puts the call on hold (RFC 3264 section 8.4: `sendonly` or
    /// `inactive`, or the older RFC 2543 way, a connection address of 0.0.0.0).
    pub fn is_hold(&self) -> bool {
        matches!(self.direction, Direction::SendOnly | Direction::Inactive)
            || self.remote.ip().is_unspecified()
    }
}

/// One `m=` line and what applies to it.
struct MediaLine<'a> {
    media: &'a str,
    port: u16,
    proto: &'a str,
    formats: Vec<&'a str>,
    rtpmaps: Vec<(u8, String)>,
    connection: Option<IpAddr>,
    direction: Option<Direction>,
}

/// An offer read, kept for writing the answer.
pub struct Offer<'a> {
    lines: Vec<MediaLine<'a>>,
    chosen: Option<usize>,
    negotiated: Option<Negotiated>,
}

impl<'a> Offer<'a> {
    /// Reads an offer and picks the audio stream to receive.
    pub fn read(body: &'a [u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::Unreadable("not UTF-8"))?;
        let mut lines = text.lines().map(str::trim_end);
        if lines.next() != Some("v=0") {
            return Err(SdpError::Unreadable("no v=0 first line"));
        }

        let (session_connection, session_direction, media) = read_lines(lines)?;
        let mut offer = Offer {
            lines: media,
            chosen: None,
            negotiated: None,
        };
        for (index, line) in offer.lines.iter().enumerate() {
            let connection = line.connection.or(session_connection);
            let direction = line_direction(line, session_direction);
            if let Some(negotiated) = pick(line, connection, direction) {
                offer.chosen = Some(index);
                offer.negotiated = Some(negotiated);
                break;
            }
        }
        Ok(offer)
    }

    /// What was agreed, or [`SdpError::NoCodec`].
    pub fn negotiated(&self) -> Result<&Negotiated, SdpError> {
        self.negotiated.as_ref().ok_or(SdpError::NoCodec)
    }

    /// The answer, receiving at `local`; `version` goes up with every answer in a dialog.
    pub fn answer(&self, local: SocketAddr, session_id: u64, version: u64) -> String {
        let family = if local.is_ipv4() { "IP4" } else { "IP6" };
        let ip = local.ip();
        let mut sdp = String::with_capacity(256);
        // Writing to a String cannot fail.
        let _ = write!(
            sdp,
            "v=0\r\no=diala-edge {session_id} {version} IN {family} {ip}\r\ns=-\r\n\
             c=IN {family} {ip}\r\nt=0 0\r\n"
        );
        for (index, line) in self.lines.iter().enumerate() {
            match (&self.negotiated, Some(index) == self.chosen) {
                (Some(agreed), true) => write_accepted(&mut sdp, agreed, local.port()),
                _ => {
                    let first = line.formats.first().copied().unwrap_or("0");
                    let _ = write!(sdp, "m={} 0 {} {first}\r\n", line.media, line.proto);
                }
            }
        }
        sdp
    }
}

fn write_accepted(sdp: &mut String, agreed: &Negotiated, port: u16) {
    let pt = agreed.payload_type;
    let name = match agreed.law {
        Law::MuLaw => "PCMU",
        Law::ALaw => "PCMA",
    };
    let _ = match agreed.dtmf_payload_type {
        Some(te) => write!(
            sdp,
            "m=audio {port} RTP/AVP {pt} {te}\r\na=rtpmap:{pt} {name}/8000\r\n\
             a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
        ),
        None => write!(
            sdp,
            "m=audio {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {name}/8000\r\n"
        ),
    };
    let ours = if agreed.direction.peer_sends() {
        Direction::RecvOnly
    } else {
        Direction::Inactive
    };
    let _ = write!(sdp, "a=ptime:20\r\na={}\r\n", ours.attribute());
}

type SessionParts<'a> = (Option<IpAddr>, Option<Direction>, Vec<MediaLine<'a>>);

fn read_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Result<SessionParts<'a>, SdpError> {
    let (mut connection, mut direction, mut media) = (None, None, Vec::<MediaLine<'a>>::new());
    for line in lines {
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        match (kind, media.last_mut()) {
            ("m", _) => media.push(media_line(value)?),
            ("c", None) => connection = Some(connection_address(value)?),
            ("c", Some(m)) => m.connection = Some(connection_address(value)?),
            ("a", None) => direction = direction_attribute(value).or(direction),
            ("a", Some(m)) => read_attribute(m, value),
            _ => {}
        }
    }
    Ok((connection, direction, media))
}

fn media_line(value: &str) -> Result<MediaLine<'_>, SdpError> {
    let mut parts = value.split_whitespace();
    let (Some(media), Some(port), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SdpError::Unreadable("an m= line is short"));
    };
    let port = port.split('/').next().unwrap_or(port);
    let port = port
        .parse()
        .map_err(|_| SdpError::Unreadable("an m= port is not a number"))?;
    Ok(MediaLine {
        media,
        port,
        proto,
        formats: parts.collect(),
        rtpmaps: Vec::new(),
        connection: None,
        direction: None,
    })
}

fn connection_address(value: &str) -> Result<IpAddr, SdpError> {
    let address = value.split_whitespace().nth(2).unwrap_or_default();
    // A multicast TTL suffix (`/127`) is cut; multicast itself is refused later by the peer's
    // address being useless to receive from.
    let address = address.split('/').next().unwrap_or(address);
    address
        .parse()
        .map_err(|_| SdpError::Unreadable("a c= address cannot be read"))
}

fn direction_attribute(value: &str) -> Option<Direction> {
    match value {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

/// The line's own direction, else the session's, else sendrecv (RFC 3264 section 5.1).
fn line_direction(line: &MediaLine<'_>, session: Option<Direction>) -> Direction {
    line.direction.or(session).unwrap_or(Direction::SendRecv)
}

fn read_attribute(line: &mut MediaLine<'_>, value: &str) {
    if let Some(direction) = direction_attribute(value) {
        line.direction = Some(direction);
    } else if let Some(map) = value.strip_prefix("rtpmap:")
        && let Some((pt, encoding)) = map.split_once(' ')
        && let Ok(pt) = pt.trim().parse()
    {
        line.rtpmaps
            .push((pt, encoding.trim().to_ascii_lowercase()));
    }
}

/// The codec and DTMF payload types of one audio line, if it has a codec we decode.
fn pick(line: &MediaLine<'_>, connection: Option<IpAddr>, dir: Direction) -> Option<Negotiated> {
    if line.media != "audio" || line.port == 0 || line.proto != "RTP/AVP" {
        return None;
    }
    let encoding = |pt: u8| -> Option<String> {
        let mapped = line
            .rtpmaps
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, e)| e.clone());
        mapped.or_else(|| match pt {
            0 => Some("pcmu/8000".into()),
            8 => Some("pcma/8000".into()),
            _ => None,
        })
    };

    let offered: Vec<(u8, String)> = line
        .formats
        .iter()
        .filter_map(|f| f.parse().ok())
        .filter_map(|pt| encoding(pt).map(|e| (pt, e)))
        .collect();
    let (payload_type, law) = offered.iter().find_map(|(pt, e)| match e.as_str() {
        "pcmu/8000" => Some((*pt, Law::MuLaw)),
        "pcma/8000" => Some((*pt, Law::ALaw)),
        _ => None,
    })?;
    let dtmf_payload_type = offered
        .iter()
        .find(|(_, e)| e == "telephone-event/8000")
        .map(|(pt, _)| *pt);

    Some(Negotiated {
        law,
        payload_type,
        dtmf_payload_type,
        remote: SocketAddr::new(connection?, line.port),
        direction: dir,
    })
}
