//! The [`Caller`] extractor: reads the key (`Authorization: Bearer …`, or the
//! `key` query parameter on the WebSocket, which browsers cannot give
//! headers), resolves it against the store in the path, applies the rate
//! limits, and checks the `Origin` of browser calls.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::Level;
use crate::server::error::ApiError;
use crate::server::state::AppState;

/// The peer address of a connection, set by the listener on every request.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// Who a caller is, for the store in the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The node's admin key.
    Admin,
    /// The store's secret key.
    Secret,
    /// The store's publishable key.
    Publishable,
    /// No key.
    Anonymous,
}

/// A checked caller: its key resolved, its origin allowed, its rate within limits.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who it is.
    pub role: Role,
    /// The store in the path, if any.
    pub store: Option<String>,
    /// Whether that store lets callers without a key shop (the demo).
    pub public: bool,
    /// The client's address.
    pub address: IpAddr,
}

impl Caller {
    /// The address this caller's rates are counted by: none with a secret
    /// or admin key (a merchant's own server), else the client's.
    pub fn limited_address(&self) -> Option<IpAddr> {
        match self.role {
            Role::Secret | Role::Admin => None,
            Role::Publishable | Role::Anonymous => Some(self.address),
        }
    }

    /// Passes when the caller may make a call that needs `level`; the error
    /// says which key is needed.
    pub fn require(&self, level: Level) -> Result<(), ApiError> {
        let store = self.store.as_deref().unwrap_or("the store");
        let ok = match (level, self.role) {
            (_, Role::Admin) => true,
            (Level::Operator, _) => false,
            (Level::Merchant, role) => role == Role::Secret,
            (Level::Shopper, Role::Anonymous) => self.public,
            (Level::Shopper, _) => true,
        };
        if ok {
            return Ok(());
        }
        let needed = match level {
            Level::Operator => "the node's admin key".to_owned(),
            Level::Merchant => format!("the secret key of '{store}' (or the admin key)"),
            Level::Shopper => format!("the publishable key of '{store}'"),
        };
        if self.role == Role::Anonymous {
            Err(ApiError::Unauthorized(format!(
                "this call needs {needed}: send it as `Authorization: Bearer <key>`"
            )))
        } else {
            let what = match self.role {
                Role::Publishable => "a publishable key cannot make this call",
                _ => "this key cannot make this call",
            };
            Err(ApiError::Forbidden(format!("{what}: it needs {needed}")))
        }
    }

    /// Whether the caller is the node's operator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The store a request's path names (`/v1/stores/{store}/…`), undecoded: a
/// name with escapes is no valid store and matches no key.
pub fn store_in_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/stores/")?;
    let store = rest.split('/').next()?;
    (!store.is_empty()).then_some(store)
}

/// The key a request presents: `Authorization: Bearer <key>`, or on the
/// WebSocket route the `key` query parameter.
pub fn presented_key(parts: &Parts) -> Result<Option<String>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        let mut words = text.split_whitespace();
        return match (words.next(), words.next(), words.next()) {
            (Some(scheme), Some(key), None) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Some(key.to_owned()))
            }
            _ => Err(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <key>`".into(),
            )),
        };
    }
    if parts.uri.path().ends_with("/ws") {
        if let Some(query) = parts.uri.query() {
            let key = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .unwrap_or_default()
                .into_iter()
                .find(|(name, _)| name == "key")
                .map(|(_, v)| v);
            return Ok(key.filter(|k| !k.is_empty()));
        }
    }
    Ok(None)
}

/// The client's address: the connection's peer, or with
/// `client_address_header` set (behind a proxy) the last address in that header.
pub fn client_address(parts: &Parts, header_name: Option<&str>) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ClientAddr>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.0.ip());
    let Some(name) = header_name else {
        return peer;
    };
    parts
        .headers
        .get_all(name)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let address = client_address(parts, state.config.client_address_header.as_deref());
        let store = store_in_path(parts.uri.path()).map(str::to_owned);
        let key = presented_key(parts);
        let resolved = match key {
            Ok(key) => state.access.resolve(store.as_deref(), key.as_deref()),
            Err(e) => Err(e),
        };
        let rates = &state.limits.rates;
        match &resolved {
            Ok((Role::Admin, _)) => {}
            Ok((Role::Secret, _)) => rates.check_key(store.as_deref(), "secret")?,
            Ok((role, _)) => {
                rates.check_address(address)?;
                if *role == Role::Publishable {
                    rates.check_key(store.as_deref(), "publishable")?;
                }
            }
            Err(_) => rates.check_address(address)?,
        }
        let (role, public) = resolved?;
        if let Some(origin) = parts.headers.get(header::ORIGIN) {
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            state.access.check_origin(
                store.as_deref(),
                origin.to_str().unwrap_or("(not text)"),
                host,
            )?;
        }
        Ok(Caller {
            role,
            store,
            public,
            address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, public: bool) -> Caller {
        Caller {
            role,
            store: Some("shop".into()),
            public,
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }

    #[test]
    fn each_level_is_open_to_the_keys_it_names_and_says_which_key_is_needed() {
        use Level::*;
        use Role::*;
        let cases = [
            (Admin, [true, true, true]),
            (Secret, [true, true, false]),
            (Publishable, [true, false, false]),
            (Anonymous, [false, false, false]),
        ];
        for (role, expected) in cases {
            for (level, ok) in [Shopper, Merchant, Operator].into_iter().zip(expected) {
                let result = caller(role, false).require(level);
                assert_eq!(result.is_ok(), ok, "{role:?} on {level:?}");
                if let Err(e) = result {
                    let code = if role == Anonymous {
                        "unauthorized"
                    } else {
                        "forbidden"
                    };
                    assert_eq!(e.code(), code);
                    assert!(e.to_string().contains("key"), "{e}");
                }
            }
        }
        assert!(
            caller(Anonymous, true).require(Shopper).is_ok(),
            "a public store"
        );
        assert!(caller(Anonymous, true).require(Merchant).is_err());
    }

    #[test]
    fn the_store_is_read_from_the_path() {
        assert_eq!(store_in_path("/v1/stores/demo/products"), Some("demo"));
        assert_eq!(store_in_path("/v1/stores/demo"), Some("demo"));
        assert_eq!(store_in_path("/v1/stores"), None);
        assert_eq!(store_in_path("/healthz"), None);
    }
}
