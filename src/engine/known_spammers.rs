//! Known-spammer lists: CAS (`GET {cas}/check?user_id=N`) and lols.bot (`GET {lols}/account?id=N`).
//! Lookups never run on the check path: `check` reads a TTL cache and queues unknown users for a
//! background thread (bounded queue; when full the user is simply looked up later). A network
//! failure, a timeout, an HTTP error or an answer that is not the expected JSON never flags anyone.
//! The app persists the cache through `export` / `import`.

use super::config::KnownSpammersConfig;
use crate::model::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One answer about one user, as cached and persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownSpammerEntry {
    pub user_id: UserId,
    pub listed: bool,
    /// Which list(s) said so: "cas", "lols", "cas+lols"; empty when not listed.
    pub source: String,
    /// A short human description ("CAS: 3 offenses").
    pub detail: String,
    /// Date (of the message that triggered the lookup) the answer was obtained.
    pub checked_at: Timestamp,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<UserId, KnownSpammerEntry>,
    pending: HashSet<UserId>,
}

pub struct KnownSpammers {
    cfg: KnownSpammersConfig,
    cache: Arc<Mutex<Cache>>,
    queue: Option<SyncSender<(UserId, Timestamp)>>,
}

impl KnownSpammers {
    /// Starts the background worker when enabled; disabled, only imported entries are consulted.
    pub fn start(cfg: &KnownSpammersConfig) -> KnownSpammers {
        let cache = Arc::new(Mutex::new(Cache::default()));
        let queue = if cfg.enabled {
            let (tx, rx) = sync_channel::<(UserId, Timestamp)>(cfg.queue_size.max(1));
            let worker_cache = Arc::clone(&cache);
            let worker_cfg = cfg.clone();
            let spawned = std::thread::Builder::new()
                .name("known-spammers".into())
                .spawn(move || {
                    let agent = agent(&worker_cfg);
                    while let Ok((user, now)) = rx.recv() {
                        let entry = lookup(&agent, &worker_cfg, user, now);
                        let mut cache = worker_cache.lock().unwrap_or_else(|e| e.into_inner());
                        cache.pending.remove(&user);
                        if let Some(entry) = entry {
                            cache.entries.insert(user, entry);
                        }
                    }
                });
            match spawned {
                Ok(_) => Some(tx),
                Err(err) => {
                    tracing::warn!(%err, "cannot start the known-spammer worker; lists are off");
                    None
                }
            }
        } else {
            None
        };
        KnownSpammers {
            cfg: cfg.clone(),
            cache,
            queue,
        }
    }

    /// The cached answer if still fresh; otherwise queues a lookup and answers `None` for now.
    pub fn lookup(&self, user: UserId, now: Timestamp) -> Option<KnownSpammerEntry> {
        if user <= 0 {
            return None;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = cache.entries.get(&user)
            && now - entry.checked_at <= self.cfg.ttl_secs
        {
            return Some(entry.clone());
        }
        if let Some(queue) = &self.queue
            && !cache.pending.contains(&user)
        {
            match queue.try_send((user, now)) {
                Ok(()) => {
                    cache.pending.insert(user);
                }
                Err(TrySendError::Full(_)) => {
                    tracing::debug!(user, "known-spammer queue full; lookup skipped")
                }
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
        None
    }

    /// Lookups still in flight.
    pub fn pending(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
            .len()
    }

    pub fn export(&self) -> Vec<KnownSpammerEntry> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries: Vec<_> = cache.entries.values().cloned().collect();
        entries.sort_by_key(|e| e.user_id);
        entries
    }

    pub fn import(&self, entries: impl IntoIterator<Item = KnownSpammerEntry>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for e in entries {
            cache.entries.insert(e.user_id, e);
        }
    }
}

fn agent(cfg: &KnownSpammersConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(cfg.timeout_ms.max(1))))
        .http_status_as_error(true)
        .user_agent("warden-moderation-console")
        .build()
        .into()
}

#[derive(Deserialize)]
struct CasAnswer {
    ok: bool,
    #[serde(default)]
    result: Option<CasResult>,
}

#[derive(Deserialize)]
struct CasResult {
    #[serde(default)]
    offenses: Option<u64>,
}

#[derive(Deserialize)]
struct LolsAnswer {
    ok: bool,
    #[serde(default)]
    banned: bool,
    #[serde(default)]
    offenses: Option<u64>,
    #[serde(default)]
    scammer: bool,
    #[serde(default)]
    spam_factor: Option<f64>,
}

/// GET `url` and parse JSON, with retries; `None` on any failure.
fn get_json<T: serde::de::DeserializeOwned>(
    agent: &ureq::Agent,
    url: &str,
    retries: u32,
) -> Option<T> {
    for attempt in 0..=retries {
        match agent.get(url).call() {
            Ok(mut response) => {
                return match response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_json::<T>()
                {
                    Ok(v) => Some(v),
                    Err(err) => {
                        tracing::debug!(%err, "known-spammer answer is not the expected JSON");
                        None
                    }
                };
            }
            Err(err) => {
                tracing::debug!(%err, attempt, "known-spammer lookup failed");
            }
        }
    }
    None
}

/// Asks both lists. `None` when neither answered properly: nothing is cached, nobody is flagged.
pub fn lookup(
    agent: &ureq::Agent,
    cfg: &KnownSpammersConfig,
    user: UserId,
    now: Timestamp,
) -> Option<KnownSpammerEntry> {
    let cas = (!cfg.cas_url.is_empty())
        .then(|| {
            let url = format!("{}/check?user_id={user}", cfg.cas_url.trim_end_matches('/'));
            get_json::<CasAnswer>(agent, &url, cfg.retries)
        })
        .flatten();
    let lols = (!cfg.lols_url.is_empty())
        .then(|| {
            let url = format!("{}/account?id={user}", cfg.lols_url.trim_end_matches('/'));
            get_json::<LolsAnswer>(agent, &url, cfg.retries)
        })
        .flatten();
    if cas.is_none() && lols.is_none() {
        return None;
    }
    let mut sources = Vec::new();
    let mut details = Vec::new();
    if let Some(cas) = &cas
        && cas.ok
    {
        sources.push("cas");
        let offenses = cas.result.as_ref().and_then(|r| r.offenses).unwrap_or(0);
        details.push(format!("CAS: {offenses} offenses"));
    }
    if let Some(lols) = &lols
        && lols.ok
        && (lols.banned || lols.scammer)
    {
        sources.push("lols");
        let mut d = format!("lols.bot: {} offenses", lols.offenses.unwrap_or(0));
        if lols.scammer {
            d.push_str(", scammer");
        }
        if let Some(f) = lols.spam_factor {
            d.push_str(&format!(", spam factor {f:.2}"));
        }
        details.push(d);
    }
    Some(KnownSpammerEntry {
        user_id: user,
        listed: !sources.is_empty(),
        source: sources.join("+"),
        detail: details.join("; "),
        checked_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A loopback server answering like CAS under /cas and lols.bot under /lols.
    /// User 1: CAS-listed; 2: clean; 3: lols-banned; 4: HTML instead of JSON; 5: never answers.
    fn serve() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut request = String::new();
                    BufReader::new(&stream).read_line(&mut request).unwrap_or(0);
                    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
                    let user: i64 = path
                        .rsplit('=')
                        .next()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let body = match (path.starts_with("/cas"), user) {
                        (_, 5) => {
                            std::thread::sleep(Duration::from_secs(3));
                            return;
                        }
                        (_, 4) => "<html>rate limited</html>".to_string(),
                        (true, 1) => r#"{"ok":true,"result":{"offenses":3,"messages":["spam"],"time_added":"2024-01-01T00:00:00.000Z"}}"#.to_string(),
                        (true, _) => r#"{"ok":false,"description":"Record not found."}"#.to_string(),
                        (false, 3) => r#"{"ok":true,"user_id":3,"banned":true,"when":"2024-01-01","offenses":7,"spam_factor":0.93,"scammer":false}"#.to_string(),
                        (false, u) => format!(r#"{{"ok":true,"user_id":{u},"banned":false,"offenses":0,"spam_factor":0,"scammer":false}}"#),
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        format!("http://{addr}")
    }

    fn config(base: &str) -> KnownSpammersConfig {
        KnownSpammersConfig {
            enabled: true,
            cas_url: format!("{base}/cas"),
            lols_url: format!("{base}/lols"),
            ttl_secs: 3600,
            timeout_ms: 400,
            retries: 1,
            queue_size: 16,
        }
    }

    fn settle(lists: &KnownSpammers) {
        for _ in 0..100 {
            if lists.pending() == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("lookups did not finish");
    }

    #[test]
    fn listed_users_are_found_and_failures_never_flag() {
        let lists = KnownSpammers::start(&config(&serve()));
        for user in 1..=5 {
            assert_eq!(
                lists.lookup(user, 1_000),
                None,
                "first lookup is queued, not awaited"
            );
        }
        settle(&lists);
        let cas = lists.lookup(1, 1_001).expect("cached");
        assert!(
            cas.listed && cas.source == "cas" && cas.detail.contains("3 offenses"),
            "{cas:?}"
        );
        assert!(!lists.lookup(2, 1_001).unwrap().listed);
        let lols = lists.lookup(3, 1_001).unwrap();
        assert!(lols.listed && lols.source == "lols", "{lols:?}");
        // Not JSON, and a hang past the timeout: nothing cached, nobody flagged.
        assert_eq!(lists.lookup(4, 1_001), None);
        assert_eq!(lists.lookup(5, 1_001), None);
        settle(&lists);
        // Entries expire after the TTL.
        assert_eq!(lists.lookup(2, 1_000 + 3_601 + 10), None);
    }

    #[test]
    fn cache_exports_and_imports() {
        let lists = KnownSpammers::start(&config(&serve()));
        lists.lookup(1, 50);
        settle(&lists);
        let exported = lists.export();
        assert_eq!(exported.len(), 1);
        let offline = KnownSpammers::start(&KnownSpammersConfig::default());
        offline.import(exported.clone());
        assert_eq!(offline.lookup(1, 60), Some(exported[0].clone()));
        assert_eq!(offline.pending(), 0, "disabled lists never query");
    }

    #[test]
    fn an_unreachable_server_flags_nobody() {
        let cfg = KnownSpammersConfig {
            cas_url: "http://127.0.0.1:9".into(),
            lols_url: "http://127.0.0.1:9".into(),
            ..config("")
        };
        let lists = KnownSpammers::start(&cfg);
        lists.lookup(1, 0);
        settle(&lists);
        assert_eq!(lists.lookup(1, 1), None);
    }
}
