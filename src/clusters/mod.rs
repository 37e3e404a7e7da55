//! Multi-account clusters: users are nodes, edges carry evidence (near-duplicate text, shared
//! links, invite links, near-sequential ids, name patterns, bio links, avatars). Components of
//! strong-enough edges are clusters. Updated incrementally per event, bounded by a time window.

pub mod features;
mod graph;
mod layout;
#[cfg(test)]
mod tests;
pub mod text;

pub use graph::ClusterGraph;
pub use layout::layout;

use crate::model::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// A cluster's id: the user id of its earliest-seen member, stable while the cluster grows
/// (it changes only when two clusters merge or that member is evicted or removed).
pub type ClusterId = UserId;

/// What links two accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    NearDuplicateText,
    SameLink,
    SameDomain,
    /// Joined close together through the same invite link (or added by the same member).
    SameInvite,
    SequentialIds,
    SimilarName,
    SameBioLink,
    SameAvatar,
}

impl EvidenceKind {
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::NearDuplicateText => "near_duplicate_text",
            EvidenceKind::SameLink => "same_link",
            EvidenceKind::SameDomain => "same_domain",
            EvidenceKind::SameInvite => "same_invite",
            EvidenceKind::SequentialIds => "sequential_ids",
            EvidenceKind::SimilarName => "similar_name",
            EvidenceKind::SameBioLink => "same_bio_link",
            EvidenceKind::SameAvatar => "same_avatar",
        }
    }

    /// Kinds in one family do not corroborate each other: they usually come from the same
    /// message (a copied text carries its link, a link implies its domain).
    fn family(self) -> u8 {
        match self {
            EvidenceKind::NearDuplicateText | EvidenceKind::SameLink | EvidenceKind::SameDomain => {
                1
            }
            other => other as u8 + 10,
        }
    }
}

/// One piece of evidence on an edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub weight: f64,
    /// Short, for the console: "both posted crypto-x.biz", "ids 7001 / 7002".
    pub detail: String,
    pub at: Timestamp,
}

/// Evidence weights. Per family (content: text/link/domain; invite; ids; name; bio link; avatar)
/// the strongest counts; an edge links two accounts when the families add up to `link_weight`
/// with at least `min_kinds` corroborating families, or one family alone reaches `strong_weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceWeights {
    pub near_duplicate_text: f64,
    pub same_link: f64,
    /// Exact same link on a common domain (a YouTube video, a t.me channel).
    pub same_common_link: f64,
    pub same_domain: f64,
    pub same_invite: f64,
    /// Ids within `close_id_gap`.
    pub close_ids: f64,
    /// Ids within `sequential_id_gap`.
    pub sequential_ids: f64,
    /// Same or similar name stem, both with digits ("Anna 123" / "Anna 124").
    pub name_pattern: f64,
    /// Same or similar plain name ("Anna" / "Anna"): common, never enough alone.
    pub same_name: f64,
    pub same_bio_link: f64,
    pub same_avatar: f64,
}

impl Default for EvidenceWeights {
    fn default() -> Self {
        EvidenceWeights {
            near_duplicate_text: 0.6,
            same_link: 0.6,
            same_common_link: 0.3,
            same_domain: 0.4,
            same_invite: 0.5,
            close_ids: 0.5,
            sequential_ids: 0.4,
            name_pattern: 0.5,
            same_name: 0.2,
            same_bio_link: 0.8,
            same_avatar: 1.0,
        }
    }
}

/// Cluster detection settings (`[clusters]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Users and edges not seen for this long are forgotten.
    pub window_secs: i64,
    /// How often (event time) the window is swept.
    pub evict_every_secs: i64,
    pub link_weight: f64,
    pub min_kinds: usize,
    /// Evidence weaker than this (a common name, a popular link) adds weight but never counts as
    /// a corroborating kind.
    pub corroboration_weight: f64,
    pub strong_weight: f64,
    /// New edges per observed feature (links to the most recent holders only).
    pub fanout: usize,
    /// Recent holders remembered per feature value.
    pub bucket_cap: usize,
    /// Feature values (links, texts, invite links) held by more users than this count for less.
    pub popular_holders: u32,
    /// Edges kept per user; beyond it new evidence is ignored.
    pub max_degree: usize,
    /// Estimated Jaccard similarity for near-duplicate text.
    pub text_similarity: f64,
    pub text_min_words: usize,
    pub close_id_gap: i64,
    pub sequential_id_gap: i64,
    /// Joins through the same invite link this close together are evidence.
    pub invite_join_secs: i64,
    /// Members a chat's member list shows joining this close together are evidence (no link is
    /// known there, so the window is tighter).
    pub listed_join_secs: i64,
    /// Jaro-Winkler similarity of name stems.
    pub name_similarity: f64,
    /// Domains everybody posts: no domain evidence, weak exact-link evidence.
    pub common_domains: Vec<String>,
    /// Smallest cluster listed.
    pub min_cluster_size: usize,
    pub weights: EvidenceWeights,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        let common = [
            "t.me",
            "telegram.me",
            "telegram.org",
            "telegra.ph",
            "youtube.com",
            "youtu.be",
            "google.com",
            "goo.gl",
            "github.com",
            "wikipedia.org",
            "twitter.com",
            "x.com",
            "instagram.com",
            "facebook.com",
            "vk.com",
            "reddit.com",
            "medium.com",
            "apple.com",
            "microsoft.com",
            "amazon.com",
            "tiktok.com",
            "linkedin.com",
            "stackoverflow.com",
            "bit.ly",
        ];
        ClusterConfig {
            window_secs: 7 * 24 * 3600,
            evict_every_secs: 3600,
            link_weight: 1.2,
            min_kinds: 2,
            corroboration_weight: 0.35,
            strong_weight: 1.0,
            fanout: 8,
            bucket_cap: 32,
            max_degree: 256,
            popular_holders: 20,
            text_similarity: 0.5,
            text_min_words: 5,
            close_id_gap: 20,
            sequential_id_gap: 2000,
            invite_join_secs: 600,
            listed_join_secs: 60,
            name_similarity: 0.9,
            common_domains: common.iter().map(|d| d.to_string()).collect(),
            min_cluster_size: 2,
            weights: EvidenceWeights::default(),
        }
    }
}

impl ClusterConfig {
    /// Reject settings that make clustering meaningless, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.window_secs <= 0 || self.evict_every_secs <= 0 {
            return Err(
                "clusters.window_secs and clusters.evict_every_secs must be positive".into(),
            );
        }
        if !(self.link_weight.is_finite() && self.link_weight > 0.0) {
            return Err(format!(
                "clusters.link_weight must be positive, got {}",
                self.link_weight
            ));
        }
        if self.fanout == 0 || self.bucket_cap == 0 {
            return Err("clusters.fanout and clusters.bucket_cap must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.text_similarity)
            || !(0.0..=1.0).contains(&self.name_similarity)
        {
            return Err(
                "clusters.text_similarity and clusters.name_similarity must be in 0..=1".into(),
            );
        }
        Ok(())
    }
}

/// An edge as queries return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEdge {
    pub a: UserId,
    pub b: UserId,
    pub weight: f64,
    /// Strong or corroborated enough to join the two into one cluster.
    pub linking: bool,
    pub evidence: Vec<Evidence>,
}

/// A cluster in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub id: ClusterId,
    pub size: usize,
    pub score: f64,
    pub kinds: Vec<EvidenceKind>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// A cluster with its members (sorted) and every edge between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: ClusterId,
    pub score: f64,
    pub kinds: Vec<EvidenceKind>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub members: Vec<UserId>,
    pub edges: Vec<ClusterEdge>,
}

impl Cluster {
    pub fn summary(&self) -> ClusterSummary {
        ClusterSummary {
            id: self.id,
            size: self.members.len(),
            score: self.score,
            kinds: self.kinds.clone(),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }
}

/// Returned when an event grew a cluster: persist it and refresh the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterUpdate {
    pub user: UserId,
    pub cluster: ClusterId,
    pub size: usize,
}

/// Cluster score: grows with size, mean linking weight and the number of evidence kinds.
fn score(size: usize, mean_weight: f64, kinds: usize) -> f64 {
    if size < 2 {
        return 0.0;
    }
    ((size - 1) as f64).sqrt() * mean_weight * (1.0 + 0.5 * kinds.saturating_sub(1) as f64)
}
