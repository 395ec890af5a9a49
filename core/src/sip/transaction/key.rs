//! Transaction keys (RFC 3261 §17.1.3, §17.2.3) and the small message-building helpers that the
//! client and server machines share.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::sip::message::{
    Branch, HeaderAccess, HeaderError, HeaderName, Method, Request, Response, Via,
};

/// Identifies one transaction: the top Via branch and the method that created it (ACK and
/// CANCEL are folded as RFC 3261 §17.2.3 says), plus the Via sent-by for server transactions.
///
/// Requests from pre-RFC 3261 peers (no `z9hG4bK` branch) get a synthetic branch built from
/// the Call-ID, From tag, CSeq number and top Via, which a retransmission, its ACK and its
/// CANCEL all share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    branch: Branch,
    method: Method,
    /// `host:port` of the top Via (lower-case host, default port filled in); `None` on the
    /// client side, where we chose the branch ourselves.
    sent_by: Option<String>,
}

impl TransactionKey {
    /// The branch that identifies the transaction (synthetic for RFC 2543 peers).
    pub fn branch(&self) -> &Branch {
        &self.branch
    }
    /// The method that created the transaction (INVITE for an ACK's transaction).
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// Whether this is a server transaction (a request we received).
    pub fn is_server(&self) -> bool {
        self.sent_by.is_some()
    }

    /// The client key of a request we send: branch and method.
    pub(super) fn for_outgoing(req: &Request) -> Result<TransactionKey, HeaderError> {
        let via = req.top_via()?;
        Ok(TransactionKey {
            branch: branch_of(&via, req)?,
            method: req.method.clone(),
            sent_by: None,
        })
    }

    /// The client key a received response belongs to: top Via branch and CSeq method.
    pub(super) fn for_response(resp: &Response) -> Result<TransactionKey, HeaderError> {
        let via = resp.top_via()?;
        Ok(TransactionKey {
            branch: branch_of(&via, resp)?,
            method: resp.cseq()?.method,
            sent_by: None,
        })
    }

    /// The server key of a received request; an ACK maps to its INVITE transaction.
    pub(super) fn for_incoming(req: &Request) -> Result<TransactionKey, HeaderError> {
        let via = req.top_via()?;
        let method = match req.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        Ok(TransactionKey {
            branch: branch_of(&via, req)?,
            method,
            sent_by: Some(sent_by(&via)),
        })
    }

    /// The server key a response the UA wants to send belongs to (Via copied from the request).
    pub(super) fn for_outgoing_response(resp: &Response) -> Result<TransactionKey, HeaderError> {
        let via = resp.top_via()?;
        Ok(TransactionKey {
            branch: branch_of(&via, resp)?,
            method: resp.cseq()?.method,
            sent_by: Some(sent_by(&via)),
        })
    }

    /// The same transaction identity with another method: the CANCEL of an INVITE and back.
    pub(super) fn with_method(&self, method: Method) -> TransactionKey {
        TransactionKey {
            branch: self.branch.clone(),
            method,
            sent_by: self.sent_by.clone(),
        }
    }

    /// A key for a request whose Via could not be read (a bug in the UA, not network input):
    /// unique per layer, so the transaction lives and ends by Timer B/F like any other.
    pub(super) fn unmatchable(method: Method, serial: u64) -> TransactionKey {
        TransactionKey {
            branch: Branch(format!("invalid-{serial}")),
            method,
            sent_by: None,
        }
    }
}

/// Adds a To tag to a response the layer generates itself (481, 503): RFC 3261 §8.2.6.2 wants
/// one on every final response. No dialog ever comes from these, so a tag derived from the
/// request is enough and keeps the layer free of an RNG.
pub(super) fn add_local_to_tag(resp: &mut Response) {
    let Ok(to) = resp.to_header() else {
        return;
    };
    if to.tag().is_some() {
        return;
    }
    let mut h = DefaultHasher::new();
    resp.headers.get(&HeaderName::CallId).hash(&mut h);
    resp.headers.get(&HeaderName::Via).hash(&mut h);
    let tag = format!("{:016x}", h.finish());
    if let Some(value) = resp.headers.get(&HeaderName::To) {
        let value = format!("{value};tag={tag}");
        resp.headers.set(HeaderName::To, value);
    }
}

/// Copies every value of `name` from `from` into `to`, in order.
pub(super) fn copy_all(from: &Request, to: &mut Request, name: HeaderName) {
    for v in from.headers.get_all(&name) {
        to.headers.push(name.clone(), v);
    }
}

/// The headers an ACK (for a non-2xx) or a CANCEL copies from the INVITE it refers to
/// (RFC 3261 §9.1, §17.1.1.3): the top Via only, Max-Forwards, From, Call-ID and Route; To and
/// CSeq are filled by the caller.
pub(super) fn derived_request(
    invite: &Request,
    method: Method,
    to: &str,
) -> Result<Request, HeaderError> {
    let seq = invite.cseq()?.seq;
    let mut req = Request::new(method.clone(), invite.uri.clone());
    if let Some(via) = invite.headers.get(&HeaderName::Via) {
        req.headers.push(HeaderName::Via, via);
    }
    let max_forwards = invite.headers.get(&HeaderName::MaxForwards).unwrap_or("70");
    req.headers.push(HeaderName::MaxForwards, max_forwards);
    copy_all(invite, &mut req, HeaderName::From);
    req.headers.push(HeaderName::To, to);
    copy_all(invite, &mut req, HeaderName::CallId);
    req.headers
        .push(HeaderName::CSeq, format!("{seq} {method}"));
    copy_all(invite, &mut req, HeaderName::Route);
    Ok(req)
}

fn branch_of(via: &Via, msg: &impl HeaderAccess) -> Result<Branch, HeaderError> {
    match via.branch() {
        Some(b) if b.0.starts_with(Branch::MAGIC) => Ok(b),
        // RFC 3261 §17.2.3 falls back to comparing the request's identifying fields.
        _ => {
            let call_id = msg.call_id()?;
            let from_tag = msg.from_header()?.tag().map(|t| t.0).unwrap_or_default();
            let seq = msg.cseq()?.seq;
            let branch = via.params.value("branch").unwrap_or_default();
            // Not the whole Via: a server may add `received`/`rport` to it in the response.
            Ok(Branch(format!(
                "rfc2543;{call_id};{from_tag};{seq};{};{branch}",
                sent_by(via)
            )))
        }
    }
}

fn sent_by(via: &Via) -> String {
    let port = via.port.unwrap_or(via.transport.default_port());
    format!("{}:{port}", via.host.to_ascii_lowercase())
}
