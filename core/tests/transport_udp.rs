//! UDP: datagrams between two transports, keepalives to a registrar.

mod transport_support;

use std::time::Duration;

use sipher::engine::{TransportEvent, Transports};
use sipher::sip::{Target, Transport};
use tokio::net::UdpSocket;
use tokio::time::timeout;
use transport_support::*;

#[tokio::test]
async fn udp_echo_between_two_transports() {
    let (alice, mut alice_events) = Transports::bind(config()).await.unwrap();
    let (bob, mut bob_events) = Transports::bind(config()).await.unwrap();
    let alice_addr = alice.local_addr(Transport::Udp).unwrap();
    let bob_addr = bob.local_addr(Transport::Udp).unwrap();
    assert_ne!(bob_addr.port(), 0, "Some(0) binds a real port");

    let request = sip_message("ping");
    alice.send(
        Target {
            transport: Transport::Udp,
            addr: bob_addr,
        },
        request.clone(),
    );
    let TransportEvent::Received {
        source,
        local,
        data,
    } = next_event(&mut bob_events).await
    else {
        panic!("expected Received");
    };
    assert_eq!(
        source,
        Target {
            transport: Transport::Udp,
            addr: alice_addr
        }
    );
    assert_eq!(local, bob_addr);
    assert_eq!(data, request);

    // Bob answers the source of what he received.
    let response = sip_message("pong");
    bob.send(source, response.clone());
    let TransportEvent::Received { source, data, .. } = next_event(&mut alice_events).await else {
        panic!("expected Received");
    };
    assert_eq!(source.addr, bob_addr);
    assert_eq!(data, response);
    alice.shutdown();
    bob.shutdown();
}

#[tokio::test]
async fn udp_keepalive_sends_crlfcrlf_until_stopped_and_incoming_crlf_is_ignored() {
    let mut cfg = config();
    cfg.keepalive_interval = Duration::from_millis(50);
    let (phone, mut events) = Transports::bind(cfg).await.unwrap();
    let registrar = UdpSocket::bind(loopback(0)).await.unwrap();
    let target = Target {
        transport: Transport::Udp,
        addr: registrar.local_addr().unwrap(),
    };

    phone.keep_alive(target, true);
    let mut buf = [0u8; 64];
    for _ in 0..2 {
        let (n, from) = timeout(WAIT, registrar.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"\r\n\r\n");
        assert_eq!(from, phone.local_addr(Transport::Udp).unwrap());
    }
    // A registrar's own CRLF keepalive is not a SIP message.
    registrar
        .send_to(b"\r\n\r\n", phone.local_addr(Transport::Udp).unwrap())
        .await
        .unwrap();
    no_event(&mut events, Duration::from_millis(200)).await;

    phone.keep_alive(target, false);
    // Drain anything already in flight, then expect silence.
    while timeout(Duration::from_millis(150), registrar.recv_from(&mut buf))
        .await
        .is_ok()
    {}
    let late = timeout(Duration::from_millis(300), registrar.recv_from(&mut buf)).await;
    assert!(late.is_err(), "keepalive still sent after being stopped");
}

#[tokio::test]
async fn udp_send_without_udp_socket_reports_send_failed() {
    let mut cfg = config();
    cfg.udp_port = None;
    let (phone, mut events) = Transports::bind(cfg).await.unwrap();
    assert_eq!(phone.local_addr(Transport::Udp), None);
    let target = Target {
        transport: Transport::Udp,
        addr: loopback(9),
    };
    phone.send(target, sip_message("x"));
    match next_event(&mut events).await {
        TransportEvent::SendFailed { target: failed, .. } => assert_eq!(failed, target),
        other => panic!("expected SendFailed, got {other:?}"),
    }
}
