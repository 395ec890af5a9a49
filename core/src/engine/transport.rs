//! SIP transports over UDP, TCP and TLS (RFC 3261 §18), with flow reuse and keepalives
//! (RFC 5626). This is the only place that touches sockets; the protocol layers above see bytes
//! and a [`Target`].
//!
//! Stream flows are indexed by the remote address, whichever side opened them, so a response
//! or an in-dialog request to that address goes down the same connection: that is how a phone
//! behind NAT receives calls over its registration flow (RFC 5626 §5).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::flow::{self, FlowInputs, FlowParams, FlowStream};
use super::tls::{self, TlsError, TlsSettings};
use crate::sip::{Target, Transport};

/// What to listen on and how flows behave.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub bind_ip: IpAddr,
    /// `Some(0)` binds any free port; `None` opens no UDP socket.
    pub udp_port: Option<u16>,
    /// Listener for incoming TCP; `None` means outbound TCP only.
    pub tcp_port: Option<u16>,
    /// Listener for incoming TLS, with the certificate of `tls` or a self-signed one.
    pub tls_port: Option<u16>,
    pub tls: TlsSettings,
    /// Period of keepalives on flows passed to [`Transports::keep_alive`]: a CRLFCRLF ping on
    /// TCP/TLS (RFC 5626 §4.4.1), a CRLFCRLF datagram on UDP (to keep NAT bindings open).
    pub keepalive_interval: Duration,
}

/// Something the transports noticed; read from the receiver returned by [`Transports::bind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// One whole SIP message (a UDP datagram or a frame cut from a stream), with its source and
    /// the local address it arrived on.
    Received {
        source: Target,
        local: SocketAddr,
        data: Vec<u8>,
    },
    /// A TCP/TLS flow closed or failed (EOF, reset, keepalive timeout, TLS error). The UA
    /// re-registers.
    FlowClosed { target: Target, reason: String },
    /// A message could not be sent (no socket, connect failure, full queue) and was dropped.
    SendFailed { target: Target, reason: String },
}

/// Why the transports could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error("cannot bind {transport} on {addr}: {source}")]
    Bind {
        transport: Transport,
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] TlsError),
}

/// The sockets and flows of one UA; owned by the engine task. Dropping it closes everything.
pub struct Transports {
    shared: Arc<Shared>,
    udp_addr: Option<SocketAddr>,
    tcp_addr: Option<SocketAddr>,
    tls_addr: Option<SocketAddr>,
    tls_certificate_pem: Option<String>,
    tasks: Vec<AbortHandle>,
}

impl Transports {
    /// Binds the configured sockets and starts their tasks on the current tokio runtime.
    pub async fn bind(
        config: TransportConfig,
    ) -> Result<(Transports, mpsc::Receiver<TransportEvent>), TransportError> {
        let (events, receiver) = mpsc::channel(EVENT_QUEUE);
        let runtime = Handle::current();
        let tls_client = TlsConnector::from(tls::client_config(&config.tls)?);
        let mut tasks = Vec::new();

        let mut udp_send = None;
        let mut udp_addr = None;
        if let Some(port) = config.udp_port {
            let addr = SocketAddr::new(config.bind_ip, port);
            let (socket, sender) = bind_udp(addr).map_err(|source| TransportError::Bind {
                transport: Transport::Udp,
                addr,
                source,
            })?;
            let local = socket.local_addr().map_err(|source| TransportError::Bind {
                transport: Transport::Udp,
                addr,
                source,
            })?;
            udp_addr = Some(local);
            udp_send = Some(sender);
            tasks.push(
                runtime
                    .spawn(receive_udp(socket, local, events.clone()))
                    .abort_handle(),
            );
        }

        let shared = Arc::new(Shared {
            table: Mutex::new(FlowTable::default()),
            events,
            runtime: runtime.clone(),
            keepalive_interval: config.keepalive_interval,
            udp: udp_send,
            tls_client,
            tls_server_name: tls::configured_server_name(&config.tls)?,
            tls_settings: config.tls.clone(),
        });

        let mut tcp_addr = None;
        if let Some(port) = config.tcp_port {
            let (listener, local) = listen(config.bind_ip, port, Transport::Tcp).await?;
            tcp_addr = Some(local);
            let task = accept_loop(shared.clone(), listener, Transport::Tcp, None);
            tasks.push(runtime.spawn(task).abort_handle());
        }

        let mut tls_addr = None;
        let mut tls_certificate_pem = None;
        if let Some(port) = config.tls_port {
            let (server, pem) = tls::server_config(&config.tls, config.bind_ip)?;
            let (listener, local) = listen(config.bind_ip, port, Transport::Tls).await?;
            tls_addr = Some(local);
            tls_certificate_pem = Some(pem);
            let acceptor = TlsAcceptor::from(server);
            let task = accept_loop(shared.clone(), listener, Transport::Tls, Some(acceptor));
            tasks.push(runtime.spawn(task).abort_handle());
        }

        let transports = Transports {
            shared,
            udp_addr,
            tcp_addr,
            tls_addr,
            tls_certificate_pem,
            tasks,
        };
        Ok((transports, receiver))
    }

    /// The listening address of a transport, if it has a socket or listener.
    pub fn local_addr(&self, t: Transport) -> Option<SocketAddr> {
        match t {
            Transport::Udp => self.udp_addr,
            Transport::Tcp => self.tcp_addr,
            Transport::Tls => self.tls_addr,
        }
    }

    /// The certificate (PEM) the TLS listener presents, e.g. to show its fingerprint.
    pub fn tls_certificate_pem(&self) -> Option<&str> {
        self.tls_certificate_pem.as_deref()
    }

    /// True when outbound TLS does not verify certificates (see [`TlsSettings::is_insecure`]).
    pub fn is_insecure(&self) -> bool {
        self.shared.tls_settings.is_insecure()
    }

    /// Sends bytes; for TCP/TLS reuses an open flow to that address (incoming or outgoing) or
    /// connects one (connect timeout 5 s; failure -> [`TransportEvent::SendFailed`]). Never
    /// blocks the caller: each flow has a bounded queue, and a message that does not fit is
    /// dropped with a `SendFailed` event.
    pub fn send(&self, target: Target, data: Vec<u8>) {
        match target.transport {
            Transport::Udp => self.shared.send_udp(target, &data),
            Transport::Tcp | Transport::Tls => self.shared.send_stream(target, data),
        }
    }

    /// Starts or stops keepalives towards `target` (the registrar). UDP: "\r\n\r\n" every
    /// interval. TCP/TLS: a "\r\n\r\n" ping on the flow to `target` (now or once one is opened),
    /// whose "\r\n" pong is consumed; no pong within 10 s (or one interval, if shorter) closes
    /// the flow with [`TransportEvent::FlowClosed`].
    pub fn keep_alive(&self, target: Target, on: bool) {
        match target.transport {
            Transport::Udp => self.shared.udp_keep_alive(target.addr, on),
            Transport::Tcp | Transport::Tls => self.shared.stream_keep_alive(target, on),
        }
    }

    /// Closes all sockets and flows at once (tasks are aborted, not drained).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Transports {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let mut table = self.shared.lock();
        table.closed = true;
        for (_, flow) in table.flows.drain() {
            flow.task.abort();
        }
        for (_, task) in table.udp_keepalives.drain() {
            task.abort();
        }
    }
}

/// Events waiting for the engine; when full, tasks wait and `send` drops its failure events.
const EVENT_QUEUE: usize = 1024;
/// Messages waiting to be written on one flow.
const FLOW_QUEUE: usize = 64;
/// Flows opened by peers; more are refused so a flood cannot exhaust descriptors.
const MAX_INCOMING_FLOWS: usize = 256;
/// All flows together, which also bounds outbound connects triggered by hostile Via headers.
const MAX_FLOWS: usize = 512;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DATAGRAM: usize = 65_535;
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

type Establish =
    Pin<Box<dyn Future<Output = Result<(Box<dyn FlowStream>, SocketAddr), String>> + Send>>;

struct Shared {
    table: Mutex<FlowTable>,
    events: mpsc::Sender<TransportEvent>,
    runtime: Handle,
    keepalive_interval: Duration,
    /// A non-blocking clone of the UDP socket, so `send` never waits for the reactor.
    udp: Option<std::net::UdpSocket>,
    tls_client: TlsConnector,
    /// The name verified for outbound TLS; without one, the IP address of each flow.
    tls_server_name: Option<ServerName<'static>>,
    tls_settings: TlsSettings,
}

#[derive(Default)]
struct FlowTable {
    flows: HashMap<Target, FlowHandle>,
    incoming: usize,
    next_id: u64,
    /// Stream targets that should have keepalives, applied to flows as they open.
    keepalive: HashMap<Target, bool>,
    udp_keepalives: HashMap<SocketAddr, AbortHandle>,
    closed: bool,
}

struct FlowHandle {
    id: u64,
    incoming: bool,
    outgoing: mpsc::Sender<Vec<u8>>,
    keepalive: watch::Sender<bool>,
    task: AbortHandle,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FlowTable> {
        // A panic while holding the lock leaves only plain bookkeeping behind, still usable.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fail(&self, target: Target, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::debug!(%target, %reason, "send failed");
        if self
            .events
            .try_send(TransportEvent::SendFailed { target, reason })
            .is_err()
        {
            tracing::warn!(%target, "event queue full, SendFailed dropped");
        }
    }

    fn send_udp(&self, target: Target, data: &[u8]) {
        let Some(socket) = &self.udp else {
            return self.fail(target, "no UDP socket");
        };
        if let Err(e) = socket.send_to(data, target.addr) {
            self.fail(target, format!("UDP send failed: {e}"));
        }
    }

    fn send_stream(self: &Arc<Self>, target: Target, data: Vec<u8>) {
        let mut table = self.lock();
        if table.closed {
            drop(table);
            return self.fail(target, "transport shut down");
        }
        let data = match table.flows.get(&target) {
            Some(flow) => match flow.outgoing.try_send(data) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    drop(table);
                    return self.fail(target, "flow queue full");
                }
                // The flow ended but has not removed itself yet: open a new one.
                Err(mpsc::error::TrySendError::Closed(data)) => data,
            },
            None => data,
        };
        if table.flows.len() >= MAX_FLOWS {
            drop(table);
            return self.fail(target, "too many open flows");
        }
        let establish = self.connect(target);
        let queue = self.open_flow(&mut table, target, false, establish);
        // Invariant: the queue was created just now with room for FLOW_QUEUE > 0 messages.
        let _ = queue.try_send(data);
    }

    fn connect(&self, target: Target) -> Establish {
        let tls = match target.transport {
            Transport::Tls => {
                let name = self
                    .tls_server_name
                    .clone()
                    .unwrap_or_else(|| ServerName::IpAddress(target.addr.ip().into()));
                Some((self.tls_client.clone(), name))
            }
            _ => None,
        };
        Box::pin(async move {
            let tcp = match timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr)).await {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => return Err(format!("connect failed: {e}")),
                Err(_) => return Err(format!("connect timed out after {CONNECT_TIMEOUT:?}")),
            };
            let local = tcp
                .local_addr()
                .map_err(|e| format!("connect failed: {e}"))?;
            let _ = tcp.set_nodelay(true);
            let Some((connector, name)) = tls else {
                return Ok((Box::new(tcp) as Box<dyn FlowStream>, local));
            };
            match timeout(TLS_HANDSHAKE_TIMEOUT, connector.connect(name, tcp)).await {
                Ok(Ok(stream)) => Ok((Box::new(stream) as Box<dyn FlowStream>, local)),
                Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
                Err(_) => Err(format!(
                    "TLS handshake timed out after {TLS_HANDSHAKE_TIMEOUT:?}"
                )),
            }
        })
    }

    /// Registers a flow under `target` and starts its task; returns its outgoing queue.
    fn open_flow(
        self: &Arc<Self>,
        table: &mut FlowTable,
        target: Target,
        incoming: bool,
        establish: Establish,
    ) -> mpsc::Sender<Vec<u8>> {
        let id = table.next_id;
        table.next_id += 1;
        let (outgoing, outgoing_rx) = mpsc::channel(FLOW_QUEUE);
        let keepalive_on = table.keepalive.get(&target).copied().unwrap_or(false);
        let (keepalive, keepalive_rx) = watch::channel(keepalive_on);
        let inputs = FlowInputs {
            outgoing: outgoing_rx,
            keepalive: keepalive_rx,
        };
        let task = self
            .runtime
            .spawn(drive_flow(self.clone(), id, target, establish, inputs));
        let handle = FlowHandle {
            id,
            incoming,
            outgoing: outgoing.clone(),
            keepalive,
            task: task.abort_handle(),
        };
        if incoming {
            table.incoming += 1;
        }
        if let Some(old) = table.flows.insert(target, handle) {
            // The old flow loses its queue and ends; its task accounts for itself on exit.
            if old.incoming {
                table.incoming -= 1;
            }
        }
        outgoing
    }

    fn remove_flow(&self, target: Target, id: u64) {
        let mut table = self.lock();
        if table.flows.get(&target).is_some_and(|flow| flow.id == id) {
            // Invariant: the key was just checked to be present.
            if let Some(flow) = table.flows.remove(&target) {
                if flow.incoming {
                    table.incoming -= 1;
                }
            }
        }
    }

    fn accept(self: &Arc<Self>, target: Target, establish: Establish) {
        let mut table = self.lock();
        if table.closed || table.incoming >= MAX_INCOMING_FLOWS || table.flows.len() >= MAX_FLOWS {
            tracing::warn!(%target, "too many flows, incoming connection refused");
            return;
        }
        self.open_flow(&mut table, target, true, establish);
    }

    fn stream_keep_alive(&self, target: Target, on: bool) {
        let mut table = self.lock();
        if on {
            table.keepalive.insert(target, true);
        } else {
            table.keepalive.remove(&target);
        }
        if let Some(flow) = table.flows.get(&target) {
            flow.keepalive.send_replace(on);
        }
    }

    fn udp_keep_alive(self: &Arc<Self>, addr: SocketAddr, on: bool) {
        let mut table = self.lock();
        if let Some(task) = table.udp_keepalives.remove(&addr) {
            task.abort();
        }
        if !on || table.closed {
            return;
        }
        let shared = Arc::downgrade(self);
        let interval = self.keepalive_interval.max(Duration::from_millis(10));
        let task = self.runtime.spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.tick().await; // the first tick is immediate; the first ping comes later
            loop {
                ticker.tick().await;
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                shared.send_udp(
                    Target {
                        transport: Transport::Udp,
                        addr,
                    },
                    b"\r\n\r\n",
                );
            }
        });
        table.udp_keepalives.insert(addr, task.abort_handle());
    }
}

/// Establishes a flow, runs it, and reports how it ended.
async fn drive_flow(
    shared: Arc<Shared>,
    id: u64,
    target: Target,
    establish: Establish,
    mut inputs: FlowInputs,
) {
    let reason = match establish.await {
        Ok((stream, local)) => {
            tracing::debug!(%target, %local, "flow open");
            let params = FlowParams {
                target,
                local,
                keepalive_interval: shared.keepalive_interval,
                events: shared.events.clone(),
            };
            let reason = flow::run(stream, params, &mut inputs).await;
            shared.remove_flow(target, id);
            let _ = shared
                .events
                .send(TransportEvent::FlowClosed {
                    target,
                    reason: reason.clone(),
                })
                .await;
            reason
        }
        Err(reason) => {
            shared.remove_flow(target, id);
            reason
        }
    };
    tracing::debug!(%target, %reason, "flow closed");
    // Messages still queued were never written.
    inputs.outgoing.close();
    while inputs.outgoing.try_recv().is_ok() {
        shared.fail(target, reason.clone());
    }
}

fn bind_udp(addr: SocketAddr) -> io::Result<(UdpSocket, std::net::UdpSocket)> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    let sender = socket.try_clone()?;
    Ok((UdpSocket::from_std(socket)?, sender))
}

async fn receive_udp(socket: UdpSocket, local: SocketAddr, events: mpsc::Sender<TransportEvent>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // ICMP errors surface here on some platforms; they concern one peer only.
                tracing::debug!(error = %e, "UDP receive error");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        // Invariant: recv_from returns n <= buf.len().
        let data = &buf[..n];
        if data.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            continue; // a peer's keepalive
        }
        let source = Target {
            transport: Transport::Udp,
            addr: from,
        };
        let event = TransportEvent::Received {
            source,
            local,
            data: data.to_vec(),
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

async fn listen(
    ip: IpAddr,
    port: u16,
    transport: Transport,
) -> Result<(TcpListener, SocketAddr), TransportError> {
    let addr = SocketAddr::new(ip, port);
    let bind_error = |source| TransportError::Bind {
        transport,
        addr,
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    Ok((listener, local))
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    transport: Transport,
    acceptor: Option<TlsAcceptor>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // E.g. out of descriptors: pause instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let target = Target {
            transport,
            addr: peer,
        };
        let acceptor = acceptor.clone();
        let establish: Establish = Box::pin(async move {
            let local = tcp
                .local_addr()
                .map_err(|e| format!("accept failed: {e}"))?;
            let Some(acceptor) = acceptor else {
                return Ok((Box::new(tcp) as Box<dyn FlowStream>, local));
            };
            match timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => Ok((Box::new(stream) as Box<dyn FlowStream>, local)),
                Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
                Err(_) => Err(format!(
                    "TLS handshake timed out after {TLS_HANDSHAKE_TIMEOUT:?}"
                )),
            }
        });
        shared.accept(target, establish);
    }
}
