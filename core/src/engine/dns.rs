//! Locating SIP servers (RFC 3263 §4.2, without NAPTR): the transport is already chosen, so a
//! host name without a port is looked up as SRV (`_sip._udp`, `_sip._tcp`, `_sips._tcp`), the
//! targets ordered by priority and weight (RFC 2782), and each target resolved to A/AAAA. With
//! no SRV records the name itself is resolved on the transport's default port. An IP literal
//! never touches DNS.
//!
//! Only the name servers of the system configuration (or those given explicitly) are asked.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};
use hickory_resolver::error::{ResolveError, ResolveErrorKind};
use hickory_resolver::TokioAsyncResolver;
use rand::RngCore;

use crate::sip::{Host, Target, Transport};

/// Upper bound for one whole resolution, SRV and address lookups together.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves `host` for `transport` with the system resolver configuration; see the module docs.
/// The result is in the order the targets should be tried, and is never empty.
pub async fn resolve(
    host: &Host,
    port: Option<u16>,
    transport: Transport,
) -> Result<Vec<Target>, DnsError> {
    if let Some(target) = literal(host, port, transport) {
        return Ok(vec![target]);
    }
    DnsResolver::from_system_conf()?
        .resolve(host, port, transport)
        .await
}

/// Why a host could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    #[error("cannot read the system resolver configuration: {0}")]
    SystemConfig(String),
    #[error("DNS resolution of {name} timed out")]
    Timeout { name: String },
    #[error("no address found for {name}")]
    NotFound { name: String },
    #[error("DNS lookup of {name} failed: {reason}")]
    Lookup { name: String, reason: String },
}

/// A resolver with a fixed configuration; cheap to keep and reuse across lookups.
pub struct DnsResolver {
    inner: TokioAsyncResolver,
}

impl DnsResolver {
    /// Uses the name servers, search list and options of the system (`/etc/resolv.conf` and
    /// the hosts file on Unix).
    pub fn from_system_conf() -> Result<DnsResolver, DnsError> {
        let (config, mut opts) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| DnsError::SystemConfig(e.to_string()))?;
        tune(&mut opts);
        Ok(DnsResolver {
            inner: TokioAsyncResolver::tokio(config, opts),
        })
    }

    /// Asks only the given name servers (over UDP, falling back to TCP on truncation).
    pub fn with_name_servers(servers: &[SocketAddr]) -> DnsResolver {
        let mut config = ResolverConfig::new();
        for &addr in servers {
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
        }
        let mut opts = ResolverOpts::default();
        tune(&mut opts);
        DnsResolver {
            inner: TokioAsyncResolver::tokio(config, opts),
        }
    }

    /// Resolves `host` for `transport`, bounded by [`RESOLVE_TIMEOUT`]; see the module docs.
    pub async fn resolve(
        &self,
        host: &Host,
        port: Option<u16>,
        transport: Transport,
    ) -> Result<Vec<Target>, DnsError> {
        let domain = match host {
            Host::Domain(d) => d.trim_end_matches('.'),
            _ => {
                // Invariant: `literal` returns Some for every non-domain host.
                return Ok(literal(host, port, transport).into_iter().collect());
            }
        };
        let lookup = async {
            match port {
                Some(port) => self.addresses(domain, port, transport).await,
                None => self.locate(domain, transport).await,
            }
        };
        tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
            .await
            .unwrap_or_else(|_| {
                Err(DnsError::Timeout {
                    name: domain.to_owned(),
                })
            })
    }

    /// SRV first, then the name itself on the default port.
    async fn locate(&self, domain: &str, transport: Transport) -> Result<Vec<Target>, DnsError> {
        let service = match transport {
            Transport::Udp => "_sip._udp",
            Transport::Tcp => "_sip._tcp",
            Transport::Tls => "_sips._tcp",
        };
        let srv_name = format!("{service}.{domain}.");
        let records: Vec<SrvRecord> = match self.inner.srv_lookup(srv_name.as_str()).await {
            Ok(lookup) => lookup
                .iter()
                .take(MAX_SRV_RECORDS)
                .map(|srv| SrvRecord {
                    priority: srv.priority(),
                    weight: srv.weight(),
                    port: srv.port(),
                    target: srv.target().to_ascii(),
                })
                .collect(),
            Err(e) => {
                tracing::debug!(name = %srv_name, error = %e, "no SRV records, using A/AAAA");
                Vec::new()
            }
        };
        // RFC 2782: a single record with target "." says the service is not offered there.
        if records.len() == 1 && records[0].target == "." {
            return Err(DnsError::NotFound { name: srv_name });
        }
        if records.is_empty() {
            return self
                .addresses(domain, transport.default_port(), transport)
                .await;
        }
        let ordered = order_srv(records, &mut rand::thread_rng());
        let mut targets = Vec::new();
        let mut last_error = None;
        for record in ordered {
            match self.addresses(&record.target, record.port, transport).await {
                Ok(found) => targets.extend(found),
                Err(e) => last_error = Some(e),
            }
            if targets.len() >= MAX_TARGETS {
                targets.truncate(MAX_TARGETS);
                break;
            }
        }
        match (targets.is_empty(), last_error) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(DnsError::NotFound { name: srv_name }),
            (false, _) => Ok(targets),
        }
    }

    async fn addresses(
        &self,
        name: &str,
        port: u16,
        transport: Transport,
    ) -> Result<Vec<Target>, DnsError> {
        let ips = self
            .inner
            .lookup_ip(name)
            .await
            .map_err(|e| lookup_error(name, e))?;
        let targets: Vec<Target> = ips
            .iter()
            .take(MAX_TARGETS)
            .map(|ip| Target {
                transport,
                addr: SocketAddr::new(ip, port),
            })
            .collect();
        if targets.is_empty() {
            return Err(DnsError::NotFound {
                name: name.to_owned(),
            });
        }
        Ok(targets)
    }
}

/// At most this many SRV records of one answer are considered.
const MAX_SRV_RECORDS: usize = 16;
/// At most this many targets are returned.
const MAX_TARGETS: usize = 32;

fn tune(opts: &mut ResolverOpts) {
    opts.timeout = Duration::from_secs(2);
    opts.attempts = 2;
}

fn literal(host: &Host, port: Option<u16>, transport: Transport) -> Option<Target> {
    let ip = host.ip()?;
    Some(Target {
        transport,
        addr: SocketAddr::new(ip, port.unwrap_or(transport.default_port())),
    })
}

fn lookup_error(name: &str, e: ResolveError) -> DnsError {
    match e.kind() {
        ResolveErrorKind::NoRecordsFound { .. } => DnsError::NotFound {
            name: name.to_owned(),
        },
        ResolveErrorKind::Timeout => DnsError::Timeout {
            name: name.to_owned(),
        },
        _ => DnsError::Lookup {
            name: name.to_owned(),
            reason: e.to_string(),
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SrvRecord {
    priority: u16,
    weight: u16,
    port: u16,
    target: String,
}

/// RFC 2782 order: ascending priority; within one priority a weighted random permutation in
/// which a record is picked with probability proportional to its weight (zero-weight records
/// get a small chance by going first in the running sum).
fn order_srv(mut records: Vec<SrvRecord>, rng: &mut impl RngCore) -> Vec<SrvRecord> {
    records.retain(|r| r.target != ".");
    records.sort_by_key(|r| (r.priority, r.weight != 0));
    let mut ordered = Vec::with_capacity(records.len());
    let mut rest = records.as_slice();
    while let Some(first) = rest.first() {
        let same = rest
            .iter()
            .take_while(|r| r.priority == first.priority)
            .count();
        let (group, tail) = rest.split_at(same);
        let mut group = group.to_vec();
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = if total == 0 {
                0
            } else {
                rng.next_u32() % (total + 1)
            };
            let mut running = 0u32;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(group.len() - 1);
            ordered.push(group.remove(index));
        }
        rest = tail;
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rec(priority: u16, weight: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: 5060,
            target: target.to_owned(),
        }
    }

    #[test]
    fn lower_priority_always_comes_first() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let ordered = order_srv(
                vec![rec(20, 90, "c."), rec(10, 0, "a."), rec(10, 5, "b.")],
                &mut rng,
            );
            assert_eq!(ordered.len(), 3);
            assert_eq!(ordered[2].target, "c.");
        }
    }

    #[test]
    fn heavier_weight_is_picked_first_more_often() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut heavy_first = 0;
        for _ in 0..1000 {
            let ordered = order_srv(vec![rec(1, 10, "light."), rec(1, 90, "heavy.")], &mut rng);
            if ordered[0].target == "heavy." {
                heavy_first += 1;
            }
        }
        assert!(
            (800..=980).contains(&heavy_first),
            "heavy first {heavy_first} times of 1000"
        );
    }

    #[test]
    fn dot_target_is_dropped() {
        let ordered = order_srv(
            vec![rec(1, 0, "."), rec(2, 0, "a.")],
            &mut StdRng::seed_from_u64(0),
        );
        assert_eq!(ordered, vec![rec(2, 0, "a.")]);
    }
}
