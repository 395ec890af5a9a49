//! RFC 3263 resolution against a fake name server on loopback: IP literals never query,
//! SRV targets are ordered by priority, a name without SRV falls back to A on the default port,
//! and `localhost` resolves without any name server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, SRV};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use sipher::engine::{resolve, DnsError, DnsResolver};
use sipher::sip::{Host, Target, Transport};
use tokio::net::UdpSocket;
use tokio::time::timeout;

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A name server on 127.0.0.1 with a fixed zone; counts the queries it gets.
async fn fake_name_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let queries = Arc::new(AtomicUsize::new(0));
    let counter = queries.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            counter.fetch_add(1, Ordering::SeqCst);
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let reply = answer(&query);
            let _ = socket.send_to(&reply.to_vec().unwrap(), from).await;
        }
    });
    (addr, queries)
}

fn answer(query: &Message) -> Message {
    let mut reply = Message::new();
    reply
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_recursion_available(true);
    reply.add_queries(query.queries().to_vec());
    let Some(q) = query.queries().first() else {
        return reply;
    };
    let name = q.name().to_ascii().to_lowercase();
    let records: Vec<Record> = match (name.as_str(), q.query_type()) {
        ("_sip._udp.example.test.", RecordType::SRV) => vec![
            srv(&name, 20, 0, 5070, "backup.example.test."),
            srv(&name, 10, 0, 5080, "primary.example.test."),
        ],
        ("primary.example.test.", RecordType::A) => vec![a(&name, [127, 0, 0, 2])],
        ("backup.example.test.", RecordType::A) => vec![a(&name, [127, 0, 0, 3])],
        ("nosrv.test.", RecordType::A) => vec![a(&name, [127, 0, 0, 4])],
        _ => vec![],
    };
    if records.is_empty() {
        reply.set_response_code(ResponseCode::NXDomain);
    }
    reply.add_answers(records);
    reply
}

fn srv(name: &str, priority: u16, weight: u16, port: u16, target: &str) -> Record {
    let rdata = RData::SRV(SRV::new(
        priority,
        weight,
        port,
        Name::from_str(target).unwrap(),
    ));
    Record::from_rdata(Name::from_str(name).unwrap(), 60, rdata)
}

fn a(name: &str, ip: [u8; 4]) -> Record {
    Record::from_rdata(
        Name::from_str(name).unwrap(),
        60,
        RData::A(A::from(Ipv4Addr::from(ip))),
    )
}

fn udp(ip: [u8; 4], port: u16) -> Target {
    Target {
        transport: Transport::Udp,
        addr: SocketAddr::new(IpAddr::from(ip), port),
    }
}

#[tokio::test]
async fn ip_literal_resolves_to_itself_without_any_query() {
    let (server, queries) = fake_name_server().await;
    let resolver = DnsResolver::with_name_servers(&[server]);
    let host = Host::V4(Ipv4Addr::new(192, 0, 2, 1));
    let got = resolver.resolve(&host, None, Transport::Tls).await.unwrap();
    assert_eq!(
        got,
        vec![Target {
            transport: Transport::Tls,
            addr: "192.0.2.1:5061".parse().unwrap()
        }]
    );
    let got = resolver
        .resolve(&host, Some(7000), Transport::Udp)
        .await
        .unwrap();
    assert_eq!(got, vec![udp([192, 0, 2, 1], 7000)]);
    // The free function with the system configuration short-circuits as well.
    let v6 = Host::V6("::1".parse().unwrap());
    let got = resolve(&v6, Some(5080), Transport::Tcp).await.unwrap();
    assert_eq!(
        got,
        vec![Target {
            transport: Transport::Tcp,
            addr: "[::1]:5080".parse().unwrap()
        }]
    );
    assert_eq!(queries.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn srv_targets_come_in_priority_order_with_their_ports() {
    let (server, queries) = fake_name_server().await;
    let resolver = DnsResolver::with_name_servers(&[server]);
    let host = Host::Domain("example.test".into());
    let got = timeout(WAIT, resolver.resolve(&host, None, Transport::Udp))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        vec![udp([127, 0, 0, 2], 5080), udp([127, 0, 0, 3], 5070)]
    );
    assert!(queries.load(Ordering::SeqCst) >= 3, "SRV and two A queries");
}

#[tokio::test]
async fn without_srv_the_name_is_resolved_on_the_default_port() {
    let (server, _) = fake_name_server().await;
    let resolver = DnsResolver::with_name_servers(&[server]);
    let host = Host::Domain("nosrv.test".into());
    let got = timeout(WAIT, resolver.resolve(&host, None, Transport::Udp))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, vec![udp([127, 0, 0, 4], 5060)]);
}

#[tokio::test]
async fn explicit_port_skips_srv() {
    let (server, _) = fake_name_server().await;
    let resolver = DnsResolver::with_name_servers(&[server]);
    // example.test has SRV records but no A record: with a port only A/AAAA is asked.
    let host = Host::Domain("example.test".into());
    let err = timeout(WAIT, resolver.resolve(&host, Some(5060), Transport::Udp))
        .await
        .unwrap();
    assert!(matches!(err, Err(DnsError::NotFound { .. })), "{err:?}");
}

#[tokio::test]
async fn localhost_with_port_resolves_to_loopback_without_a_name_server() {
    let (server, queries) = fake_name_server().await;
    let resolver = DnsResolver::with_name_servers(&[server]);
    let host = Host::Domain("localhost".into());
    let got = timeout(WAIT, resolver.resolve(&host, Some(5062), Transport::Tcp))
        .await
        .unwrap()
        .unwrap();
    assert!(!got.is_empty());
    for target in &got {
        assert!(target.addr.ip().is_loopback(), "{target}");
        assert_eq!(target.addr.port(), 5062);
        assert_eq!(target.transport, Transport::Tcp);
    }
    assert_eq!(queries.load(Ordering::SeqCst), 0);
}
