//! The conformance suite on Redis, unchanged: once on a standalone
//! `redis-server` and once on a three-master Redis Cluster, both started
//! by this test binary on free ports and shared by its tests. Each check
//! gets a namespace of its own (`RedisConfig::namespace`), so it starts on
//! an empty store as it does on the embedded one.

use std::sync::LazyLock;

use morelike::store::{Redis, RedisConfig};

use crate::redis_servers::RedisServer;

static STANDALONE: LazyLock<RedisServer> = LazyLock::new(RedisServer::start);

/// A client of the Redis at `url` in a namespace of its own.
pub fn connect(url: &str, check: &str) -> Redis {
    let mut config = RedisConfig::new(url, None, None).unwrap();
    config.namespace = format!("t{}-{check}", std::process::id());
    Redis::connect(config).unwrap()
}

pub fn standalone(check: &str) -> Redis {
    connect(&STANDALONE.url(), check)
}

macro_rules! on_redis {
    ($backend:ident: $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let store = super::$backend(stringify!($name));
                crate::conformance::$name(&store);
            }
        )*
    };
}

mod standalone {
    macro_rules! on_standalone {
        ($($name:ident),* $(,)?) => { on_redis!(standalone: $($name),*); };
    }
    crate::every_check!(on_standalone);
}
