#!/usr/bin/env python3
"""ZRTP set-up time from a packet capture of one call (tcpdump -w, classic pcap).

    zrtp-pcap.py CAPTURE.pcap

Prints one JSON object:
  hello_to_conf2ack_ms  first ZRTP Hello on the wire -> first Conf2ACK (SRTP keys installed on
                        both sides: the Initiator has Confirm1, the Responder has Confirm2)
  ok_to_conf2ack_ms     the first SIP "200 OK" to INVITE on the wire (the call answered) -> first
                        Conf2ACK: what the user waits for, including the time before the first Hello
  hello_to_media_ms     first Hello -> the first RTP/SRTP packet after it in each direction, the
                        later of the two (media flowing both ways)
  key_agreement, cipher, hash, sas   from the Commit of the side that did not send DHPart1
  messages              count of each ZRTP message type (retransmissions included)
  error                 when the capture holds no Hello or no Conf2ACK
Only UDP is looked at. ZRTP packets are told by their header (first byte 0x10, magic cookie
"ZRTP" at offset 4), media by RTP version 2 with a payload type below 72 (not RTCP). Plain
struct parsing: no scapy or tshark needed. Link types: Ethernet (tcpdump on lo), Linux cooked
v1/v2, raw IP.
"""
import json
import struct
import sys

ZRTP_COOKIE = b"ZRTP"


def packets(path):
    """Yields (time_s, udp_src_port, udp_dst_port, udp_payload) for each UDP/IPv4 packet."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        else:
            endian = ">"
            magic = struct.unpack(">I", head[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            raise SystemExit(f"{path}: not a classic pcap file")
        frac = 1e-9 if magic == 0xA1B23C4D else 1e-6
        linktype = struct.unpack(endian + "I", head[20:24])[0] & 0x0FFFFFFF
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, sub, incl, _orig = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            ip = ip_start(linktype, data)
            if ip is None or len(data) < ip + 20 or data[ip] >> 4 != 4 or data[ip + 9] != 17:
                continue
            ihl = (data[ip] & 0x0F) * 4
            udp = ip + ihl
            if len(data) < udp + 8:
                continue
            sport, dport = struct.unpack(">HH", data[udp:udp + 4])
            yield sec + sub * frac, sport, dport, data[udp + 8:]


def ip_start(linktype, data):
    """Offset of the IP header for this link type, or None if the frame is not IPv4."""
    if linktype == 1:  # Ethernet
        return 14 if data[12:14] == b"\x08\x00" else None
    if linktype == 113:  # Linux cooked v1
        return 16 if data[14:16] == b"\x08\x00" else None
    if linktype == 276:  # Linux cooked v2
        return 20 if data[0:2] == b"\x08\x00" else None
    if linktype in (12, 101):  # raw IP
        return 0
    if linktype == 0:  # BSD loopback
        return 4
    return None


def zrtp_type(payload):
    if len(payload) >= 24 and payload[0] & 0xF0 == 0x10 and payload[4:8] == ZRTP_COOKIE:
        return payload[16:24].decode("ascii", "replace").strip()
    return None


def is_media(payload):
    return len(payload) >= 12 and payload[0] >> 6 == 2 and (payload[1] & 0x7F) < 72


def is_invite_ok(payload):
    if not payload.startswith(b"SIP/2.0 200"):
        return False
    for line in payload.split(b"\n"):
        if line.lower().startswith(b"cseq:") and b"INVITE" in line.upper():
            return True
    return False


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    hello = conf2ack = ok200 = None
    counts = {}
    commits = {}  # source port -> Commit message bytes (the last one seen)
    responder = None  # source port of the first DHPart1
    media_first = {}  # (src, dst) -> time of the first media packet after the first Hello
    for t, sport, dport, payload in packets(sys.argv[1]):
        kind = zrtp_type(payload)
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "Hello" and hello is None:
                hello = t
            elif kind == "Conf2ACK" and conf2ack is None:
                conf2ack = t
            elif kind == "Commit":
                commits[sport] = payload[12:]
            elif kind == "DHPart1" and responder is None:
                responder = sport
        elif ok200 is None and is_invite_ok(payload):
            ok200 = t
        elif hello is not None and is_media(payload):
            media_first.setdefault((sport, dport), t)
    out = {"messages": counts}
    if hello is None or conf2ack is None:
        out["error"] = "no ZRTP Hello" if hello is None else "no Conf2ACK"
        print(json.dumps(out))
        return
    out["hello_to_conf2ack_ms"] = round((conf2ack - hello) * 1000, 1)
    if ok200 is not None:
        out["ok_to_conf2ack_ms"] = round((conf2ack - ok200) * 1000, 1)
    # Media both ways: the earliest packet of each direction, the later of the two directions.
    firsts = {}
    for (src, dst), t in media_first.items():
        key = tuple(sorted((src, dst)))
        firsts.setdefault(key, []).append(t)
    both = [max(ts) for ts in firsts.values() if len(ts) == 2]
    if both:
        out["hello_to_media_ms"] = round((min(both) - hello) * 1000, 1)
    initiator = [c for port, c in commits.items() if port != responder]
    if initiator:
        c = initiator[0]
        # Commit: preamble, length, type (12 bytes), H2 (32), ZID (12), then the five algorithms.
        algos = [c[i:i + 4].decode("ascii", "replace").strip() for i in range(56, 76, 4)]
        out.update(hash=algos[0], cipher=algos[1], auth_tag=algos[2], key_agreement=algos[3],
                   sas=algos[4])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
