//! Just enough HTTP/1.1 for a status page: one GET or HEAD per connection, a bounded request
//! head, and responses that always carry their length and close. Anyone who can reach the
//! socket can send anything, so every limit is checked before anything is kept.

use std::fmt::Write as _;
use std::io::{self, Read, Write};

/// The most a request head may take (request line and headers).
pub(crate) const MAX_HEAD_BYTES: usize = 8 * 1024;

/// A request, as far as the routes care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// GET or HEAD.
    pub head_only: bool,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// The `Authorization` header, when given.
    pub authorization: Option<String>,
}

/// A response: status, content type, extra headers and the body.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What every response says about how the page may be used: nothing loaded from elsewhere, no
/// inline script, not framed, not sniffed.
const SECURITY_HEADERS: &str = "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n";

impl Response {
    /// A response with `body`.
    pub(crate) fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A plain-text error.
    pub(crate) fn text(status: u16, message: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", format!("{message}\n"))
    }

    /// Writes the response; the body only when `with_body`.
    pub(crate) fn write_to(&self, out: &mut impl Write, with_body: bool) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{SECURITY_HEADERS}",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if with_body {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

/// The head of a streamed response (Server-Sent Events): no length, the stream ends it.
pub(crate) fn write_stream_head(out: &mut impl Write, content_type: &str) -> io::Result<()> {
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n{SECURITY_HEADERS}\r\n"
    )?;
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

/// Reads one request head from `input`: at most [`MAX_HEAD_BYTES`], the caller's read timeout
/// bounding the wait. A request the page does not serve is the response to send instead.
pub(crate) fn read_request(input: &mut impl Read) -> Result<Request, Response> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() >= MAX_HEAD_BYTES {
            return Err(Response::text(431, "request head too large"));
        }
        match input.read(&mut buf) {
            Ok(0) => return Err(Response::text(400, "incomplete request")),
            Ok(n) => head.extend_from_slice(&buf[..n.min(MAX_HEAD_BYTES + 4 - head.len())]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Response::text(408, "request timed out")),
        }
    }
    parse_head(&head)
}

/// Parses a request head (request line and headers, CRLF separated).
pub(crate) fn parse_head(head: &[u8]) -> Result<Request, Response> {
    let bad = || Response::text(400, "malformed request");
    let text = std::str::from_utf8(head).map_err(|_| bad())?;
    let mut lines = text.split("\r\n");
    let mut words = lines.next().ok_or_else(bad)?.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(bad());
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad());
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let mut r = Response::text(405, "only GET and HEAD");
            r.headers.push(("Allow", "GET, HEAD".into()));
            return Err(r);
        }
    };
    let raw_path = target.split(['?', '#']).next().unwrap_or("");
    if !raw_path.starts_with('/') {
        return Err(bad());
    }
    let path = percent_decode(raw_path).ok_or_else(bad)?;
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    Ok(Request {
        head_only,
        path,
        authorization,
    })
}

/// `%XX` decoded; `None` for a broken escape or a result that is not UTF-8 or holds a control.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.chars().any(char::is_control)).then_some(text)
}

/// Whether `given` (an `Authorization` header) carries `token` as a bearer token; compared in
/// time that does not depend on where the first difference is.
pub(crate) fn bearer_matches(given: Option<&str>, token: &str) -> bool {
    let Some(given) = given.and_then(|g| g.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_head_is_parsed_and_bounded() {
        let r = parse_head(
            b"GET /p/my%2Dproj?x=1 HTTP/1.1\r\nHost: a\r\nauthorization: Bearer s3\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.path, "/p/my-proj");
        assert!(!r.head_only);
        assert!(bearer_matches(r.authorization.as_deref(), "s3"));
        assert!(!bearer_matches(r.authorization.as_deref(), "s4"));
        assert!(!bearer_matches(None, "s3"));
        for (head, status) in [
            (&b"POST / HTTP/1.1\r\n\r\n"[..], 405),
            (b"GET / HTTP/2\r\n\r\n", 400),
            (b"GET /%zz HTTP/1.1\r\n\r\n", 400),
            (b"GET /%0a HTTP/1.1\r\n\r\n", 400),
            (b"GET x HTTP/1.1\r\n\r\n", 400),
        ] {
            assert_eq!(parse_head(head).unwrap_err().status, status);
        }
        let huge = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        let err = read_request(&mut huge.as_bytes()).unwrap_err();
        assert_eq!(err.status, 431);
    }
}
