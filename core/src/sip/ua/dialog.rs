//! Dialog state (RFC 3261 §12) and the requests built inside a dialog.

use crate::sip::message::*;
use crate::sip::uri::Uri;

/// The identifiers and routing state of one dialog.
#[derive(Debug, Clone)]
pub(super) struct Dialog {
    pub call_id: CallId,
    pub local_tag: Tag,
    /// Unknown until the callee answers with a To tag.
    pub remote_tag: Option<Tag>,
    /// Our From (outgoing) / To (incoming) name-addr, without tag.
    pub local: NameAddr,
    pub remote: NameAddr,
    pub local_seq: u32,
    /// The highest CSeq seen from the peer, once it sent a request.
    pub remote_seq: Option<u32>,
    /// Where in-dialog requests go (the peer's Contact).
    pub remote_target: Uri,
    /// Route set, in the order requests carry it.
    pub route_set: Vec<Uri>,
    pub transport: Transport,
}

impl Dialog {
    pub(super) fn matches(
        &self,
        call_id: &CallId,
        local_tag: &Tag,
        remote_tag: Option<&Tag>,
    ) -> bool {
        if &self.call_id != call_id || &self.local_tag != local_tag {
            return false;
        }
        match (&self.remote_tag, remote_tag) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }

    /// A request inside the dialog (RFC 3261 §12.2.1.1), including strict-route handling.
    /// `cseq` is explicit so ACK can reuse the INVITE's number.
    pub(super) fn request(
        &self,
        method: Method,
        cseq: u32,
        via: String,
        contact: Option<&Uri>,
    ) -> Request {
        let (request_uri, routes) = self.request_uri_and_routes();
        let mut req = Request::new(method.clone(), request_uri);
        let h = &mut req.headers;
        h.push(HeaderName::Via, via);
        h.push(HeaderName::MaxForwards, "70");
        let mut from = self.local.clone();
        from.params.set("tag", Some(self.local_tag.0.clone()));
        h.push(HeaderName::From, from.to_string());
        let mut to = self.remote.clone();
        if let Some(t) = &self.remote_tag {
            to.params.set("tag", Some(t.0.clone()));
        }
        h.push(HeaderName::To, to.to_string());
        h.push(HeaderName::CallId, self.call_id.0.clone());
        h.push(HeaderName::CSeq, format!("{cseq} {method}"));
        for r in routes {
            h.push(HeaderName::Route, format!("<{r}>"));
        }
        if let Some(c) = contact {
            h.push(HeaderName::Contact, format!("<{c}>"));
        }
        req
    }

    /// RFC 3261 §12.2.1.1: with a loose first route the Request-URI is the remote target; with a
    /// strict one it is the first route, and the remote target goes last in the Route set.
    fn request_uri_and_routes(&self) -> (Uri, Vec<Uri>) {
        match self.route_set.first() {
            Some(first) if !first.is_loose_route() => {
                let mut uri = first.clone();
                uri.headers.clear();
                let mut routes: Vec<Uri> = self.route_set[1..].to_vec();
                routes.push(self.remote_target.clone());
                (uri, routes)
            }
            _ => (self.remote_target.clone(), self.route_set.clone()),
        }
    }

    /// The first hop's URI, for finding where to send.
    pub(super) fn next_hop(&self) -> &Uri {
        self.route_set.first().unwrap_or(&self.remote_target)
    }
}
