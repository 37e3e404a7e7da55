//! `warden check`, `warden classify`, `warden eval`.
