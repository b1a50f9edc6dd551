//! Redis credentials: from the URL or from `MORELIKE_REDIS_PASSWORD`,
//! never in the log, and a wrong one stops the node with an error that
//! says what is wrong (without the password).

use std::process::Command;

use crate::helpers::{http_as_at, ADMIN};
use crate::process::Server;
use crate::redis_servers::RedisServer;

const PASSWORD: &str = "never-log-this-7f3a9c";

#[tokio::test]
async fn a_password_from_the_environment_or_the_url_works_and_is_never_logged() {
    let redis = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--requirepass",
        PASSWORD,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let verbose = [("MORELIKE_LOG", "debug")];
    let from_env = Server::start_with_env(
        dir.path(),
        &["--redis", &redis.url()],
        &[verbose[0], ("MORELIKE_REDIS_PASSWORD", PASSWORD)],
    );
    let in_url = format!("redis://:{PASSWORD}@127.0.0.1:{}", redis.port);
    let from_url = Server::start_with_env(dir.path(), &["--redis", &in_url], &verbose);
    for server in [&from_env, &from_url] {
        let (status, body) = http_as_at(
            server.addr,
            ADMIN,
            "PUT",
            "/v1/stores/shop",
            Some(("application/toml", crate::MAPPING.into())),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, stores) = http_as_at(from_url.addr, ADMIN, "GET", "/v1/stores", None).await;
    assert_eq!(stores[0]["name"], "shop", "{stores}");
    // Past the watch's first ping (every 2 s): it keeps its subscription.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    for server in [&from_env, &from_url] {
        let log = server.log.lock().unwrap().join("\n");
        assert!(!log.contains("cannot watch store changes"), "{log}");
        assert!(log.contains("connected to Redis"), "{log}");
        assert!(
            !log.contains(PASSWORD),
            "the password is in the log:\n{log}"
        );
    }

    let wrong = Command::new(env!("CARGO_BIN_EXE_morelike"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-demo", "--redis"])
        .arg(format!(
            "redis://:wrong-{PASSWORD}@127.0.0.1:{}",
            redis.port
        ))
        .env("MORELIKE_LOG", "debug")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success());
    assert!(said.contains("cannot use Redis"), "{said}");
    assert!(
        !said.contains(PASSWORD),
        "the password is in the error:\n{said}"
    );
}
