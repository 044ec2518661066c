//! SIP messages as values: requests, responses and their headers, and how they are written.
//!
//! Header names are kept as the peer spelled them and looked up without regard to case or to
//! the compact forms of RFC 3261 section 7.3.3, so a message is relayed faithfully and read
//! robustly. The parser keeps the body and drops `Content-Length`; writing sets it from the body.
//! Nothing here may log a header value: From, To and the Request-URI carry phone numbers.

use std::fmt::Write as _;

/// A SIP request method.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Opens a dialog (or, inside one, changes its media).
    Invite,
    /// Confirms a final answer to an INVITE.
    Ack,
    /// Ends a dialog.
    Bye,
    /// Abandons an INVITE not yet answered.
    Cancel,
    /// Asks for capabilities; trunks use it as a keepalive.
    Options,
    /// Any other method, as the peer spelled it.
    Other(String),
}

impl Method {
    /// The method from its token (methods are case-sensitive, RFC 3261 section 7.1).
    pub fn from_token(token: &str) -> Self {
        match token {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "OPTIONS" => Self::Options,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The method's token.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Options => "OPTIONS",
            Self::Other(token) => token,
        }
    }
}

/// The full name a compact header name stands for (RFC 3261 section 7.3.3, RFC 3515, RFC 4028).
fn full_name(name: &str) -> &str {
    match name {
        "v" | "V" => "Via",
        "f" | "F" => "From",
        "t" | "T" => "To",
        "i" | "I" => "Call-ID",
        "m" | "M" => "Contact",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "k" | "K" => "Supported",
        "s" | "S" => "Subject",
        "e" | "E" => "Content-Encoding",
        other => other,
    }
}

/// True when `a` and `b` name the same header.
fn same_name(a: &str, b: &str) -> bool {
    full_name(a).eq_ignore_ascii_case(full_name(b))
}

/// The headers of a message, in order, duplicates kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of the header `name` (compact forms and case ignored).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the header `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| same_name(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Every (name, value) pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !same_name(n, name));
    }

    /// Appends every value of `name` from `other`, under its full name.
    pub fn copy_from(&mut self, other: &Headers, name: &str) {
        for value in other.all(name) {
            self.push(full_name(name), value);
        }
    }
}

/// A SIP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI, as sent.
    pub uri: String,
    /// The headers.
    pub headers: Headers,
    /// The body (an SDP offer, usually), exactly `Content-Length` bytes.
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code, 100 to 699.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The headers.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
}

/// A SIP message of either kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Request {
    /// The request on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0", self.method.as_str(), self.uri);
        write_message(&start, &self.headers, &self.body)
    }
}

impl Response {
    /// The response on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}", self.status, self.reason);
        write_message(&start, &self.headers, &self.body)
    }
}

impl Message {
    /// The headers of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Self::Request(r) => &r.headers,
            Self::Response(r) => &r.headers,
        }
    }
}

/// Start line, headers (Content-Length from the body) and body.
fn write_message(start: &str, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut head = String::with_capacity(512);
    head.push_str(start);
    head.push_str("\r\n");
    for (name, value) in headers.iter() {
        if same_name(name, "Content-Length") {
            continue;
        }
        // Writing to a String cannot fail.
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());

    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The usual reason phrase of the status codes this user agent sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        415 => "Unsupported Media Type",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}
