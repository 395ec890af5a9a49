//! The Kotlin API (UniFFI proc-macros): a thin layer over the [engine](crate::engine) that
//! converts types, owns a tokio runtime per [`Phone`], and feeds observers. No protocol logic.
//!
//! - [`Phone`]: start/stop with a data directory (ZID, ZRTP cache, accounts), accounts,
//!   registration, calls, SAS confirmation, network changes, observers.
//! - [`PhoneObserver`] / [`ObserverHandle`]: typed [`PhoneEvent`]s on a thread per observer;
//!   the current state comes first; the handle unsubscribes when cancelled, closed or dropped.
//! - [`PhoneError`]: the few errors the UI acts on. Panics in the core are caught where the
//!   engine starts (a task `JoinError`) and become `Internal`; UniFFI catches any other at the
//!   boundary and raises an exception instead of aborting the app.
//!
//! Accounts: several may be stored; the engine runs one at a time, the first enabled one, and
//! restarts (ending calls) when that changes. With none enabled the phone works peer to peer.

mod accounts;
mod error;
mod logging;
mod observers;
mod phone;
mod types;

pub use error::{ObserverError, PhoneError};
pub use logging::init_logging;
pub use observers::{ObserverHandle, PhoneObserver};
pub use phone::Phone;
pub use types::*;

/// The core's version, for the app's about screen and bug reports.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
