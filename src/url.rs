//! The webhook URLs notifications go to: parsed just enough to open a connection, and redacted for
//! every place a URL is shown. A webhook URL often is its own secret (a Slack hook's path, an ntfy
//! topic, an `?auth=` token in the query), so what is shown is the scheme, host and port only.

/// The schemes a webhook may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// A webhook URL in pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// http or https.
    pub scheme: Scheme,
    /// The host as written (a name, an IPv4 address, or an IPv6 address without brackets).
    pub host: String,
    /// The port, explicit or the scheme's.
    pub port: u16,
    /// The path and query, at least `/`.
    pub target: String,
}

/// The longest URL accepted.
pub(crate) const MAX_URL_BYTES: usize = 2048;

impl HttpUrl {
    /// Parses `text`; the error says what is wrong without repeating the URL.
    pub(crate) fn parse(text: &str) -> Result<HttpUrl, String> {
        if text.len() > MAX_URL_BYTES {
            return Err(format!("is longer than {MAX_URL_BYTES} bytes"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("contains whitespace or a control character".into());
        }
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = text.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else {
            return Err("must start with http:// or https://".into());
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err("must not hold a user or password (ntfy takes a token as ?auth=…)".into());
        }
        let (host, port) = split_port(authority)?;
        if host.is_empty() {
            return Err("names no host".into());
        }
        let port = port.unwrap_or(match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        });
        let target = if target.starts_with('/') {
            target.to_string()
        } else {
            format!("/{target}")
        };
        Ok(HttpUrl {
            scheme,
            host: host.to_string(),
            port,
            target,
        })
    }

    /// `host:port`, an IPv6 host in brackets: the `Host` header and curl's URL.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// What may be shown of the URL: scheme, host and port; a path or query is `/…`.
    pub(crate) fn redacted(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let rest = if self.target == "/" { "/" } else { "/…" };
        format!("{scheme}://{}{rest}", self.authority())
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("has an unclosed [")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    match port {
        None => Ok((host, None)),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .map(|p| (host, Some(p)))
            .ok_or_else(|| "has an invalid port".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_parses_into_its_pieces() {
        let url = HttpUrl::parse("http://127.0.0.1:8080/hook?x=1").unwrap();
        assert_eq!(url.scheme, Scheme::Http);
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 8080));
        assert_eq!(url.target, "/hook?x=1");
        let url = HttpUrl::parse("https://ntfy.sh").unwrap();
        assert_eq!((url.port, url.target.as_str()), (443, "/"));
        let url = HttpUrl::parse("http://[::1]:9/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 9));
        let url = HttpUrl::parse("http://h?auth=tok").unwrap();
        assert_eq!(url.target, "/?auth=tok");
    }

    #[test]
    fn bad_urls_say_why() {
        for (text, why) in [
            ("ftp://h/", "http://"),
            ("http://user:pw@h/", "user or password"),
            ("http://h:99999/", "port"),
            ("http:///x", "no host"),
            ("http://h/a b", "whitespace"),
        ] {
            let err = HttpUrl::parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
            assert!(!err.contains(text), "the error repeats the URL: {err}");
        }
    }

    #[test]
    fn the_redacted_url_keeps_no_path_nor_query() {
        let url = HttpUrl::parse("https://hooks.slack.com/services/T0/B0/SECRET?token=t").unwrap();
        assert_eq!(url.redacted(), "https://hooks.slack.com:443/…");
        let url = HttpUrl::parse("http://[::1]:8/").unwrap();
        assert_eq!(url.redacted(), "http://[::1]:8/");
    }
}
