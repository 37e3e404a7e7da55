//! grammers' `Session` on rusqlite: one file per account, mode 0600, never logged.
//! The file holds the auth key (a full login), so it is treated like a password.

use grammers_client::session::types::{
    ChannelKind, ChannelState, DcOption, PeerAuth, PeerId, PeerInfo, PeerKind, UpdateState,
    UpdatesState,
};
use grammers_client::session::{BoxFuture, Session, SessionData};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Schema version in `PRAGMA user_version`.
const VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "session file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("cannot open session file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("session database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("session database holds a bad address: {0}")]
    Address(#[from] std::net::AddrParseError),
    #[error("session database holds an auth key of {0} bytes (expected 256)")]
    AuthKeyLength(usize),
    #[error("session lock is poisoned")]
    Poisoned,
}

struct Cache {
    home_dc: i32,
    dc_options: HashMap<i32, DcOption>,
}

/// A grammers session stored in one SQLite file (or in memory for tests).
pub struct FileSession {
    db: Mutex<Connection>,
    cache: Mutex<Cache>,
    defaults: SessionData,
}

// The auth key must never reach a log line.
impl std::fmt::Debug for FileSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileSession { .. }")
    }
}

#[repr(u8)]
enum PeerSubtype {
    UserSelf = 1,
    UserBot = 2,
    Megagroup = 4,
    Broadcast = 8,
    Gigagroup = 12,
    Community = 16,
}

/// Refuses a file others can read or write; creates a missing one as 0600 before anything is stored.
#[cfg(unix)]
fn secure_file(path: &Path) -> Result<(), SessionError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |source| SessionError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SessionError::TooOpen {
                    path: path.to_path_buf(),
                    mode,
                });
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            // The umask cannot widen 0600, but make it explicit.
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)
        }
        Err(err) => Err(io(err)),
    }
}

#[cfg(not(unix))]
fn secure_file(_path: &Path) -> Result<(), SessionError> {
    Ok(())
}

impl FileSession {
    /// Opens (or creates, mode 0600) the session file at `path`.
    pub fn open(path: &Path) -> Result<FileSession, SessionError> {
        secure_file(path)?;
        let conn = Connection::open(path)?;
        FileSession::from_connection(conn)
    }

    /// A session that lives in memory only (tests, the test-DC dry run).
    pub fn in_memory() -> Result<FileSession, SessionError> {
        FileSession::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(conn: Connection) -> Result<FileSession, SessionError> {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version == 0 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE dc_home (dc_id INTEGER NOT NULL PRIMARY KEY);
                 CREATE TABLE dc_option (dc_id INTEGER NOT NULL PRIMARY KEY, ipv4 TEXT NOT NULL,
                                         ipv6 TEXT NOT NULL, auth_key BLOB);
                 CREATE TABLE peer_info (peer_id INTEGER NOT NULL PRIMARY KEY, hash INTEGER,
                                         subtype INTEGER);
                 CREATE TABLE update_state (pts INTEGER NOT NULL, qts INTEGER NOT NULL,
                                            date INTEGER NOT NULL, seq INTEGER NOT NULL);
                 CREATE TABLE channel_state (peer_id INTEGER NOT NULL PRIMARY KEY,
                                             pts INTEGER NOT NULL);
                 PRAGMA user_version = 1;
                 COMMIT;",
            )?;
        } else if version != VERSION {
            return Err(SessionError::Sql(rusqlite::Error::InvalidParameterName(
                format!("unknown session schema version {version}"),
            )));
        }
        let defaults = SessionData::default();
        let home_dc = conn
            .query_row("SELECT dc_id FROM dc_home LIMIT 1", [], |row| row.get(0))
            .optional()?
            .unwrap_or(defaults.home_dc);
        let mut dc_options = HashMap::new();
        {
            let mut stmt = conn.prepare("SELECT dc_id, ipv4, ipv6, auth_key FROM dc_option")?;
            let rows = stmt.query_map([], |row| {
                Ok((
                    row.get::<_, i32>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })?;
            for row in rows {
                let (id, ipv4, ipv6, key) = row?;
                let auth_key = match key {
                    None => None,
                    Some(key) => Some(
                        <[u8; 256]>::try_from(key.as_slice())
                            .map_err(|_| SessionError::AuthKeyLength(key.len()))?,
                    ),
                };
                dc_options.insert(
                    id,
                    DcOption {
                        id,
                        ipv4: ipv4.parse()?,
                        ipv6: ipv6.parse()?,
                        auth_key,
                    },
                );
            }
        }
        Ok(FileSession {
            db: Mutex::new(conn),
            cache: Mutex::new(Cache {
                home_dc,
                dc_options,
            }),
            defaults,
        })
    }

    fn db(&self) -> Result<std::sync::MutexGuard<'_, Connection>, SessionError> {
        self.db.lock().map_err(|_| SessionError::Poisoned)
    }

    fn cache(&self) -> Result<std::sync::MutexGuard<'_, Cache>, SessionError> {
        self.cache.lock().map_err(|_| SessionError::Poisoned)
    }

    /// Points a fresh session at Telegram's test servers (DC 2), for the manual end-to-end run.
    /// The first `help.getConfig` then stores the test addresses of the other DCs.
    pub fn point_at_test_dc(&self) -> Result<(), SessionError> {
        let mut dc = self
            .defaults
            .dc_options
            .get(&2)
            .cloned()
            .ok_or(SessionError::Poisoned)?;
        dc.ipv4 = "149.154.167.40:443".parse()?;
        dc.auth_key = None;
        {
            let mut cache = self.cache()?;
            cache.home_dc = 2;
            cache.dc_options.insert(2, dc.clone());
        }
        let db = self.db()?;
        db.execute("DELETE FROM dc_home", [])?;
        db.execute("INSERT INTO dc_home (dc_id) VALUES (2)", [])?;
        db.execute(
            "INSERT OR REPLACE INTO dc_option (dc_id, ipv4, ipv6, auth_key) VALUES (2, ?1, ?2, NULL)",
            params![dc.ipv4.to_string(), dc.ipv6.to_string()],
        )?;
        Ok(())
    }

    /// True when the session holds a logged-in account (the self user is cached at sign-in).
    pub fn has_self_user(&self) -> Result<bool, SessionError> {
        Ok(self.load_peer(PeerId::self_user())?.is_some())
    }

    /// The logged-in account's own user id, cached at sign-in.
    pub fn self_user_id(&self) -> Result<Option<i64>, SessionError> {
        Ok(match self.load_peer(PeerId::self_user())? {
            Some(PeerInfo::User { id, .. }) => Some(id),
            _ => None,
        })
    }

    fn load_peer(&self, peer: PeerId) -> Result<Option<PeerInfo>, SessionError> {
        let db = self.db()?;
        let map_row = |row: &rusqlite::Row<'_>| -> rusqlite::Result<PeerInfo> {
            let stored_id: i64 = row.get(0)?;
            let auth = row.get::<_, Option<i64>>(1)?.map(PeerAuth::from_hash);
            let subtype = row.get::<_, Option<i64>>(2)?.map(|s| s as u8);
            Ok(match peer.kind() {
                PeerKind::User => PeerInfo::User {
                    id: stored_id,
                    auth,
                    bot: subtype.map(|s| s & PeerSubtype::UserBot as u8 != 0),
                    is_self: subtype.map(|s| s & PeerSubtype::UserSelf as u8 != 0),
                },
                PeerKind::Chat => PeerInfo::Chat {
                    id: peer.bare_id_unchecked(),
                },
                PeerKind::Channel => PeerInfo::Channel {
                    id: peer.bare_id_unchecked(),
                    auth,
                    kind: subtype.and_then(channel_kind),
                },
            })
        };
        let found = match peer.bot_api_dialog_id() {
            Some(dialog_id) => db
                .query_row(
                    "SELECT peer_id, hash, subtype FROM peer_info WHERE peer_id = ?1",
                    params![dialog_id],
                    map_row,
                )
                .optional()?,
            None => db
                .query_row(
                    "SELECT peer_id, hash, subtype FROM peer_info WHERE subtype & ?1 LIMIT 1",
                    params![PeerSubtype::UserSelf as i64],
                    map_row,
                )
                .optional()?,
        };
        Ok(found)
    }

    fn store_peers(&self, peers: Vec<PeerInfo>) -> Result<(), SessionError> {
        let mut merged = Vec::with_capacity(peers.len());
        for peer in peers {
            merged.push(match self.load_peer(peer.id())? {
                // Keep what we knew when the new sighting carries less (a "min" peer).
                Some(mut known) => {
                    known.extend_info(&peer);
                    known
                }
                None => peer,
            });
        }
        let mut db = self.db()?;
        let tx = db.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO peer_info (peer_id, hash, subtype) VALUES (?1, ?2, ?3)",
            )?;
            for peer in merged {
                stmt.execute(params![
                    peer.id().bot_api_dialog_id_unchecked(),
                    peer.auth().map(|a| a.hash()),
                    peer_subtype(&peer),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn store_update_state(&self, update: UpdateState) -> Result<(), SessionError> {
        let mut db = self.db()?;
        let tx = db.transaction()?;
        let has_row = |tx: &rusqlite::Transaction<'_>| -> rusqlite::Result<bool> {
            tx.query_row("SELECT count(*) FROM update_state", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n > 0)
        };
        match update {
            UpdateState::All(state) => {
                tx.execute("DELETE FROM update_state", [])?;
                tx.execute(
                    "INSERT INTO update_state (pts, qts, date, seq) VALUES (?1, ?2, ?3, ?4)",
                    params![state.pts, state.qts, state.date, state.seq],
                )?;
                tx.execute("DELETE FROM channel_state", [])?;
                for channel in state.channels {
                    tx.execute(
                        "INSERT INTO channel_state (peer_id, pts) VALUES (?1, ?2)",
                        params![channel.id, channel.pts],
                    )?;
                }
            }
            UpdateState::Primary { pts, date, seq } => {
                if has_row(&tx)? {
                    tx.execute(
                        "UPDATE update_state SET pts = ?1, date = ?2, seq = ?3",
                        params![pts, date, seq],
                    )?;
                } else {
                    tx.execute(
                        "INSERT INTO update_state (pts, qts, date, seq) VALUES (?1, 0, ?2, ?3)",
                        params![pts, date, seq],
                    )?;
                }
            }
            UpdateState::Secondary { qts } => {
                if has_row(&tx)? {
                    tx.execute("UPDATE update_state SET qts = ?1", params![qts])?;
                } else {
                    tx.execute(
                        "INSERT INTO update_state (pts, qts, date, seq) VALUES (0, ?1, 0, 0)",
                        params![qts],
                    )?;
                }
            }
            UpdateState::Channel { id, pts } => {
                tx.execute(
                    "INSERT OR REPLACE INTO channel_state (peer_id, pts) VALUES (?1, ?2)",
                    params![id, pts],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn load_update_state(&self) -> Result<UpdatesState, SessionError> {
        let db = self.db()?;
        let mut state = db
            .query_row(
                "SELECT pts, qts, date, seq FROM update_state LIMIT 1",
                [],
                |row| {
                    Ok(UpdatesState {
                        pts: row.get(0)?,
                        qts: row.get(1)?,
                        date: row.get(2)?,
                        seq: row.get(3)?,
                        channels: Vec::new(),
                    })
                },
            )
            .optional()?
            .unwrap_or_default();
        let mut stmt = db.prepare("SELECT peer_id, pts FROM channel_state ORDER BY rowid")?;
        state.channels = stmt
            .query_map([], |row| {
                Ok(ChannelState {
                    id: row.get(0)?,
                    pts: row.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(state)
    }
}

fn channel_kind(subtype: u8) -> Option<ChannelKind> {
    let gigagroup = PeerSubtype::Gigagroup as u8;
    if subtype & PeerSubtype::Community as u8 != 0 {
        Some(ChannelKind::Community)
    } else if subtype & gigagroup == gigagroup {
        Some(ChannelKind::Gigagroup)
    } else if subtype & PeerSubtype::Broadcast as u8 != 0 {
        Some(ChannelKind::Broadcast)
    } else if subtype & PeerSubtype::Megagroup as u8 != 0 {
        Some(ChannelKind::Megagroup)
    } else {
        None
    }
}

fn peer_subtype(peer: &PeerInfo) -> Option<i64> {
    let bits = match peer {
        PeerInfo::User { bot, is_self, .. } => {
            let mut bits = 0;
            if bot.unwrap_or_default() {
                bits |= PeerSubtype::UserBot as u8;
            }
            if is_self.unwrap_or_default() {
                bits |= PeerSubtype::UserSelf as u8;
            }
            if bot.is_none() && is_self.is_none() {
                return None;
            }
            return Some(i64::from(bits));
        }
        PeerInfo::Chat { .. } => 0,
        PeerInfo::Channel { kind, .. } => match kind {
            Some(ChannelKind::Megagroup) => PeerSubtype::Megagroup as u8,
            Some(ChannelKind::Broadcast) => PeerSubtype::Broadcast as u8,
            Some(ChannelKind::Gigagroup) => PeerSubtype::Gigagroup as u8,
            Some(ChannelKind::Community) => PeerSubtype::Community as u8,
            None => 0,
        },
    };
    (bits != 0).then_some(i64::from(bits))
}

impl Session for FileSession {
    type Error = SessionError;

    fn home_dc_id(&self) -> Result<i32, SessionError> {
        Ok(self.cache()?.home_dc)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            self.cache()?.home_dc = dc_id;
            let mut db = self.db()?;
            let tx = db.transaction()?;
            tx.execute("DELETE FROM dc_home", [])?;
            tx.execute("INSERT INTO dc_home (dc_id) VALUES (?1)", params![dc_id])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, SessionError> {
        Ok(self
            .cache()?
            .dc_options
            .get(&dc_id)
            .or_else(|| self.defaults.dc_options.get(&dc_id))
            .cloned())
    }

    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), SessionError>> {
        let dc_option = dc_option.clone();
        Box::pin(async move {
            self.cache()?
                .dc_options
                .insert(dc_option.id, dc_option.clone());
            self.db()?.execute(
                "INSERT OR REPLACE INTO dc_option (dc_id, ipv4, ipv6, auth_key) VALUES (?1, ?2, ?3, ?4)",
                params![
                    dc_option.id,
                    dc_option.ipv4.to_string(),
                    dc_option.ipv6.to_string(),
                    dc_option.auth_key.map(|k| k.to_vec()),
                ],
            )?;
            Ok(())
        })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, SessionError>> {
        Box::pin(async move { self.load_peer(peer) })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move { self.store_peers(vec![peer]) })
    }

    fn cache_peers(&self, peers: Vec<PeerInfo>) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move { self.store_peers(peers) })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, SessionError>> {
        Box::pin(async move { self.load_update_state() })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move { self.store_update_state(update) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn every_stored_field_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.session");
        let dc = DcOption {
            id: 7,
            ipv4: SocketAddrV4::new(Ipv4Addr::new(149, 154, 167, 40), 443),
            ipv6: SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 0, 0),
            auth_key: Some([42; 256]),
        };
        let peers = vec![
            PeerInfo::User {
                id: 11,
                auth: Some(PeerAuth::from_hash(-5)),
                bot: Some(false),
                is_self: Some(true),
            },
            PeerInfo::User {
                id: 12,
                auth: Some(PeerAuth::from_hash(99)),
                bot: Some(true),
                is_self: Some(false),
            },
            PeerInfo::Chat { id: 13 },
            PeerInfo::Channel {
                id: 14,
                auth: Some(PeerAuth::from_hash(i64::MIN)),
                kind: Some(ChannelKind::Megagroup),
            },
            PeerInfo::Channel {
                id: 15,
                auth: None,
                kind: Some(ChannelKind::Gigagroup),
            },
            PeerInfo::Channel {
                id: 16,
                auth: Some(PeerAuth::from_hash(1)),
                kind: Some(ChannelKind::Broadcast),
            },
        ];
        {
            let s = FileSession::open(&path).unwrap();
            assert_eq!(s.home_dc_id().unwrap(), SessionData::default().home_dc);
            assert!(!s.has_self_user().unwrap());
            block_on(async {
                s.set_home_dc_id(4).await.unwrap();
                s.set_dc_option(&dc).await.unwrap();
                s.cache_peers(peers.clone()).await.unwrap();
                s.set_update_state(UpdateState::All(UpdatesState {
                    pts: 1,
                    qts: 2,
                    date: 3,
                    seq: 4,
                    channels: vec![
                        ChannelState { id: 14, pts: 6 },
                        ChannelState { id: 16, pts: 8 },
                    ],
                }))
                .await
                .unwrap();
                s.set_update_state(UpdateState::Primary {
                    pts: 20,
                    date: 21,
                    seq: 22,
                })
                .await
                .unwrap();
                s.set_update_state(UpdateState::Secondary { qts: 30 })
                    .await
                    .unwrap();
                s.set_update_state(UpdateState::Channel { id: 16, pts: 9 })
                    .await
                    .unwrap();
            });
        }
        let s = FileSession::open(&path).unwrap();
        assert_eq!(s.home_dc_id().unwrap(), 4);
        assert_eq!(s.dc_option(7).unwrap(), Some(dc));
        // Statically known DCs still answer when never stored.
        assert!(s.dc_option(1).unwrap().is_some());
        assert!(s.has_self_user().unwrap());
        block_on(async {
            for peer in &peers {
                assert_eq!(s.peer(peer.id()).await.unwrap().as_ref(), Some(peer));
            }
            assert_eq!(
                s.peer(PeerId::self_user()).await.unwrap(),
                Some(peers[0].clone())
            );
            // A "min" sighting without a hash keeps the known hash.
            s.cache_peer(PeerInfo::Channel {
                id: 14,
                auth: None,
                kind: None,
            })
            .await
            .unwrap();
            assert_eq!(s.peer(peers[3].id()).await.unwrap(), Some(peers[3].clone()));
            assert_eq!(
                s.updates_state().await.unwrap(),
                UpdatesState {
                    pts: 20,
                    qts: 30,
                    date: 21,
                    seq: 22,
                    channels: vec![
                        ChannelState { id: 14, pts: 6 },
                        ChannelState { id: 16, pts: 9 },
                    ],
                }
            );
        });
    }

    #[cfg(unix)]
    #[test]
    fn session_files_are_private_and_open_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.session");
        drop(FileSession::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = FileSession::open(&path).unwrap_err();
        assert!(
            matches!(err, SessionError::TooOpen { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn test_dc_switch_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.session");
        FileSession::open(&path)
            .unwrap()
            .point_at_test_dc()
            .unwrap();
        let s = FileSession::open(&path).unwrap();
        assert_eq!(s.home_dc_id().unwrap(), 2);
        let dc = s.dc_option(2).unwrap().unwrap();
        assert_eq!(dc.ipv4.to_string(), "149.154.167.40:443");
        assert!(dc.auth_key.is_none());
    }

    #[test]
    fn debug_output_hides_the_auth_key() {
        let s = FileSession::in_memory().unwrap();
        block_on(s.set_dc_option(&DcOption {
            id: 2,
            ipv4: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1),
            ipv6: SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 0, 0),
            auth_key: Some([7; 256]),
        }))
        .unwrap();
        assert_eq!(format!("{s:?}"), "FileSession { .. }");
    }
}
