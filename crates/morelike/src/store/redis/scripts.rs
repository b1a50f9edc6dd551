//! The Lua scripts that make each write one atomic step in Redis. Every key
//! a script touches carries the store's hash tag, so in a Cluster they all
//! live in the store's slot. A store change writes its data, appends what
//! changed to the store's log (a stream capped near `maxlen` entries), and
//! publishes the store's name, all at once: a change is in the log if and
//! only if it was made.
//!
//! Arguments shared by the store-change scripts: `KEYS[1]` the log;
//! `ARGV[1]` this node's id, `ARGV[2]` the log's cap, `ARGV[3]` the
//! channel, `ARGV[4]` the store, `ARGV[5]` the change (JSON); their own
//! arguments follow.

use std::sync::LazyLock;

use redis::Script;

/// Appends to the log and publishes; the log lives as long as the store.
const LOG: &str = r"
local function log(change)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'node', ARGV[1], 'change', change)
  redis.call('PERSIST', KEYS[1])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
";

fn with_log(body: &str) -> Script {
    Script::new(&format!("{LOG}\n{body}"))
}

/// `KEYS[2]` := `ARGV[6]` (settings, the access record).
pub static PUT_VALUE: LazyLock<Script> = LazyLock::new(|| {
    with_log(
        r"
redis.call('SET', KEYS[2], ARGV[6])
log(ARGV[5])
return 1
",
    )
});

/// Products: `KEYS[2]` the hash, `KEYS[3]` the products' version (raised);
/// `ARGV[6..]` id, document pairs.
pub static PUT_PRODUCTS: LazyLock<Script> = LazyLock::new(|| {
    with_log(
        r"
for i = 6, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('INCR', KEYS[3])
log(ARGV[5])
return 1
",
    )
});

/// Deletes products `ARGV[6..]` from the hash `KEYS[2]` (raising the
/// products' version `KEYS[3]` when one existed); logs those that
/// existed (the whole catalog past `ARGV[5]` ids, which here is a number);
/// answers how many existed.
pub static DELETE_PRODUCTS: LazyLock<Script> = LazyLock::new(|| {
    with_log(
        r#"
local gone = {}
for i = 6, #ARGV do
  if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then
    gone[#gone + 1] = ARGV[i]
  end
end
if #gone > 0 then
  redis.call('INCR', KEYS[3])
end
if #gone > tonumber(ARGV[5]) then
  log('"catalog"')
elseif #gone > 0 then
  log(cjson.encode({products = gone}))
end
return #gone
"#,
    )
});

/// Deletes a store: `KEYS[2..5]` settings, access, products, the session
/// index; every session listed in the index (`ARGV[6]` is the session key
/// prefix). The products' version `KEYS[6]` is raised and kept, so a store
/// made anew never repeats a version. The log keeps a `deleted` entry for a day.
pub static DELETE_STORE: LazyLock<Script> = LazyLock::new(|| {
    with_log(
        r"
local ids = redis.call('ZRANGE', KEYS[5], 0, -1)
for i = 1, #ids, 512 do
  local batch = {}
  for j = i, math.min(i + 511, #ids) do
    batch[#batch + 1] = ARGV[6] .. ids[j]
  end
  redis.call('UNLINK', unpack(batch))
end
redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('INCR', KEYS[6])
log(ARGV[5])
redis.call('EXPIRE', KEYS[1], 86400)
return 1
",
    )
});

/// One session by compare-and-set. `KEYS[1]` the session (a hash: `v`
/// version, `e` expiry, `d` the session), `KEYS[2]` the store's session
/// index (id by expiry). `ARGV`: replaces, version, expires_at, document,
/// the key's lifetime in ms (the TTL and a grace), now, the grace in
/// seconds, the session id. Answers -1 when written, else the version
/// stored (0: none).
pub static PUT_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local stored = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if stored ~= tonumber(ARGV[1]) then
  return stored
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], 'd', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[6]) - tonumber(ARGV[7])))
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return -1
",
    )
});

/// Deletes at most `ARGV[2]` sessions of one store expired at `ARGV[1]`
/// (those expired longest first), from the index `KEYS[1]`; `ARGV[3]` is
/// the session key prefix. Answers how many were deleted.
pub static PURGE_SESSIONS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, id in ipairs(due) do
  local key = ARGV[3] .. id
  local e = redis.call('HGET', key, 'e')
  if e and tonumber(e) <= now then
    redis.call('UNLINK', key)
    n = n + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
return n
",
    )
});
