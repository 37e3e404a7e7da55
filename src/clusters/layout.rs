//! Node positions for the console's cluster graph, from a force simulation (deterministic:
//! fjadra's generator starts from a fixed seed). Run it off the UI thread.

use super::Cluster;
use crate::model::UserId;
use fjadra::{Center, Link, ManyBody, Node, SimulationBuilder};
use std::collections::HashMap;

/// Positions centred on (0, 0), one per member, in member order.
pub fn layout(cluster: &Cluster) -> Vec<(UserId, f64, f64)> {
    if cluster.members.is_empty() {
        return Vec::new();
    }
    let index: HashMap<UserId, usize> = cluster
        .members
        .iter()
        .enumerate()
        .map(|(i, u)| (*u, i))
        .collect();
    let links: Vec<(usize, usize)> = cluster
        .edges
        .iter()
        .filter_map(|e| Some((*index.get(&e.a)?, *index.get(&e.b)?)))
        .collect();
    let mut simulation = SimulationBuilder::default()
        .build(cluster.members.iter().map(|_| Node::default()))
        .add_force("link", Link::new(links))
        .add_force("charge", ManyBody::new())
        .add_force("center", Center::new());
    simulation.step();
    cluster
        .members
        .iter()
        .zip(simulation.positions())
        .map(|(user, [x, y])| (*user, x, y))
        .collect()
}
