//! Multi-account clusters.

pub mod text;
