//! The conformance suite on Redis, unchanged: once on a standalone
//! `redis-server` and once on a three-master Redis Cluster, both started
//! by this test binary on free ports and shared by its tests. Each check
//! gets a namespace of its own (`RedisConfig::namespace`), so it starts on
//! an empty store as it does on the embedded one.

use std::sync::LazyLock;

use morelike::store::{Redis, RedisConfig};

use crate::redis_servers::{RedisCluster, RedisServer};

static STANDALONE: LazyLock<RedisServer> = LazyLock::new(RedisServer::start);
static CLUSTER: LazyLock<RedisCluster> = LazyLock::new(RedisCluster::start);

/// A client of the Redis at `url` in a namespace of its own.
pub fn connect(url: &str, check: &str) -> Redis {
    let mut config = RedisConfig::new(url, None, None).unwrap();
    config.namespace = format!("t{}-{check}", std::process::id());
    Redis::connect(config).unwrap()
}

pub fn standalone(check: &str) -> Redis {
    connect(&STANDALONE.url(), check)
}

pub fn cluster(check: &str) -> Redis {
    connect(&CLUSTER.url(), check)
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

mod cluster {
    macro_rules! on_cluster {
        ($($name:ident),* $(,)?) => { on_redis!(cluster: $($name),*); };
    }
    crate::every_check!(on_cluster);
}

/// The suite's stores spread over the three masters: the Cluster test is
/// not one node in disguise.
#[test]
fn the_clusters_stores_live_on_all_three_masters() {
    let store = cluster("spread");
    let names: Vec<String> = (0..24).map(|i| format!("shop-{i}")).collect();
    for name in &names {
        morelike::store::Storage::put_products(
            &store,
            name,
            &[morelike_core::Product::new("p", "A product")],
        )
        .unwrap();
    }
    for node in &CLUSTER.nodes {
        let keys = node.command("DBSIZE");
        let count: usize = keys.trim().trim_start_matches(':').parse().unwrap_or(0);
        assert!(count > 0, "master {} holds no key: {keys}", node.port);
    }
}
