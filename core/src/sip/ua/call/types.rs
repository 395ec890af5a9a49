//! What the user sees of a call: its handle, its state, and who ended it.

/// Identifies a call within one user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

impl std::fmt::Display for CallHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the user sees of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent, nothing heard back yet.
    Calling,
    /// An incoming call waiting to be answered.
    Incoming,
    /// The callee is ringing (180/183).
    Ringing,
    Connected,
    /// We put the call on hold.
    Held,
    /// The call came back from hold (an event; the state is then `Connected`).
    Resumed,
    /// The peer put the call on hold.
    RemoteHold,
    Ended,
    Failed,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Calling => "calling",
            CallState::Incoming => "incoming",
            CallState::Ringing => "ringing",
            CallState::Connected => "connected",
            CallState::Held => "held",
            CallState::Resumed => "resumed",
            CallState::RemoteHold => "remote_hold",
            CallState::Ended => "ended",
            CallState::Failed => "failed",
        }
    }
}

/// Who ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Local,
    Remote,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Local => "local",
            Party::Remote => "remote",
        }
    }
}
