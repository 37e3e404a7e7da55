//! Warden store: see README.
