//! The errors the Kotlin side sees: only what the UI acts on. Details go in `detail` (`message` is Throwable's in Kotlin).

use uniffi::UnexpectedUniFFICallbackError;

/// Why a [`Phone`](super::Phone) call did not do what was asked (`PhoneException` in Kotlin).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// A value the user typed is not usable: a bad SIP URI, account field, DTMF digit…
    #[error("invalid {what}: {detail}")]
    InvalidArgument { what: String, detail: String },
    /// No account with this id.
    #[error("no account {id}")]
    AccountNotFound { id: String },
    /// No call with this id (it ended, or never was).
    #[error("no call {call}")]
    NoSuchCall { call: u64 },
    /// The registrar refused the user name or password (401/403/407).
    #[error("wrong user name or password: {status} {reason}")]
    WrongCredentials { status: u16, reason: String },
    /// The registration failed for another reason: refused by the server (status) or no
    /// answer / no route (no status).
    #[error("registration failed: {reason}")]
    RegistrationFailed { status: Option<u16>, reason: String },
    /// The engine could not bind its sockets or reach the server.
    #[error("network: {detail}")]
    Network { detail: String },
    /// The data directory cannot be read or written.
    #[error("storage: {detail}")]
    Storage { detail: String },
    /// The engine refused a command (e.g. a call to an unroutable URI, too many calls).
    #[error("{command} failed: {detail}")]
    CommandFailed { command: String, detail: String },
    /// The phone is stopped (or its engine could not start): start it again.
    #[error("the phone is not running")]
    NotRunning,
    /// The engine did not answer in time.
    #[error("timed out: {detail}")]
    Timeout { detail: String },
    /// A bug in the core (a caught panic): worth a bug report, not a crash.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

/// What an observer may throw (`ObserverException` in Kotlin). Any exception an observer
/// throws is caught, logged and otherwise ignored: the engine goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum ObserverError {
    #[error("observer failed: {detail}")]
    Failed { detail: String },
}

impl From<UnexpectedUniFFICallbackError> for ObserverError {
    fn from(e: UnexpectedUniFFICallbackError) -> ObserverError {
        ObserverError::Failed { detail: e.reason }
    }
}

impl PhoneError {
    pub(super) fn invalid(what: &str, message: impl std::fmt::Display) -> PhoneError {
        PhoneError::InvalidArgument {
            what: what.into(),
            detail: message.to_string(),
        }
    }

    pub(super) fn storage(message: impl std::fmt::Display) -> PhoneError {
        PhoneError::Storage {
            detail: message.to_string(),
        }
    }
}

impl From<crate::engine::PhoneError> for PhoneError {
    fn from(e: crate::engine::PhoneError) -> PhoneError {
        use crate::engine::{AccountError, PhoneError as E};
        match e {
            E::Account(AccountError::Invalid(message)) => PhoneError::invalid("account", message),
            E::Account(AccountError::Syntax { message, .. }) => {
                PhoneError::invalid("account", message)
            }
            other => PhoneError::Network {
                detail: other.to_string(),
            },
        }
    }
}
