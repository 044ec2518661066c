//! Reading one SIP message from one datagram, without ever panicking on what arrives.
//!
//! The result sorts input three ways, because each is treated differently: a message; a
//! request whose request line we understood but whose rest is broken (answered 400 when the
//! headers needed to route a response are there, RFC 3261 section 8.2); and bytes that are not
//! SIP at all (dropped and counted, never answered, so the appliance cannot be used to reflect
//! traffic). This module must never allocate more than the datagram's size or loop on input.

use super::header;
use super::message::{Headers, Message, Method, Request, Response};

/// The largest message accepted: more than any UDP datagram carries.
pub const MAX_MESSAGE: usize = 65_535;

/// Why a datagram did not give a message.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Only CR and LF: a keepalive (RFC 5626), not an error.
    #[error("keepalive")]
    Keepalive,
    /// Not a SIP message: no answer is sent. Many of these from one source mean a scanner or a
    /// misconfigured peer on the trunk's port.
    #[error("not a SIP message: {0}")]
    Garbage(&'static str),
    /// A SIP request with a broken header or body. `head` holds the request line and every
    /// header read before the fault, so a 400 can be routed back when they suffice.
    #[error("malformed SIP request: {reason}")]
    Malformed {
        /// What was wrong, fixed text for logs and metrics.
        reason: &'static str,
        /// The request as far as it was read, with no body.
        head: Box<Request>,
    },
}

/// Parses one message from one datagram.
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    let bytes = trim_leading_newlines(bytes);
    if bytes.is_empty() {
        return Err(ParseError::Keepalive);
    }
    if bytes.len() > MAX_MESSAGE {
        return Err(ParseError::Garbage("message too large"));
    }

    let (head, rest) = split_head(bytes);
    let head = std::str::from_utf8(head).map_err(|_| ParseError::Garbage("head is not UTF-8"))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = lines.next().unwrap_or_default();

    match start_line(start)? {
        Start::Response(status, reason) => {
            let headers = read_headers(lines).map_err(|_| ParseError::Garbage("bad header"))?;
            let mut headers = headers;
            let body = body(&headers, rest).map_err(|_| ParseError::Garbage("bad body"))?;
            headers.remove("Content-Length");
            Ok(Message::Response(Response {
                status,
                reason,
                headers,
                body,
            }))
        }
        Start::Request(method, uri) => read_request(method, uri, lines, rest),
    }
}

/// The rest of a request, after a request line that parsed.
fn read_request<'a>(
    method: Method,
    uri: String,
    lines: impl Iterator<Item = &'a str>,
    rest: Option<&[u8]>,
) -> Result<Message, ParseError> {
    let mut head = Request {
        method,
        uri,
        headers: Headers::new(),
        body: Vec::new(),
    };
    let malformed = |reason, head| ParseError::Malformed {
        reason,
        head: Box::new(head),
    };

    match read_headers(lines) {
        Ok(headers) => head.headers = headers,
        Err(partial) => {
            head.headers = partial;
            return Err(malformed("a header line has no name or colon", head));
        }
    }
    if rest.is_none() {
        return Err(malformed("no blank line after the headers", head));
    }
    if let Err(reason) = header::check_request(&head) {
        return Err(malformed(reason, head));
    }
    match body(&head.headers, rest) {
        Ok(body) => {
            head.body = body;
            head.headers.remove("Content-Length");
        }
        Err(reason) => return Err(malformed(reason, head)),
    }
    Ok(Message::Request(head))
}

fn trim_leading_newlines(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The head (before the blank line) and, when there is a blank line, what follows it.
fn split_head(bytes: &[u8]) -> (&[u8], Option<&[u8]>) {
    for (i, window) in bytes.windows(2).enumerate() {
        let skip = match window {
            b"\n\n" => 2,
            b"\n\r" if bytes.get(i + 2) == Some(&b'\n') => 3,
            _ => continue,
        };
        let head = bytes.get(..i).unwrap_or_default();
        return (head, bytes.get(i + skip..));
    }
    (bytes, None)
}

enum Start {
    Request(Method, String),
    Response(u16, String),
}

fn start_line(line: &str) -> Result<Start, ParseError> {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = code
            .parse::<u16>()
            .ok()
            .filter(|s| (100..700).contains(s) && code.len() == 3)
            .ok_or(ParseError::Garbage("bad status code"))?;
        return Ok(Start::Response(status, reason.to_owned()));
    }

    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Garbage("not a request or status line"));
    };
    if version != "SIP/2.0" || !is_token(method) || uri.is_empty() || !uri.contains(':') {
        return Err(ParseError::Garbage("not a SIP request line"));
    }
    Ok(Start::Request(Method::from_token(method), uri.to_owned()))
}

/// RFC 3261 `token` characters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Header lines, with folded continuation lines joined. On a bad line, the headers before it.
fn read_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Headers, Headers> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            match pairs.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                    continue;
                }
                None => return Err(to_headers(pairs)),
            }
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(to_headers(pairs));
        };
        let name = name.trim_end();
        if !is_token(name) {
            return Err(to_headers(pairs));
        }
        pairs.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(to_headers(pairs))
}

fn to_headers(pairs: Vec<(String, String)>) -> Headers {
    let mut headers = Headers::new();
    for (name, value) in pairs {
        headers.push(name, value);
    }
    headers
}

/// The body: `Content-Length` bytes of what follows the blank line (the rest of the datagram
/// when the header is absent, as RFC 3261 section 18.3 allows on UDP).
fn body(headers: &Headers, rest: Option<&[u8]>) -> Result<Vec<u8>, &'static str> {
    let rest = rest.unwrap_or_default();
    let Some(length) = headers.get("Content-Length") else {
        return Ok(rest.to_vec());
    };
    let length: usize = length
        .trim()
        .parse()
        .map_err(|_| "Content-Length is not a number")?;
    rest.get(..length)
        .map(<[u8]>::to_vec)
        .ok_or("the body is shorter than Content-Length")
}
