//! Building a response to a request (RFC 3261 section 8.2.6): the routing headers copied, the
//! To tag added, the usual reason phrase.
//!
//! Every response the appliance sends is made here, so none can miss a Via or a tag. This module
//! must never add a header that reveals more of the box than a UAS needs to say.

use super::header::tag;
use super::message::{Headers, Request, Response, reason_phrase};

/// The methods this user agent server answers, for `Allow`.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";

/// A response with `status` to `request`, its To tagged with `to_tag` when it has no tag yet.
pub fn to_request(request: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut headers = Headers::new();
    headers.copy_from(&request.headers, "Via");
    headers.copy_from(&request.headers, "From");
    let to = request.headers.get("To").unwrap_or_default();
    match to_tag {
        Some(local) if tag(to).is_none() && status != 100 => {
            headers.push("To", format!("{to};tag={local}"));
        }
        _ => headers.push("To", to),
    }
    headers.copy_from(&request.headers, "Call-ID");
    headers.copy_from(&request.headers, "CSeq");
    headers.push("Server", "diala-edge");

    Response {
        status,
        reason: reason_phrase(status).to_owned(),
        headers,
        body: Vec::new(),
    }
}

/// True when `request` has every header a response must copy, so a 400 can reach the peer.
pub fn routable(request: &Request) -> bool {
    ["Via", "From", "To", "Call-ID", "CSeq"]
        .iter()
        .all(|name| request.headers.get(name).is_some())
}
