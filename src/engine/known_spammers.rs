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
