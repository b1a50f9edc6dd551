//! Browser origins and hosts: which pages may call a store (the store's
//! allowed origins, and always the server's own), and which `Host` names the
//! server answers to (against DNS rebinding).

/// The most origins one store may list.
pub const MAX_ORIGINS: usize = 32;

/// An origin as a browser sends it: scheme, host, port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]` (an IPv6 host in brackets).
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            port => Some((host, Some(port.strip_prefix(':')?))),
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

impl Origin {
    /// Parses an `Origin` header value (`https://shop.example:8443`).
    pub fn parse(text: &str) -> Option<Origin> {
        let text = text.trim().to_ascii_lowercase();
        let (scheme, authority) = text.split_once("://")?;
        let default = default_port(scheme)?;
        let (host, port) = split_authority(authority)?;
        let port = match port {
            None => default,
            Some(p) => p.parse().ok()?,
        };
        Some(Origin {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port,
        })
    }

    /// Whether this is the server's own origin: the same host and port as
    /// the request's `Host` (the scheme is not compared: a TLS proxy in front
    /// sees `https` where the server sees plain HTTP).
    pub fn is_host(&self, host_header: &str) -> bool {
        let lower = host_header.trim().to_ascii_lowercase();
        let Some((host, port)) = split_authority(&lower) else {
            return false;
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok(),
            None => default_port(&self.scheme),
        };
        host == self.host && port == Some(self.port)
    }
}

/// An allowed origin: exact (`https://shop.example`) or any port of a host
/// (`http://localhost:*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: String,
    /// None: any port.
    port: Option<u16>,
}

impl OriginPattern {
    /// Parses an allowed origin; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<OriginPattern, String> {
        let lower = text.trim().to_ascii_lowercase();
        let shape = "write an origin as scheme://host or scheme://host:port (port * for any), without a path";
        let (scheme, authority) = lower
            .split_once("://")
            .ok_or_else(|| format!("'{text}' has no scheme: {shape}"))?;
        if default_port(scheme).is_none() {
            return Err(format!("'{text}': the scheme must be http or https"));
        }
        let (host, port) =
            split_authority(authority).ok_or_else(|| format!("'{text}': {shape}"))?;
        if host.is_empty() || host.contains('*') {
            return Err(format!("'{text}': name the host exactly ({shape})"));
        }
        let port = match port {
            Some("*") => None,
            Some(p) => Some(
                p.parse()
                    .map_err(|_| format!("'{text}': bad port ({shape})"))?,
            ),
            None => default_port(scheme),
        };
        Ok(OriginPattern {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port,
        })
    }

    /// Whether a browser origin fits.
    pub fn allows(&self, origin: &Origin) -> bool {
        self.scheme == origin.scheme
            && self.host == origin.host
            && self.port.is_none_or(|p| p == origin.port)
    }
}

/// Parses and checks a store's allowed-origins list (for the settings API);
/// the error names the entry at fault.
pub fn parse_list(list: &[String]) -> Result<Vec<OriginPattern>, (usize, String)> {
    if list.len() > MAX_ORIGINS {
        return Err((
            MAX_ORIGINS,
            format!(
                "{} origins; a store may list at most {MAX_ORIGINS}",
                list.len()
            ),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, o)| OriginPattern::parse(o).map_err(|e| (i, e)))
        .collect()
}

/// Which `Host` names the server answers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hosts {
    /// Any host (the server listens on a public address and no list was set).
    Any,
    /// Only these host names (any port).
    Only(Vec<String>),
}

impl Hosts {
    /// From the configuration: a list (`*` for any), or by default the
    /// loopback names when the server listens on loopback, else any.
    pub fn new(configured: Option<&[String]>, listen: std::net::SocketAddr) -> Hosts {
        match configured {
            Some(list) if list.iter().any(|h| h == "*") => Hosts::Any,
            Some(list) => Hosts::Only(list.iter().map(|h| h.trim().to_ascii_lowercase()).collect()),
            None if listen.ip().is_loopback() => Hosts::Only(
                ["localhost", "127.0.0.1", "::1"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
            None => Hosts::Any,
        }
    }

    /// Whether a request's `Host` header is one of ours.
    pub fn allows(&self, host_header: Option<&str>) -> bool {
        let Hosts::Only(names) = self else {
            return true;
        };
        let Some(header) = host_header else {
            return false;
        };
        let lower = header.trim().to_ascii_lowercase();
        split_authority(&lower).is_some_and(|(host, _)| names.iter().any(|n| n == host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_allows_its_origin_and_any_port_only_with_a_star() {
        let exact = OriginPattern::parse("https://Shop.Example").unwrap();
        assert!(exact.allows(&Origin::parse("https://shop.example").unwrap()));
        assert!(exact.allows(&Origin::parse("https://shop.example:443").unwrap()));
        assert!(!exact.allows(&Origin::parse("http://shop.example").unwrap()));
        assert!(!exact.allows(&Origin::parse("https://shop.example:8443").unwrap()));
        assert!(!exact.allows(&Origin::parse("https://evil.shop.example").unwrap()));
        let local = OriginPattern::parse("http://localhost:*").unwrap();
        assert!(local.allows(&Origin::parse("http://localhost:5173").unwrap()));
        assert!(!local.allows(&Origin::parse("http://localhost.evil:5173").unwrap()));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in [
            "shop.example",
            "ftp://x",
            "https://*.shop.example",
            "https://x/path",
            "https://x:port",
            "https://",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Origin::parse("null"), None);
    }

    #[test]
    fn the_own_origin_is_the_host_header() {
        let origin = Origin::parse("http://127.0.0.1:7700").unwrap();
        assert!(origin.is_host("127.0.0.1:7700"));
        assert!(!origin.is_host("127.0.0.1:7701"));
        assert!(Origin::parse("https://recs.example")
            .unwrap()
            .is_host("recs.example"));
        assert!(Origin::parse("http://[::1]:80").unwrap().is_host("[::1]"));
    }

    #[test]
    fn on_loopback_only_loopback_host_names_are_answered() {
        let hosts = Hosts::new(None, "127.0.0.1:7700".parse().unwrap());
        assert!(hosts.allows(Some("localhost:7700")));
        assert!(hosts.allows(Some("[::1]:7700")));
        assert!(!hosts.allows(Some("attacker.example:7700")));
        assert!(!hosts.allows(None));
        assert_eq!(
            Hosts::new(None, "0.0.0.0:7700".parse().unwrap()),
            Hosts::Any
        );
        let listed = Hosts::new(
            Some(&["recs.example".into()]),
            "0.0.0.0:7700".parse().unwrap(),
        );
        assert!(listed.allows(Some("RECS.example:443")));
        assert!(!listed.allows(Some("other.example")));
    }
}
