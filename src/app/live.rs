//! What the runtime (the thread that owns the pipeline) publishes for the console: everything
//! that is not paged from the store, already in the console's view-model form. The console
//! thread reads it under a short lock; `version` tells it when to redraw.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use warden_ui::{
    AlertRow, ClusterId, ClusterRow, ClusterView, RuleRow, StatsView, StatusView, UserId,
    UserbotView,
};

#[derive(Debug, Clone, Default)]
pub struct LiveView {
    /// Bumped on every publish; the console redraws when it changes.
    pub version: u64,
    /// Running in the demo (simulated community, its own database).
    pub demo: bool,
    pub status: StatusView,
    /// Newest last.
    pub alerts: Vec<AlertRow>,
    /// Highest score first.
    pub clusters: Vec<ClusterRow>,
    /// Laid out off the console thread.
    pub cluster_views: HashMap<ClusterId, ClusterView>,
    pub stats: StatsView,
    /// By priority, with live hit counters.
    pub rules: Vec<RuleRow>,
    /// Store row id of the newest flagged message (the feed's freeze anchor and change marker).
    pub newest_flagged: u64,
    /// A user account is connected: the Investigator can ask it about users.
    pub user_account: bool,
    /// What the user account found about users the Investigator opened.
    pub userbot: HashMap<UserId, UserbotView>,
    /// An account was just logged in from the console: the console reconnects to bring it in.
    pub reconnect: bool,
}

/// Shared handle to the published view.
#[derive(Debug, Clone, Default)]
pub struct SharedView(Arc<Mutex<LiveView>>);

impl SharedView {
    pub fn new(view: LiveView) -> SharedView {
        SharedView(Arc::new(Mutex::new(view)))
    }

    /// A poisoned lock (a panicking runtime) still yields the last published view.
    pub fn lock(&self) -> MutexGuard<'_, LiveView> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// Replaces the view and bumps the version.
    pub fn publish(&self, mut view: LiveView) {
        let mut guard = self.lock();
        view.version = guard.version + 1;
        *guard = view;
    }
}

/// Messages from the console to the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum ToRuntime {
    /// A moderator's command, already confirmed in the console.
    Command(warden_ui::Command),
    /// Demo only: pause or resume the simulated community.
    TogglePause,
    Quit,
}

/// Messages from the runtime to the console: results of commands, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

impl Notice {
    /// A result in words: the text, or the error with its causes.
    pub fn from_result(result: anyhow::Result<String>) -> Notice {
        match result {
            Ok(text) => Notice {
                text,
                is_error: false,
            },
            Err(err) => Notice {
                text: format!("{err:#}"),
                is_error: true,
            },
        }
    }
}
