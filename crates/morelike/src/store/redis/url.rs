//! Where Redis is: `redis://[user:password@]host:port[/db]`, `rediss://…`
//! (TLS), and `redis+cluster://host:port[,host:port…]` (or
//! `rediss+cluster://`) for a Cluster, given any of its nodes. Credentials
//! come from the URL or from `MORELIKE_REDIS_USERNAME` /
//! `MORELIKE_REDIS_PASSWORD`; a URL is only ever shown with its password
//! replaced by `***`.

/// A parsed Redis location.
#[derive(Clone)]
pub struct Target {
    /// A Cluster (commands go to their key's slot).
    pub cluster: bool,
    /// The node URLs, credentials included (never log these).
    pub nodes: Vec<String>,
    /// The URL as it may be shown: no password.
    pub shown: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Parses a URL; `username` and `password` fill in what the URL leaves out.
pub fn parse(text: &str, username: Option<&str>, password: Option<&str>) -> Result<Target, String> {
    let text = text.trim();
    let (scheme, rest) = text.split_once("://").ok_or_else(|| {
        "a Redis URL starts with redis://, rediss://, redis+cluster:// or rediss+cluster://"
            .to_owned()
    })?;
    let (node_scheme, cluster) = match scheme {
        "redis" => ("redis", false),
        "rediss" => ("rediss", false),
        "redis+cluster" => ("redis", true),
        "rediss+cluster" => ("rediss", true),
        other => {
            return Err(format!(
                "unknown Redis URL scheme '{other}': use redis, rediss, redis+cluster or rediss+cluster"
            ))
        }
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (Some(user), hosts),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').filter(|h| !h.is_empty()).collect();
    if hosts.is_empty() {
        return Err("the Redis URL names no host".into());
    }
    if !cluster && hosts.len() > 1 {
        return Err("several hosts are for a Cluster: use redis+cluster://".into());
    }
    if cluster && !matches!(tail, "" | "/" | "/0") {
        return Err("a Redis Cluster has only database 0: leave the path out".into());
    }
    let mut nodes = Vec::with_capacity(hosts.len());
    let mut shown_hosts = Vec::with_capacity(hosts.len());
    for host in &hosts {
        let raw = match userinfo {
            Some(user) => format!("{node_scheme}://{user}@{host}{tail}"),
            None => format!("{node_scheme}://{host}{tail}"),
        };
        let mut url = url::Url::parse(&raw)
            .map_err(|e| format!("the Redis URL's host '{host}' cannot be read: {e}"))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("the Redis URL's host '{host}' is empty"));
        }
        if url.username().is_empty() {
            if let Some(name) = username.filter(|u| !u.is_empty()) {
                url.set_username(name)
                    .map_err(|()| "the Redis user name cannot be used".to_owned())?;
            }
        }
        if url.password().is_none() {
            if let Some(secret) = password.filter(|p| !p.is_empty()) {
                url.set_password(Some(secret))
                    .map_err(|()| "the Redis password cannot be used".to_owned())?;
            }
        }
        let mut shown = url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown_hosts.push(shown.to_string());
        nodes.push(url.to_string());
    }
    let shown = if cluster {
        format!("{scheme}: {}", shown_hosts.join(", "))
    } else {
        shown_hosts.remove(0)
    };
    Ok(Target {
        cluster,
        nodes,
        shown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_is_kept_for_connecting_and_never_shown() {
        let target = parse("redis://app:s3cr3t-pw@cache.internal:6380/2", None, None).unwrap();
        assert!(!target.cluster);
        assert_eq!(
            target.nodes,
            ["redis://app:s3cr3t-pw@cache.internal:6380/2"]
        );
        assert!(!target.shown.contains("s3cr3t"), "{}", target.shown);
        assert!(!format!("{target:?}").contains("s3cr3t"));
    }

    #[test]
    fn credentials_from_the_environment_fill_in_what_the_url_leaves_out() {
        let target = parse("rediss://cache:6379", Some("app"), Some("from-env")).unwrap();
        assert_eq!(target.nodes, ["rediss://app:from-env@cache:6379"]);
        assert!(!target.shown.contains("from-env"));
        let kept = parse("redis://:in-url@cache:6379", None, Some("from-env")).unwrap();
        assert_eq!(kept.nodes, ["redis://:in-url@cache:6379"], "the URL wins");
    }

    #[test]
    fn a_cluster_url_lists_its_nodes_each_with_the_credentials() {
        let target = parse(
            "redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001",
            None,
            None,
        )
        .unwrap();
        assert!(target.cluster);
        assert_eq!(
            target.nodes,
            ["redis://:pw@10.0.0.1:7000", "redis://:pw@10.0.0.2:7001"]
        );
        assert!(!target.shown.contains("pw@"), "{}", target.shown);
    }

    #[test]
    fn bad_urls_say_what_to_fix() {
        for (url, says) in [
            ("localhost:6379", "starts with redis://"),
            ("http://localhost", "unknown Redis URL scheme 'http'"),
            ("redis://", "names no host"),
            ("redis://a:1,b:2", "use redis+cluster://"),
            ("redis+cluster://a:1/3", "only database 0"),
        ] {
            let err = parse(url, None, None).unwrap_err();
            assert!(err.contains(says), "{url}: {err}");
        }
    }
}
