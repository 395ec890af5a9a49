#!/usr/bin/env python3
"""Send SIP torture messages to a UA over UDP and judge its responses (stdlib only, bounded).

usage: torture_udp.py HOST:PORT FILE...

The expected verdict is in each file name:
  valid-*    a proper response: OPTIONS -> 200; INVITE -> 1xx/2xx/4xx other than 400;
             BYE/CANCEL -> 200 or 481; ACK -> no response; other methods -> any but 400/505
  invalid-*  400 (no response is accepted only when the message has no usable top Via)
  version-*  505
  scheme-*   416 (unsupported Request-URI scheme)
A file holding a response (first line "SIP/...") must not be answered at all.
Each file is sent as it is, except that the branch of the first Via is replaced by a unique value
of the same length: the set reuses one branch, and a UA rightly takes a second INVITE with that
branch within 32 s for a retransmission of the first (RFC 3261 17.2.3) and does not answer it.
Responses go to the top Via's sent-by port on
127.0.0.1 (RFC 3261 18.2.2 with "received"), or to the source port with rport, so the script
listens on both. Responses are matched to a file by Call-ID. A 2xx to an INVITE gets an ACK and a
BYE so that the UA does not keep the call. After all files, an OPTIONS of our own must get 200.
Prints one PASS/FAIL line per file and a last line "COUNTS <passed> <failed>".
"""

import os
import random
import re
import select
import socket
import sys
import time

WAIT_FIRST = 2.0  # seconds to wait for a first response
WAIT_SILENCE = 1.0  # seconds of silence that count as "no response"
WAIT_FINAL = 2.0  # extra seconds to wait for a final response after a provisional one
MAX_DATAGRAM = 65535
MAX_UDP_PAYLOAD = 65507  # IPv4: 65535 - 20 (IP header) - 8 (UDP header)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    host, port = sys.argv[1].rsplit(":", 1)
    target = (host, int(port))
    files = sorted(sys.argv[2:])
    tester = Tester(target, files)
    for note in tester.notes:
        print("NOTE %s" % note)
    passed = failed = 0
    for path in files:
        ok, line = tester.run_file(path)
        if ok is None:
            print("SKIP %s   [%s]" % (os.path.basename(path), line))
            continue
        print("%s %s   [%s]" % ("PASS" if ok else "FAIL", os.path.basename(path), line))
        passed += ok
        failed += not ok
    ok, line = tester.final_options()
    print("%s still answers OPTIONS with 200 after the torture set   [%s]"
          % ("PASS" if ok else "FAIL", line))
    passed += ok
    failed += not ok
    print("COUNTS %d %d" % (passed, failed))
    return 0 if failed == 0 else 1


class Tester:
    def __init__(self, target, files):
        self.target = target
        self.main = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.main.bind(("127.0.0.1", 0))
        self.my_port = self.main.getsockname()[1]
        self.socks = [self.main]
        self.seen_call_ids = set()
        self.branch_counter = random.randrange(1 << 16) << 8
        self.notes = []
        # extra listeners for the Via sent-by ports named in the files (responses may go there)
        ports = set()
        for path in files:
            via = top_via(read(path))
            if via and via[1] not in (self.my_port, target[1]):
                ports.add(via[1])
        for p in sorted(ports):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", p))
                self.socks.append(s)
            except OSError:
                s.close()
                self.notes.append("cannot listen on Via port %d: responses sent there are missed"
                                  % p)
        self.notes.append("listening on 127.0.0.1 ports %s"
                          % ", ".join(str(s.getsockname()[1]) for s in self.socks))

    def run_file(self, path):
        name = os.path.basename(path)
        data = read(path)
        kind = name.split("-", 1)[0]
        if kind not in ("valid", "invalid", "version", "scheme"):
            return None, "unknown name pattern"
        if len(data) > MAX_UDP_PAYLOAD:
            return None, "%d bytes: too large for one UDP datagram" % len(data)
        self.drain()
        first = data.split(b"\n", 1)[0].strip()
        is_response = first.upper().startswith(b"SIP/")
        method = b"" if is_response else first.split(b" ", 1)[0].upper()
        call_id = header(data, ("call-id", "i"))
        data = self.unique_branch(data)
        self.main.sendto(data, self.target)
        expect_silence = is_response or (kind == "valid" and method == b"ACK")
        responses = self.collect(call_id, method == b"INVITE", expect_silence)
        if call_id is not None:
            self.seen_call_ids.add(call_id)
        codes = [r[0] for r in responses]
        finals = [c for c in codes if c >= 200]
        desc = ",".join(str(c) for c in codes) or "no response"
        for code, msg in responses:
            if method == b"INVITE" and 200 <= code < 300:
                self.ack_and_bye(data, msg)

        if is_response:
            return not codes, "a response; got %s" % desc
        if kind == "valid":
            if method == b"ACK":
                return not codes, "ACK; got %s" % desc
            if not codes:
                return False, "%s; no response" % method.decode(errors="replace")
            if any(c in (400, 505) for c in codes):
                return False, "%s; got %s" % (method.decode(errors="replace"), desc)
            if method == b"OPTIONS":
                return finals[:1] == [200], "OPTIONS; got %s" % desc
            if method == b"INVITE":
                ok = all(c < 300 or 400 <= c < 500 for c in codes)
                return ok, "INVITE; got %s" % desc
            if method in (b"BYE", b"CANCEL"):
                ok = bool(finals) and finals[0] in (200, 481)
                return ok, "%s; got %s" % (method.decode(), desc)
            return bool(finals), "%s; got %s" % (method.decode(errors="replace"), desc)
        if kind == "invalid":
            if finals[:1] == [400]:
                return True, "got %s" % desc
            if not codes and top_via(data) is None:
                return True, "no response (no usable top Via to answer to)"
            return False, "expected 400, got %s" % desc
        want = 505 if kind == "version" else 416
        return finals[:1] == [want], "expected %d, got %s" % (want, desc)

    def unique_branch(self, data):
        """data with the first Via branch value replaced by a fresh one of the same length."""
        end = data.find(b"\r\n\r\n")
        m = re.search(rb"branch=z9hG4bK([A-Za-z0-9.!%*_+`'~-]{3,})", data[: end if end >= 0 else None])
        if not m:
            return data
        self.branch_counter += 1
        width = len(m.group(1))
        fresh = ("%0*x" % (width, self.branch_counter))[-width:].encode()
        return data[: m.start(1)] + fresh + data[m.end(1):]

    def final_options(self):
        self.drain()
        cid = "torture-final-%d@127.0.0.1" % random.randrange(1 << 30)
        msg = (
            "OPTIONS sip:%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%08x;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:torture@127.0.0.1>;tag=%08x\r\n"
            "To: <sip:%s:%d>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
            % (self.target[0], self.target[1], self.my_port, random.randrange(1 << 32),
               random.randrange(1 << 32), self.target[0], self.target[1], cid)
        ).encode()
        self.main.sendto(msg, self.target)
        responses = self.collect(cid, False, False)
        codes = [r[0] for r in responses]
        return 200 in codes, ",".join(map(str, codes)) or "no response"

    def collect(self, call_id, is_invite, expect_silence):
        """Responses (code, bytes) for this message until a final one or the deadline."""
        start = time.monotonic()
        deadline = start + (WAIT_SILENCE if expect_silence else WAIT_FIRST)
        got = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            ready, _, _ = select.select(self.socks, [], [], left)
            for s in ready:
                msg, _ = s.recvfrom(MAX_DATAGRAM)
                code = status_code(msg)
                if code is None:
                    continue  # a request from the UA (e.g. a BYE); not ours to judge
                cid = header(msg, ("call-id", "i"))
                if call_id is not None and cid != call_id:
                    continue
                if call_id is None and cid in self.seen_call_ids:
                    continue
                got.append((code, msg))
                if code >= 200 and not expect_silence:
                    # a final response: keep a short look-out for more (there should be none)
                    deadline = min(deadline, time.monotonic() + 0.2)
                elif is_invite and code < 200:
                    deadline = max(deadline, time.monotonic() + WAIT_FINAL)

    def ack_and_bye(self, request, response):
        cid = header(response, ("call-id", "i")) or ""
        frm = header(response, ("from", "f")) or ""
        to = header(response, ("to", "t")) or ""
        cseq = header(response, ("cseq",)) or "1 INVITE"
        contact = header(response, ("contact", "m")) or ""
        m = re.search(r"<([^>]+)>", contact)
        ruri = m.group(1) if m else "sip:%s:%d" % self.target
        try:
            n = int(cseq.split()[0])
        except ValueError:
            n = 1
        for method, num in (("ACK", n), ("BYE", n + 1)):
            msg = (
                "%s %s SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%08x;rport\r\n"
                "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
                "Content-Length: 0\r\n\r\n"
                % (method, ruri, self.my_port, random.randrange(1 << 32), frm, to, cid, num, method)
            ).encode()
            self.main.sendto(msg, self.target)
        time.sleep(0.1)

    def drain(self):
        while True:
            ready, _, _ = select.select(self.socks, [], [], 0.05)
            if not ready:
                return
            for s in ready:
                s.recvfrom(MAX_DATAGRAM)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def head_lines(msg):
    """Header lines (unfolded) of a message, as str, up to the first empty line."""
    text = msg.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    lines = []
    for line in re.split(r"\r?\n", text)[1:]:
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def header(msg, names):
    """First value of a header by (long or compact) name, or None."""
    for line in head_lines(msg):
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in names:
            return value.strip()
    return None


def top_via(msg):
    """(host, port) of the top Via sent-by, or None if there is no usable one."""
    via = header(msg, ("via", "v"))
    if via is None:
        return None
    m = re.match(r"SIP\s*/\s*2\.0\s*/\s*[A-Za-z]+\s+(\[[^\]]+\]|[^\s;:,]+)(?:\s*:\s*(\d+))?",
                 via, re.I)
    if not m:
        return None
    port = int(m.group(2)) if m.group(2) else 5060
    return (m.group(1), port) if 0 < port < 65536 else None


def status_code(msg):
    m = re.match(rb"SIP/2\.0 (\d{3})", msg)
    return int(m.group(1)) if m else None


if __name__ == "__main__":
    sys.exit(main())
