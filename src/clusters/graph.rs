//! The incremental cluster graph: feature buckets find candidate pairs, evidence accumulates on
//! edges, linking edges feed a union-find whose components are clusters. Deletions (eviction,
//! false links, whitelisting) rebuild only the affected component.

use super::features::{self, LinkFeature, NameFeature};
use super::{
    Cluster, ClusterConfig, ClusterEdge, ClusterId, ClusterSummary, ClusterUpdate, Evidence,
    EvidenceKind, score, text,
};
use crate::model::{Event, JoinKind, Message, Person, Timestamp, UserId};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

// The graph's keys are integers (user ids, slots, feature hashes): foldhash is far cheaper than
// SipHash on this per-event path and still seeded per process.
type FastMap<K, V> = foldhash::HashMap<K, V>;
type FastSet<K> = foldhash::HashSet<K>;

/// Keys filed by the sweep interval of their last activity, so a sweep looks only at what may
/// have expired instead of every node, edge and bucket. A key still alive when taken is filed
/// again under its newer time; a key filed twice (re-created after eviction) is harmless.
#[derive(Debug)]
struct ExpiryQueue<K> {
    bin_secs: i64,
    bins: BTreeMap<i64, Vec<K>>,
}

impl<K> ExpiryQueue<K> {
    fn new(bin_secs: i64) -> Self {
        ExpiryQueue {
            bin_secs: bin_secs.max(1),
            bins: BTreeMap::new(),
        }
    }

    fn push(&mut self, at: Timestamp, key: K) {
        self.bins
            .entry(at.div_euclid(self.bin_secs))
            .or_default()
            .push(key);
    }

    /// Every key filed in a bin that starts before `cutoff`, removed from the queue.
    fn take_before(&mut self, cutoff: Timestamp) -> Vec<K> {
        let last = cutoff.div_euclid(self.bin_secs);
        let mut out = Vec::new();
        while let Some(bin) = self.bins.first_entry() {
            if *bin.key() > last {
                break;
            }
            out.extend(bin.remove());
        }
        out
    }
}

/// Recent text signatures kept per user for near-duplicate checks.
const TEXTS_PER_USER: usize = 4;

#[derive(Debug)]
struct Node {
    user: UserId,
    first_seen: Timestamp,
    last_seen: Timestamp,
    name: Option<NameFeature>,
    texts: VecDeque<text::Signature>,
    adj: Vec<u32>,
}

#[derive(Debug)]
struct EdgeData {
    evidence: Vec<Evidence>,
    last_at: Timestamp,
    linking: bool,
}

/// Recent holders of one feature value, and how many distinct users have held it while the
/// bucket lived (an over-estimate when holders rotate out of `recent`; popular either way).
#[derive(Debug, Default)]
struct Bucket {
    /// (when, user, the user's slot then); the slot is checked against the user before use.
    recent: VecDeque<(Timestamp, UserId, u32)>,
    holders: u32,
}

/// Feature namespaces, so a name and a link with the same text never share a bucket.
#[derive(Clone, Copy)]
enum Space {
    Text = 1,
    Link,
    Domain,
    Invite,
    Name,
    BioLink,
    Avatar,
}

fn feature_key(space: Space, value: &str) -> u64 {
    text::key_of(value) ^ (space as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn pair(a: UserId, b: UserId) -> (UserId, UserId) {
    if a < b { (a, b) } else { (b, a) }
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Total weight (the strongest of each family), the number of families strong enough to
/// corroborate, and the strongest family.
fn strength(evidence: &[Evidence], corroborating: f64) -> (f64, usize, f64) {
    // An edge holds at most one piece of evidence per kind, so at most one family per kind.
    let mut seen = [(0u8, 0.0f64); 8];
    let mut len = 0;
    for e in evidence {
        let family = e.kind.family();
        match seen[..len].iter_mut().find(|(f, _)| *f == family) {
            Some((_, w)) => *w = w.max(e.weight),
            None if len < 8 => {
                seen[len] = (family, e.weight);
                len += 1;
            }
            None => {}
        }
    }
    let families = &seen[..len];
    let total = families.iter().map(|(_, w)| w).sum();
    let strongest = families.iter().map(|(_, w)| *w).fold(0.0, f64::max);
    let kinds = families
        .iter()
        .filter(|(_, w)| *w + 1e-9 >= corroborating)
        .count();
    (total, kinds, strongest)
}

/// Multi-account cluster detector. See the module docs.
#[derive(Debug)]
pub struct ClusterGraph {
    config: ClusterConfig,
    common: HashSet<String>,
    now: Timestamp,
    next_sweep: Option<Timestamp>,
    /// The last sweep's cutoff: bucket entries older than it are ignored until pruned.
    horizon: Timestamp,
    slots: Vec<Option<Node>>,
    free: Vec<u32>,
    by_user: FastMap<UserId, u32>,
    ids: BTreeSet<UserId>,
    edges: FastMap<(UserId, UserId), EdgeData>,
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    /// Per root: the slot of the earliest-seen member, whose user id names the cluster.
    oldest: Vec<u32>,
    multi_roots: FastSet<u32>,
    buckets: FastMap<u64, Bucket>,
    whitelist: FastSet<UserId>,
    blocked: FastSet<(UserId, UserId)>,
    /// Eviction queues, earliest first: (time when queued, key). An entry is checked when its
    /// time falls behind the cutoff and queued again with the current time if still alive, so
    /// a sweep touches only what may have expired instead of every node, edge and bucket.
    node_queue: ExpiryQueue<(u32, UserId)>,
    edge_queue: ExpiryQueue<(UserId, UserId)>,
    bucket_queue: ExpiryQueue<u64>,
    /// Reused candidate list (slot, similarity) so an event allocates nothing for it.
    scratch: Vec<(u32, f64)>,
}

impl ClusterGraph {
    pub fn new(config: ClusterConfig) -> Self {
        let common = config
            .common_domains
            .iter()
            .map(|d| d.trim().to_lowercase())
            .collect();
        let sweep_secs = config.evict_every_secs;
        ClusterGraph {
            config,
            common,
            now: Timestamp::MIN,
            next_sweep: None,
            horizon: Timestamp::MIN,
            slots: Vec::new(),
            free: Vec::new(),
            by_user: FastMap::default(),
            ids: BTreeSet::new(),
            edges: FastMap::default(),
            parent: Vec::new(),
            members: Vec::new(),
            oldest: Vec::new(),
            multi_roots: FastSet::default(),
            buckets: FastMap::default(),
            whitelist: FastSet::default(),
            blocked: FastSet::default(),
            node_queue: ExpiryQueue::new(sweep_secs),
            edge_queue: ExpiryQueue::new(sweep_secs),
            bucket_queue: ExpiryQueue::new(sweep_secs),
            scratch: Vec::new(),
        }
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Users currently known (inside the window).
    pub fn user_count(&self) -> usize {
        self.by_user.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Feed one event. `Some` when it grew the user's cluster (persist it, refresh the console).
    pub fn on_event(&mut self, event: &Event) -> Option<ClusterUpdate> {
        match event {
            Event::Message(m) | Event::Edited(m) => {
                if m.from.is_bot || m.sender_chat.is_some() {
                    return None;
                }
                self.observe_message(m)
            }
            Event::Joined {
                user, date, how, ..
            } => {
                if user.is_bot {
                    return None;
                }
                self.observe_join(user, how, *date)
            }
            _ => None,
        }
    }

    /// What the user account can see of a profile: names and bio links.
    pub fn observe_profile(&mut self, person: &Person, now: Timestamp) -> Option<ClusterUpdate> {
        let (slot, before) = self.begin(person.id, now)?;
        self.observe_name(slot, person);
        if let Some(bio) = &person.bio {
            for link in features::text_links(bio) {
                let (weight, value) = if self.is_common(&link) {
                    (self.config.weights.same_common_link, &link.link)
                } else {
                    (self.config.weights.same_bio_link, &link.link)
                };
                self.feature(
                    slot,
                    Space::BioLink,
                    value,
                    EvidenceKind::SameBioLink,
                    weight,
                    &|_: &Self| format!("same link in bio: {}", short(value, 60)),
                    None,
                );
            }
        }
        self.finish(slot, before)
    }

    /// A profile photo hash (e.g. from the user account); identical photos are strong evidence.
    pub fn observe_avatar(
        &mut self,
        user: UserId,
        hash: u64,
        now: Timestamp,
    ) -> Option<ClusterUpdate> {
        let (slot, before) = self.begin(user, now)?;
        self.observe_avatar_hash(slot, hash);
        self.finish(slot, before)
    }

    fn observe_avatar_hash(&mut self, slot: u32, hash: u64) {
        let weight = self.config.weights.same_avatar;
        self.feature(
            slot,
            Space::Avatar,
            &hash.to_string(),
            EvidenceKind::SameAvatar,
            weight,
            &|_: &Self| "same profile photo".to_string(),
            None,
        );
    }

    fn observe_message(&mut self, message: &Message) -> Option<ClusterUpdate> {
        let (slot, before) = self.begin(message.from.id, message.date)?;
        self.observe_name(slot, &message.from);
        self.observe_text(slot, &message.text);
        for link in features::message_links(message) {
            self.observe_link(slot, &link);
        }
        self.finish(slot, before)
    }

    fn observe_join(
        &mut self,
        user: &Person,
        how: &JoinKind,
        date: Timestamp,
    ) -> Option<ClusterUpdate> {
        let (slot, before) = self.begin(user.id, date)?;
        self.observe_name(slot, user);
        let weight = self.config.weights.same_invite;
        let since = Some(self.now - self.config.invite_join_secs);
        match how {
            JoinKind::InviteLink { link, .. } => {
                self.feature(
                    slot,
                    Space::Invite,
                    link,
                    EvidenceKind::SameInvite,
                    weight,
                    &|g: &Self| {
                        format!(
                            "joined via {} within {} s",
                            short(link, 40),
                            g.config.invite_join_secs
                        )
                    },
                    since,
                );
            }
            JoinKind::AddedBy { by } => {
                let key = format!("added_by:{by}");
                self.feature(
                    slot,
                    Space::Invite,
                    &key,
                    EvidenceKind::SameInvite,
                    weight,
                    &|g: &Self| format!("added by {by} within {} s", g.config.invite_join_secs),
                    since,
                );
            }
            JoinKind::Direct | JoinKind::Request { .. } => {}
        }
        self.finish(slot, before)
    }

    /// A chat's member list, read by the user account with Telegram's join dates: members who
    /// joined within `listed_join_secs` of each other (however long ago) are evidence, as are their
    /// names, photos and ids. Returns the clusters that grew.
    pub fn observe_member_list(
        &mut self,
        members: &[(Person, Timestamp)],
        now: Timestamp,
    ) -> Vec<ClusterUpdate> {
        let mut listed: Vec<&(Person, Timestamp)> =
            members.iter().filter(|(p, _)| !p.is_bot).collect();
        listed.sort_unstable_by_key(|(p, joined)| (*joined, p.id));
        let mut updates = Vec::new();
        let mut slots = Vec::with_capacity(listed.len());
        for (person, _) in &listed {
            let slot = self.begin(person.id, now).map(|(slot, before)| {
                self.observe_name(slot, person);
                updates.extend(self.finish(slot, before));
                slot
            });
            slots.push(slot);
        }
        let window = self.config.listed_join_secs;
        let weight = self.config.weights.same_invite;
        for (i, (_, joined)) in listed.iter().enumerate() {
            let Some(slot) = slots[i] else { continue };
            let before = self.members[self.find(slot) as usize].len();
            let neighbours = listed[i + 1..]
                .iter()
                .zip(&slots[i + 1..])
                .take_while(|((_, other), _)| other - joined <= window)
                .take(self.config.fanout);
            for ((_, other), other_slot) in neighbours {
                let Some(other_slot) = *other_slot else {
                    continue;
                };
                let gap = other - joined;
                self.add_evidence(
                    slot,
                    other_slot,
                    EvidenceKind::SameInvite,
                    weight,
                    &|_: &Self| format!("joined {gap} s apart (member list)"),
                );
            }
            updates.extend(self.finish(slot, before));
        }
        updates
    }

    /// Whitelist a user: their edges go and they are never linked again.
    pub fn whitelist(&mut self, user: UserId) {
        self.whitelist.insert(user);
        if let Some(&slot) = self.by_user.get(&user) {
            let component = self.component_slots(slot);
            self.drop_edges(slot);
            self.rebuild(component);
        }
    }

    pub fn unwhitelist(&mut self, user: UserId) {
        self.whitelist.remove(&user);
    }

    pub fn is_whitelisted(&self, user: UserId) -> bool {
        self.whitelist.contains(&user)
    }

    /// A false link: take `user` out of its cluster, drop its edges and never link it to the
    /// cluster's current members again. Returns false when the user is not in a cluster.
    pub fn remove_member(&mut self, user: UserId) -> bool {
        let Some(&slot) = self.by_user.get(&user) else {
            return false;
        };
        let component = self.component_slots(slot);
        if component.len() < 2 {
            return false;
        }
        for &other in &component {
            if other != slot
                && let Some(node) = &self.slots[other as usize]
            {
                self.blocked.insert(pair(user, node.user));
            }
        }
        self.drop_edges(slot);
        self.rebuild(component);
        true
    }

    /// Size of the user's cluster: 1 alone, 0 when unknown. For the `cluster_size_gte` rule.
    pub fn cluster_size(&self, user: UserId) -> usize {
        self.by_user
            .get(&user)
            .map_or(0, |&slot| self.members[self.find(slot) as usize].len())
    }

    /// The user's cluster, when they are linked to anybody.
    pub fn cluster_of(&self, user: UserId) -> Option<Cluster> {
        let &slot = self.by_user.get(&user)?;
        let root = self.find(slot);
        (self.members[root as usize].len() >= 2).then(|| self.build_cluster(root))
    }

    pub fn cluster_id_of(&self, user: UserId) -> Option<ClusterId> {
        let &slot = self.by_user.get(&user)?;
        let root = self.find(slot);
        (self.members[root as usize].len() >= 2).then(|| self.cluster_id(root))
    }

    /// A cluster by id; `None` when the id went stale (merged, evicted).
    pub fn cluster(&self, id: ClusterId) -> Option<Cluster> {
        self.cluster_of(id).filter(|c| c.id == id)
    }

    pub fn members(&self, id: ClusterId) -> Vec<UserId> {
        self.cluster(id).map(|c| c.members).unwrap_or_default()
    }

    /// Clusters of at least `min_cluster_size`, best score first.
    pub fn clusters(&self) -> Vec<ClusterSummary> {
        let mut out: Vec<ClusterSummary> = self
            .multi_roots
            .iter()
            .filter(|&&root| self.members[root as usize].len() >= self.config.min_cluster_size)
            .map(|&root| self.build_cluster(root).summary())
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        out
    }

    /// Every edge of a user, linking or not.
    pub fn edges_of(&self, user: UserId) -> Vec<ClusterEdge> {
        let Some(&slot) = self.by_user.get(&user) else {
            return Vec::new();
        };
        let Some(node) = &self.slots[slot as usize] else {
            return Vec::new();
        };
        let mut out: Vec<ClusterEdge> = node
            .adj
            .iter()
            .filter_map(|&n| self.edge_view(user, self.user_of(n)?))
            .collect();
        out.sort_by_key(|e| (e.a, e.b));
        out
    }

    /// Forget users and edges not seen since `cutoff`. Runs by itself every `evict_every_secs`.
    pub fn evict_older_than(&mut self, cutoff: Timestamp) {
        self.horizon = self.horizon.max(cutoff);
        let mut stale_edges: Vec<(UserId, UserId)> = Vec::new();
        for key in self.edge_queue.take_before(cutoff) {
            match self.edges.get(&key) {
                Some(edge) if edge.last_at < cutoff => stale_edges.push(key),
                Some(edge) => self.edge_queue.push(edge.last_at, key),
                None => {}
            }
        }
        let mut stale_nodes: Vec<u32> = Vec::new();
        for (slot, user) in self.node_queue.take_before(cutoff) {
            match &self.slots[slot as usize] {
                Some(node) if node.user == user && node.last_seen < cutoff => {
                    stale_nodes.push(slot)
                }
                Some(node) if node.user == user => {
                    let last_seen = node.last_seen;
                    self.node_queue.push(last_seen, (slot, user));
                }
                _ => {}
            }
        }
        // A key re-created after an earlier eviction can be queued twice.
        stale_edges.sort_unstable();
        stale_edges.dedup();
        stale_nodes.sort_unstable();
        stale_nodes.dedup();
        let mut affected: FastSet<u32> = FastSet::default();
        for (a, b) in &stale_edges {
            for user in [a, b] {
                if let Some(&slot) = self.by_user.get(user) {
                    affected.insert(self.find(slot));
                }
            }
        }
        for &slot in &stale_nodes {
            affected.insert(self.find(slot));
        }
        let components: Vec<Vec<u32>> = affected
            .into_iter()
            .filter(|&root| self.members[root as usize].len() >= 2)
            .map(|root| self.members[root as usize].clone())
            .collect();
        for key in stale_edges {
            self.remove_edge(key);
        }
        for &slot in &stale_nodes {
            self.drop_edges(slot);
            if let Some(node) = self.slots[slot as usize].take() {
                self.by_user.remove(&node.user);
                self.ids.remove(&node.user);
            }
            self.free.push(slot);
        }
        for component in components {
            let alive: Vec<u32> = component
                .into_iter()
                .filter(|&s| self.slots[s as usize].is_some())
                .collect();
            self.rebuild(alive);
        }
        for &slot in &stale_nodes {
            self.multi_roots.remove(&slot);
            self.parent[slot as usize] = slot;
            self.members[slot as usize] = vec![slot];
            self.oldest[slot as usize] = slot;
        }
        // Entries are in time order; evicted users still listed are skipped when linking.
        for key in self.bucket_queue.take_before(cutoff) {
            let Some(bucket) = self.buckets.get_mut(&key) else {
                continue;
            };
            while bucket.recent.front().is_some_and(|(t, _, _)| *t < cutoff) {
                bucket.recent.pop_front();
            }
            match bucket.recent.back() {
                Some(&(last, _, _)) => self.bucket_queue.push(last, key),
                None => {
                    self.buckets.remove(&key);
                }
            }
        }
        tracing::debug!(
            users = self.by_user.len(),
            edges = self.edges.len(),
            "cluster window swept"
        );
    }

    // ---- observation plumbing ----

    /// Touch the user; `None` for whitelisted users (they are never linked).
    fn begin(&mut self, user: UserId, date: Timestamp) -> Option<(u32, usize)> {
        self.now = self.now.max(date);
        self.maybe_sweep();
        if self.whitelist.contains(&user) {
            return None;
        }
        let now = self.now;
        if let Some(&slot) = self.by_user.get(&user) {
            if let Some(node) = self.slots[slot as usize].as_mut() {
                node.last_seen = now;
            }
            let before = self.members[self.find(slot) as usize].len();
            return Some((slot, before));
        }
        let node = Node {
            user,
            first_seen: now,
            last_seen: now,
            name: None,
            texts: VecDeque::new(),
            adj: Vec::new(),
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(node);
                self.parent[slot as usize] = slot;
                self.members[slot as usize] = vec![slot];
                self.oldest[slot as usize] = slot;
                slot
            }
            None => {
                let slot = self.slots.len() as u32;
                self.slots.push(Some(node));
                self.parent.push(slot);
                self.members.push(vec![slot]);
                self.oldest.push(slot);
                slot
            }
        };
        self.by_user.insert(user, slot);
        self.node_queue.push(now, (slot, user));
        self.observe_sequential_id(slot, user);
        self.ids.insert(user);
        Some((slot, 1))
    }

    fn finish(&self, slot: u32, before: usize) -> Option<ClusterUpdate> {
        let root = self.find(slot);
        let size = self.members[root as usize].len();
        let user = self.user_of(slot)?;
        (size > before && size >= self.config.min_cluster_size.max(2)).then(|| ClusterUpdate {
            user,
            cluster: self.cluster_id(root),
            size,
        })
    }

    fn maybe_sweep(&mut self) {
        let now = self.now;
        match self.next_sweep {
            None => self.next_sweep = Some(now + self.config.evict_every_secs),
            Some(at) if now >= at => {
                self.next_sweep = Some(now + self.config.evict_every_secs);
                self.evict_older_than(now - self.config.window_secs);
            }
            Some(_) => {}
        }
    }

    fn user_of(&self, slot: u32) -> Option<UserId> {
        self.slots.get(slot as usize)?.as_ref().map(|n| n.user)
    }

    fn is_common(&self, link: &LinkFeature) -> bool {
        self.common.contains(&link.domain)
            || link
                .link
                .split(['/', '?'])
                .next()
                .is_some_and(|host| self.common.contains(host))
    }

    /// Link to the most recent distinct holders of a feature (newest first), then remember
    /// this user. `detail` is rendered only when evidence is new or stronger.
    #[allow(clippy::too_many_arguments)]
    fn feature<D: Fn(&Self) -> String>(
        &mut self,
        slot: u32,
        space: Space,
        value: &str,
        kind: EvidenceKind,
        weight: f64,
        detail: &D,
        since: Option<Timestamp>,
    ) {
        let key = feature_key(space, value);
        let weight = weight * self.popularity_scale(key);
        let mut found = std::mem::take(&mut self.scratch);
        found.clear();
        found.extend(
            self.holders(key, slot, since)
                .take(self.config.fanout)
                .map(|other| (other, 0.0)),
        );
        for &(other, _) in &found {
            self.add_evidence(slot, other, kind, weight, detail);
        }
        self.scratch = found;
        self.remember(key, slot);
    }

    /// Slots of the live holders of a feature, newest first, other than `slot` itself.
    fn holders(
        &self,
        key: u64,
        slot: u32,
        since: Option<Timestamp>,
    ) -> impl Iterator<Item = u32> + '_ {
        let since = since.map_or(self.horizon, |s| s.max(self.horizon));
        self.buckets
            .get(&key)
            .into_iter()
            .flat_map(|bucket| bucket.recent.iter().rev())
            .take_while(move |(t, _, _)| *t >= since)
            .filter(move |&&(_, user, other)| {
                other != slot
                    && self.slots[other as usize]
                        .as_ref()
                        .is_some_and(|n| n.user == user)
                    && (self.whitelist.is_empty() || !self.whitelist.contains(&user))
            })
            .map(|&(_, _, other)| other)
    }

    fn remember(&mut self, key: u64, slot: u32) {
        let Some(user) = self.user_of(slot) else {
            return;
        };
        let now = self.now;
        let cap = self.config.bucket_cap;
        let bucket = match self.buckets.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.bucket_queue.push(now, key);
                e.insert(Bucket::default())
            }
        };
        match bucket.recent.iter().position(|(_, u, _)| *u == user) {
            Some(pos) => {
                bucket.recent.remove(pos);
            }
            None => bucket.holders = bucket.holders.saturating_add(1),
        }
        bucket.recent.push_back((now, user, slot));
        while bucket.recent.len() > cap {
            bucket.recent.pop_front();
        }
    }

    /// Evidence from a value many users share (a community link, a stock phrase, a public invite
    /// link) is worth less: weights shrink as `popular_holders / holders` beyond that many.
    fn popularity_scale(&self, key: u64) -> f64 {
        let holders = self.buckets.get(&key).map_or(0, |b| b.holders) + 1;
        let popular = self.config.popular_holders.max(1);
        if holders > popular {
            f64::from(popular) / f64::from(holders)
        } else {
            1.0
        }
    }

    fn observe_sequential_id(&mut self, slot: u32, user: UserId) {
        let gap = self.config.sequential_id_gap;
        let fanout = self.config.fanout;
        let below = self
            .ids
            .range(user.saturating_sub(gap)..user)
            .rev()
            .take(fanout);
        let above = self
            .ids
            .range(user.saturating_add(1)..=user.saturating_add(gap))
            .take(fanout);
        let mut near: Vec<UserId> = below.chain(above).copied().collect();
        near.sort_by_key(|other| (other.abs_diff(user), *other));
        near.truncate(fanout);
        for other in near {
            let Some(&other_slot) = self.by_user.get(&other) else {
                continue;
            };
            let delta = other.abs_diff(user);
            let weight = if delta <= self.config.close_id_gap.unsigned_abs() {
                self.config.weights.close_ids
            } else {
                self.config.weights.sequential_ids
            };
            let detail =
                |_: &Self| format!("ids {} / {} (Δ{delta})", other.min(user), other.max(user));
            self.add_evidence(
                slot,
                other_slot,
                EvidenceKind::SequentialIds,
                weight,
                &detail,
            );
        }
    }

    /// Name and, where the source saw one, the profile photo.
    fn observe_name(&mut self, slot: u32, person: &Person) {
        if let Some(hash) = person.avatar_hash {
            self.observe_avatar_hash(slot, hash);
        }
        self.observe_display_name(slot, person);
    }

    fn observe_display_name(&mut self, slot: u32, person: &Person) {
        let Some(name) = features::name_feature(&person.display_name()) else {
            return;
        };
        let Some(node) = self.slots[slot as usize].as_mut() else {
            return;
        };
        if node.name.as_ref() == Some(&name) {
            return;
        }
        node.name = Some(name.clone());
        let prefix: String = name.stem.chars().take(3).collect();
        let key = feature_key(Space::Name, &prefix);
        let mut similar = std::mem::take(&mut self.scratch);
        similar.clear();
        for other in self.holders(key, slot, None) {
            if similar.len() >= self.config.fanout {
                break;
            }
            let Some(theirs) = self.slots[other as usize]
                .as_ref()
                .and_then(|n| n.name.as_ref())
            else {
                continue;
            };
            let alike = theirs.stem == name.stem
                || strsim::jaro_winkler(&name.stem, &theirs.stem) >= self.config.name_similarity;
            if !alike {
                continue;
            }
            let weight = if name.has_digits && theirs.has_digits {
                self.config.weights.name_pattern
            } else {
                self.config.weights.same_name
            };
            similar.push((other, weight));
        }
        for &(other, weight) in &similar {
            let detail = |g: &Self| {
                let theirs = g.slots[other as usize]
                    .as_ref()
                    .and_then(|n| n.name.as_ref())
                    .map_or("", |n| n.shown.as_str());
                format!("names “{theirs}” ~ “{}”", name.shown)
            };
            self.add_evidence(slot, other, EvidenceKind::SimilarName, weight, &detail);
        }
        self.scratch = similar;
        self.remember(key, slot);
    }

    fn observe_text(&mut self, slot: u32, body: &str) {
        let normalised = text::normalise(body);
        if text::word_count(&normalised) < self.config.text_min_words {
            return;
        }
        let Some(sig) = text::signature(&normalised) else {
            return;
        };
        let keys = text::band_keys(&sig)
            .map(|k| k ^ (Space::Text as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // Candidates checked so far (at most `bucket_cap + 1`): a short list beats a hash set.
        let mut seen: Vec<u32> = Vec::with_capacity(self.config.bucket_cap + 1);
        let mut matches = std::mem::take(&mut self.scratch);
        matches.clear();
        'bands: for &key in &keys {
            for other in self.holders(key, slot, None) {
                if seen.contains(&other) {
                    continue;
                }
                seen.push(other);
                // Bounded work per message even when every band bucket is full.
                if seen.len() > self.config.bucket_cap {
                    break 'bands;
                }
                let best = self.slots[other as usize].as_ref().map_or(0.0, |n| {
                    n.texts
                        .iter()
                        .map(|t| text::similarity(&sig, t))
                        .fold(0.0, f64::max)
                });
                if best >= self.config.text_similarity {
                    matches.push((other, best));
                    if matches.len() >= self.config.fanout {
                        break 'bands;
                    }
                }
            }
        }
        let scale = keys
            .iter()
            .map(|&k| self.popularity_scale(k))
            .fold(1.0, f64::min);
        let weight = self.config.weights.near_duplicate_text * scale;
        for &(other, similarity) in &matches {
            let detail = |_: &Self| {
                format!(
                    "near-identical text ({:.0}%): “{}”",
                    similarity * 100.0,
                    short(&normalised, 40)
                )
            };
            self.add_evidence(
                slot,
                other,
                EvidenceKind::NearDuplicateText,
                weight,
                &detail,
            );
        }
        self.scratch = matches;
        for key in keys {
            self.remember(key, slot);
        }
        if let Some(node) = self.slots[slot as usize].as_mut()
            && !node.texts.contains(&sig)
        {
            node.texts.push_back(sig);
            if node.texts.len() > TEXTS_PER_USER {
                node.texts.pop_front();
            }
        }
    }

    fn observe_link(&mut self, slot: u32, link: &LinkFeature) {
        let detail = |_: &Self| format!("both posted {}", short(&link.link, 60));
        if self.is_common(link) {
            let weight = self.config.weights.same_common_link;
            self.feature(
                slot,
                Space::Link,
                &link.link,
                EvidenceKind::SameLink,
                weight,
                &detail,
                None,
            );
            return;
        }
        let weight = self.config.weights.same_link;
        self.feature(
            slot,
            Space::Link,
            &link.link,
            EvidenceKind::SameLink,
            weight,
            &detail,
            None,
        );
        let weight = self.config.weights.same_domain;
        self.feature(
            slot,
            Space::Domain,
            &link.domain,
            EvidenceKind::SameDomain,
            weight,
            &|_: &Self| format!("both posted links to {}", short(&link.domain, 60)),
            None,
        );
    }

    // ---- edges and components ----

    /// Add evidence between two live slots. `detail` is rendered only when the evidence is new
    /// or stronger than what the edge already holds.
    fn add_evidence<D: Fn(&Self) -> String>(
        &mut self,
        slot: u32,
        other_slot: u32,
        kind: EvidenceKind,
        weight: f64,
        detail: &D,
    ) {
        let (Some(user), Some(other)) = (self.user_of(slot), self.user_of(other_slot)) else {
            return;
        };
        if other == user
            || self.whitelist.contains(&user)
            || self.whitelist.contains(&other)
            || self.blocked.contains(&pair(user, other))
        {
            return;
        }
        let key = pair(user, other);
        let now = self.now;
        let detail_needed = match self.edges.get(&key) {
            Some(edge) => edge
                .evidence
                .iter()
                .find(|e| e.kind == kind)
                .is_none_or(|e| weight > e.weight),
            None => {
                // Weak evidence (a common name, a popular link) only adds to an existing edge:
                // alone it can never link anyone, and it would fill memory with useless edges.
                if weight + 1e-9 < self.config.corroboration_weight {
                    return;
                }
                let degree = |s: u32| {
                    self.slots[s as usize]
                        .as_ref()
                        .map_or(usize::MAX, |n| n.adj.len())
                };
                if degree(slot) >= self.config.max_degree
                    || degree(other_slot) >= self.config.max_degree
                {
                    return;
                }
                self.edges.insert(
                    key,
                    EdgeData {
                        evidence: Vec::new(),
                        last_at: now,
                        linking: false,
                    },
                );
                self.edge_queue.push(now, key);
                for (a, b) in [(slot, other_slot), (other_slot, slot)] {
                    if let Some(node) = self.slots[a as usize].as_mut() {
                        node.adj.push(b);
                    }
                }
                true
            }
        };
        let rendered = detail_needed.then(|| detail(self));
        let Some(edge) = self.edges.get_mut(&key) else {
            return;
        };
        edge.last_at = now;
        match edge.evidence.iter_mut().find(|e| e.kind == kind) {
            Some(e) => {
                e.at = now;
                if let Some(detail) = rendered
                    && weight > e.weight
                {
                    e.weight = weight;
                    e.detail = detail;
                }
            }
            None => edge.evidence.push(Evidence {
                kind,
                weight,
                detail: rendered.unwrap_or_default(),
                at: now,
            }),
        }
        if edge.linking {
            return;
        }
        let (total, kinds, strongest) = strength(&edge.evidence, self.config.corroboration_weight);
        let config = &self.config;
        if (total + 1e-9 >= config.link_weight && kinds >= config.min_kinds)
            || strongest + 1e-9 >= config.strong_weight
        {
            edge.linking = true;
            self.union(slot, other_slot);
        }
    }

    fn remove_edge(&mut self, key: (UserId, UserId)) {
        if self.edges.remove(&key).is_none() {
            return;
        }
        let (Some(&a), Some(&b)) = (self.by_user.get(&key.0), self.by_user.get(&key.1)) else {
            return;
        };
        for (x, y) in [(a, b), (b, a)] {
            if let Some(node) = self.slots[x as usize].as_mut() {
                node.adj.retain(|&n| n != y);
            }
        }
    }

    fn drop_edges(&mut self, slot: u32) {
        let Some(node) = self.slots[slot as usize].as_mut() else {
            return;
        };
        let user = node.user;
        for other in std::mem::take(&mut node.adj) {
            if let Some(other_node) = self.slots[other as usize].as_mut() {
                other_node.adj.retain(|&n| n != slot);
                self.edges.remove(&pair(user, other_node.user));
            }
        }
    }

    fn find(&self, mut slot: u32) -> u32 {
        while self.parent[slot as usize] != slot {
            slot = self.parent[slot as usize];
        }
        slot
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.members[ra as usize].len() < self.members[rb as usize].len() {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        let moved = std::mem::take(&mut self.members[rb as usize]);
        self.members[ra as usize].extend(moved);
        self.multi_roots.remove(&rb);
        self.multi_roots.insert(ra);
        let (oa, ob) = (self.oldest[ra as usize], self.oldest[rb as usize]);
        if self.age_key(ob) < self.age_key(oa) {
            self.oldest[ra as usize] = ob;
        }
        // Path compression for the two touched paths keeps later finds short.
        for s in [a, b] {
            let mut s = s;
            while self.parent[s as usize] != ra {
                let next = self.parent[s as usize];
                self.parent[s as usize] = ra;
                s = next;
            }
        }
    }

    fn component_slots(&self, slot: u32) -> Vec<u32> {
        self.members[self.find(slot) as usize].clone()
    }

    /// Re-derive the components of `slots` (one former component) from its linking edges.
    fn rebuild(&mut self, slots: Vec<u32>) {
        for &s in &slots {
            self.parent[s as usize] = s;
            self.members[s as usize] = vec![s];
            self.oldest[s as usize] = s;
            self.multi_roots.remove(&s);
        }
        for &s in &slots {
            let Some(node) = self.slots[s as usize].as_ref() else {
                continue;
            };
            let user = node.user;
            let linked: Vec<u32> = node
                .adj
                .iter()
                .copied()
                .filter(|&n| {
                    self.user_of(n)
                        .and_then(|other| self.edges.get(&pair(user, other)))
                        .is_some_and(|e| e.linking)
                })
                .collect();
            for n in linked {
                self.union(s, n);
            }
        }
    }

    fn age_key(&self, slot: u32) -> (Timestamp, UserId) {
        self.slots[slot as usize]
            .as_ref()
            .map_or((Timestamp::MAX, UserId::MAX), |n| (n.first_seen, n.user))
    }

    fn cluster_id(&self, root: u32) -> ClusterId {
        self.user_of(self.oldest[root as usize]).unwrap_or_default()
    }

    fn edge_view(&self, a: UserId, b: UserId) -> Option<ClusterEdge> {
        let key = pair(a, b);
        let edge = self.edges.get(&key)?;
        let (weight, _, _) = strength(&edge.evidence, self.config.corroboration_weight);
        let mut evidence = edge.evidence.clone();
        evidence.sort_by_key(|e| e.kind);
        Some(ClusterEdge {
            a: key.0,
            b: key.1,
            weight,
            linking: edge.linking,
            evidence,
        })
    }

    fn build_cluster(&self, root: u32) -> Cluster {
        let slots = &self.members[root as usize];
        let mut members = Vec::with_capacity(slots.len());
        let mut first_seen = Timestamp::MAX;
        let mut last_seen = Timestamp::MIN;
        for node in slots
            .iter()
            .filter_map(|&s| self.slots[s as usize].as_ref())
        {
            members.push(node.user);
            first_seen = first_seen.min(node.first_seen);
            last_seen = last_seen.max(node.last_seen);
        }
        members.sort_unstable();
        let mut edges = Vec::new();
        for &s in slots {
            let Some(node) = self.slots[s as usize].as_ref() else {
                continue;
            };
            for &n in &node.adj {
                let Some(other) = self.user_of(n) else {
                    continue;
                };
                if node.user < other
                    && self.find(n) == root
                    && let Some(edge) = self.edge_view(node.user, other)
                {
                    edges.push(edge);
                }
            }
        }
        edges.sort_by_key(|e| (e.a, e.b));
        let mut kinds: Vec<EvidenceKind> = edges
            .iter()
            .flat_map(|e| e.evidence.iter().map(|ev| ev.kind))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let linking: Vec<f64> = edges
            .iter()
            .filter(|e| e.linking)
            .map(|e| e.weight)
            .collect();
        let mean = if linking.is_empty() {
            0.0
        } else {
            linking.iter().sum::<f64>() / linking.len() as f64
        };
        Cluster {
            id: self.cluster_id(root),
            score: score(members.len(), mean, kinds.len()),
            kinds,
            first_seen,
            last_seen,
            members,
            edges,
        }
    }
}
