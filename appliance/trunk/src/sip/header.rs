//! Reading the structured headers a user agent server routes by: Via, CSeq, tags, URIs.
//!
//! Only what the transaction and dialog layers need is read, and every reader returns `None`
//! rather than guessing on a value it cannot read. Values are borrowed from the message.
//! Nothing here may log a value: From, To and URIs hold phone numbers.

use super::message::{Headers, Method, Request};

/// Checks that a request has what a response to it must copy (RFC 3261 section 8.1.1).
pub fn check_request(request: &Request) -> Result<(), &'static str> {
    let headers = &request.headers;
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if headers.get(name).is_none_or(str::is_empty) {
            return Err("a mandatory header (Via, From, To, Call-ID, CSeq) is missing");
        }
    }
    let (_, method) = cseq(headers).ok_or("CSeq is not a number and a method")?;
    if method != request.method {
        return Err("the CSeq method differs from the request method");
    }
    if let Some(max) = headers.get("Max-Forwards")
        && max.trim().parse::<u8>().is_err()
    {
        return Err("Max-Forwards is not a number");
    }
    Ok(())
}

/// The CSeq number and method.
pub fn cseq(headers: &Headers) -> Option<(u32, Method)> {
    let value = headers.get("CSeq")?;
    let mut parts = value.split_whitespace();
    let number = parts.next()?.parse().ok()?;
    let method = Method::from_token(parts.next()?);
    parts.next().is_none().then_some((number, method))
}

/// The topmost Via value: the first header, up to its first comma.
pub fn top_via(headers: &Headers) -> Option<&str> {
    let first = headers.get("Via")?;
    Some(first.split(',').next().unwrap_or(first).trim())
}

/// The `branch` parameter of a Via value.
pub fn via_branch(via: &str) -> Option<&str> {
    let (_, params) = via.split_once(';')?;
    param(params, "branch")
}

/// The sent-by part of a Via value (`host[:port]`), which tells transactions apart along with
/// the branch (RFC 3261 section 17.2.3).
pub fn via_sent_by(via: &str) -> Option<&str> {
    let before_params = via.split(';').next()?;
    before_params.split_whitespace().nth(1)
}

/// The `tag` parameter of a From or To value, outside any `<...>`.
pub fn tag(value: &str) -> Option<&str> {
    let after_uri = match value.rfind('>') {
        Some(end) => value.get(end + 1..)?,
        None => value,
    };
    let (_, params) = after_uri.split_once(';')?;
    param(params, "tag")
}

/// The value of `name` in a `;`-separated parameter list.
pub fn param<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    params.split(';').find_map(|p| {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim())
            .filter(|v| !v.is_empty())
    })
}

/// The user part of a SIP URI (`sip:user@host;params`), without parameters. For a telephone
/// number this is the dialled number.
pub fn uri_user(uri: &str) -> Option<&str> {
    let uri = uri.trim().trim_start_matches('<');
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .or_else(|| uri.strip_prefix("tel:"))?;
    let user = match rest.split_once('@') {
        Some((user, _)) => user,
        None if uri.starts_with("tel:") => rest,
        None => return None,
    };
    let user = user.split([';', ':', '>']).next()?;
    (!user.is_empty()).then_some(user)
}

/// A dialled number as trunks are configured: its digits only, so `+15551230000`,
/// `15551230000` and `+1 (555) 123-0000` are the same number, as trunks differ in sending the `+`.
pub fn normalise_number(user: &str) -> String {
    user.chars().filter(char::is_ascii_digit).collect()
}

/// The Call-ID.
pub fn call_id(headers: &Headers) -> Option<&str> {
    headers
        .get("Call-ID")
        .map(str::trim)
        .filter(|v| !v.is_empty())
}
