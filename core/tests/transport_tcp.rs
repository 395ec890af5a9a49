//! TCP: framing of split and joined messages, flow reuse in both directions, keepalive
//! ping/pong, flow closing and connect failures.

mod transport_support;

use std::time::Duration;

use sipher::engine::{TransportEvent, Transports};
use sipher::sip::{Target, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep, timeout};
use transport_support::*;

fn tcp(addr: std::net::SocketAddr) -> Target {
    Target {
        transport: Transport::Tcp,
        addr,
    }
}

async fn expect_received(
    events: &mut tokio::sync::mpsc::Receiver<TransportEvent>,
) -> (Target, Vec<u8>) {
    match next_event(events).await {
        TransportEvent::Received { source, data, .. } => (source, data),
        other => panic!("expected Received, got {other:?}"),
    }
}

/// Reads exactly `len` bytes from a raw peer, bounded.
async fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    timeout(WAIT, stream.read_exact(&mut buf))
        .await
        .expect("data within 5 s")
        .unwrap();
    buf
}

#[tokio::test]
async fn messages_split_across_writes_and_joined_in_one_write_are_framed() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    let listen = phone.local_addr(Transport::Tcp).unwrap();
    let mut peer = TcpStream::connect(listen).await.unwrap();
    let peer_addr = peer.local_addr().unwrap();

    let first = sip_message("first body");
    let (head, tail) = first.split_at(20);
    peer.write_all(head).await.unwrap();
    sleep(Duration::from_millis(50)).await;
    peer.write_all(tail).await.unwrap();
    let (source, data) = expect_received(&mut events).await;
    assert_eq!(source, tcp(peer_addr));
    assert_eq!(data, first);

    let second = sip_message("second");
    let third = sip_message("third, longer body");
    let mut joined = second.clone();
    joined.extend_from_slice(&third);
    peer.write_all(&joined).await.unwrap();
    assert_eq!(expect_received(&mut events).await.1, second);
    assert_eq!(expect_received(&mut events).await.1, third);
}

#[tokio::test]
async fn incoming_flow_is_reused_for_sending_back_to_its_source() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    let mut peer = TcpStream::connect(phone.local_addr(Transport::Tcp).unwrap())
        .await
        .unwrap();
    peer.write_all(&sip_message("request")).await.unwrap();
    let (source, _) = expect_received(&mut events).await;

    // The peer (say a proxy behind which we sit) listens nowhere: only the flow reaches it.
    let response = sip_message("response");
    phone.send(source, response.clone());
    assert_eq!(read_exact(&mut peer, response.len()).await, response);
}

#[tokio::test]
async fn outgoing_flow_carries_the_reverse_direction_and_is_reused() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    let server = TcpListener::bind(loopback(0)).await.unwrap();
    let target = tcp(server.local_addr().unwrap());

    let register = sip_message("register");
    phone.send(target, register.clone());
    let (mut conn, _) = timeout(WAIT, server.accept()).await.unwrap().unwrap();
    assert_eq!(read_exact(&mut conn, register.len()).await, register);

    // The server's request comes back over the same connection, attributed to the target.
    let invite = sip_message("incoming call");
    conn.write_all(&invite).await.unwrap();
    let (source, data) = expect_received(&mut events).await;
    assert_eq!(source, target);
    assert_eq!(data, invite);

    // A second send reuses the flow: no new connection is accepted.
    let again = sip_message("again");
    phone.send(target, again.clone());
    assert_eq!(read_exact(&mut conn, again.len()).await, again);
    assert!(timeout(Duration::from_millis(200), server.accept())
        .await
        .is_err());
}

#[tokio::test]
async fn two_transports_talk_over_tcp_on_one_connection() {
    let (alice, mut alice_events) = Transports::bind(config()).await.unwrap();
    let (bob, mut bob_events) = Transports::bind(config()).await.unwrap();
    let bob_tcp = tcp(bob.local_addr(Transport::Tcp).unwrap());

    alice.send(bob_tcp, sip_message("hello bob"));
    let (alice_seen_by_bob, _) = expect_received(&mut bob_events).await;
    bob.send(alice_seen_by_bob, sip_message("hello alice"));
    let (source, data) = expect_received(&mut alice_events).await;
    assert_eq!(source, bob_tcp);
    assert_eq!(data, sip_message("hello alice"));
}

#[tokio::test]
async fn peer_closing_the_flow_emits_flow_closed_and_next_send_reconnects() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    let server = TcpListener::bind(loopback(0)).await.unwrap();
    let target = tcp(server.local_addr().unwrap());

    phone.send(target, sip_message("one"));
    let (conn, _) = timeout(WAIT, server.accept()).await.unwrap().unwrap();
    drop(conn);
    match next_event(&mut events).await {
        TransportEvent::FlowClosed { target: closed, .. } => assert_eq!(closed, target),
        other => panic!("expected FlowClosed, got {other:?}"),
    }

    let two = sip_message("two");
    phone.send(target, two.clone());
    let (mut conn, _) = timeout(WAIT, server.accept()).await.unwrap().unwrap();
    assert_eq!(read_exact(&mut conn, two.len()).await, two);
}

#[tokio::test]
async fn garbage_on_a_flow_closes_it() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    let mut peer = TcpStream::connect(phone.local_addr(Transport::Tcp).unwrap())
        .await
        .unwrap();
    let peer_addr = peer.local_addr().unwrap();
    peer.write_all(b"INVITE sip:x SIP/2.0\r\nContent-Length: banana\r\n\r\n")
        .await
        .unwrap();
    match next_event(&mut events).await {
        TransportEvent::FlowClosed { target, .. } => assert_eq!(target, tcp(peer_addr)),
        other => panic!("expected FlowClosed, got {other:?}"),
    }
    // The transport hung up on the peer.
    let mut buf = [0u8; 16];
    let read = timeout(WAIT, peer.read(&mut buf))
        .await
        .expect("closed within 5 s");
    assert!(matches!(read, Ok(0) | Err(_)));
}

#[tokio::test]
async fn connect_failure_reports_send_failed() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    // A port that was just free: connecting is refused.
    let port = TcpListener::bind(loopback(0))
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = tcp(loopback(port));
    phone.send(target, sip_message("nobody home"));
    match next_event(&mut events).await {
        TransportEvent::SendFailed {
            target: failed,
            reason,
        } => {
            assert_eq!(failed, target);
            assert!(reason.contains("connect"), "{reason}");
        }
        other => panic!("expected SendFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn keepalive_pings_are_ponged_by_the_peer_and_a_missing_pong_closes_the_flow() {
    let mut cfg = config();
    cfg.keepalive_interval = Duration::from_millis(200);
    let (phone, mut events) = Transports::bind(cfg).await.unwrap();
    let server = TcpListener::bind(loopback(0)).await.unwrap();
    let target = tcp(server.local_addr().unwrap());

    phone.keep_alive(target, true);
    let register = sip_message("register");
    phone.send(target, register.clone());
    let (mut conn, _) = timeout(WAIT, server.accept()).await.unwrap().unwrap();
    assert_eq!(read_exact(&mut conn, register.len()).await, register);

    // Answer three pings: the flow stays up well past the pong timeout (one interval here).
    for _ in 0..3 {
        assert_eq!(read_exact(&mut conn, 4).await, b"\r\n\r\n");
        conn.write_all(b"\r\n").await.unwrap();
    }
    // The pongs were consumed, not delivered as messages; now stop answering.
    let event = next_event(&mut events).await;
    match event {
        TransportEvent::FlowClosed {
            target: closed,
            reason,
        } => {
            assert_eq!(closed, target);
            assert!(reason.contains("pong"), "{reason}");
        }
        other => panic!("expected FlowClosed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_peer_ping_is_answered_with_a_pong() {
    let (phone, mut events) = Transports::bind(config()).await.unwrap();
    let mut peer = TcpStream::connect(phone.local_addr(Transport::Tcp).unwrap())
        .await
        .unwrap();
    peer.write_all(b"\r\n\r\n").await.unwrap();
    assert_eq!(read_exact(&mut peer, 2).await, b"\r\n");
    no_event(&mut events, Duration::from_millis(100)).await;
}
