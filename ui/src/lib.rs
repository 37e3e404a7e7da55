//! Warden console UI.
