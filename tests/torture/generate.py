#!/usr/bin/env python3
"""Writes the SIP torture messages in this directory (RFC 4475 style, our own messages).

The file name carries the verdict expected from `parse_message` (see core/tests/torture.rs):
  valid-*    parses, and round-trips through to_bytes()
  invalid-*  rejected: the UA answers 400 (or drops a bad response)
  version-*  rejected as ParseErrorKind::VersionNotSupported: the UA answers 505
  scheme-*   rejected as ParseErrorKind::UnsupportedScheme: the UA answers 416

Messages are written with "\n" here and stored with CRLF; `{cl}` is replaced by the body length.
The .sip files are the source of truth: re-running this script must reproduce them byte for byte.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {}


def msg(name, head, body=b"", crlf=True):
    head = head.lstrip("\n")
    data = head.replace("{cl}", str(len(body)))
    if crlf:
        data = data.replace("\n", "\r\n")
    CASES[name] = data.encode("utf-8") + body


VIA = "Via: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK74bf9\n"
COMMON = """From: "Alice" <sip:alice@example.com>;tag=9fxced76sl
To: <sip:bob@example.org>
Call-ID: 3848276298220188511@pc1.example.com
"""
SDP = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 pc1.example.com\r\ns=-\r\n" \
      b"c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"


def invite(name, extra="", ruri="sip:bob@example.org", body=SDP, cseq="1 INVITE",
           method="INVITE", version="SIP/2.0", via=VIA, common=COMMON, max_forwards="70"):
    msg(name, f"""{method} {ruri} {version}
{via}Max-Forwards: {max_forwards}
{common}CSeq: {cseq}
Contact: <sip:alice@pc1.example.com>
{extra}Content-Type: application/sdp
Content-Length: {{cl}}

""", body)


# ---- valid --------------------------------------------------------------------------------
invite("valid-basic-invite")
msg("valid-unusual-spacing-and-folding", """INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : {cl}
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

""", SDP)
msg("valid-compact-headers", """OPTIONS sip:user@example.com SIP/2.0
v: SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK-compact
i: compact-1@client.example.com
f: <sip:caller@example.net>;tag=11
t: <sip:user@example.com>
m: <sip:caller@client.example.com;transport=tcp>
k: 100rel, timer
s: compact forms
e: identity
o: presence
CSeq: 7 OPTIONS
c: text/plain
l: {cl}

hello""", b"hello")
invite("valid-folded-subject", extra="Subject: I know you're there,\n pick up the phone\n   and talk to me!\n")
invite("valid-ipv6-request-uri-and-via", ruri="sip:[2001:db8::10]:5070",
       via="Via: SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];branch=z9hG4bKas3-111\n")
msg("valid-extension-method", """NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: newmethod.48293@192.0.2.5
CSeq: 8 NEWMETHOD
Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bK-newmethod
Content-Type: application/x-unknown
Content-Length: {cl}

opaque""", b"opaque")
invite("valid-escaped-user-and-params",
       ruri="sip:sips%3Auser%40example.com@example.net;param%20name=value%20x",
       common="""From: <sip:%61lice@example.com>;tag=abc
To: <sip:sips%3Auser%40example.com@example.net>
Call-ID: escaped.1@pc1.example.com
""")
invite("valid-comma-joined-vias",
       via="Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p1, SIP/2.0/TCP pc1.example.com:5062;branch=z9hG4bK-c1\n")
msg("valid-register-contact-star", """REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK-unreg
Max-Forwards: 70
From: <sip:alice@example.com>;tag=reg1
To: <sip:alice@example.com>
Call-ID: unregister-all@pc1.example.com
CSeq: 20 REGISTER
Contact: *
Expires: 0
Content-Length: 0

""")
invite("valid-sips-uri", ruri="sips:bob@secure.example.org",
       via="Via: SIP/2.0/TLS pc1.example.com:5061;branch=z9hG4bK-tls\n",
       common="""From: <sips:alice@secure.example.com>;tag=s1
To: <sips:bob@secure.example.org>
Call-ID: sips.1@pc1.example.com
""")
invite("valid-unknown-headers-and-params", ruri="sip:bob@example.org;foo=bar;baz",
       via="Via: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK-u;x-unknown=1;flag\n",
       extra="X-Custom-Header: anything goes here; really\nP-Weird: \"quoted, with comma\"\nAccept-Contact: *;audio\n")
msg("valid-empty-reason-phrase", """SIP/2.0 200 
Via: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK74bf9
From: <sip:alice@example.com>;tag=9fxced76sl
To: <sip:bob@example.org>;tag=8321234356
Call-ID: 3848276298220188511@pc1.example.com
CSeq: 1 INVITE
Content-Length: 0

""")
long_val = "x" * 2000
many_vias = "".join(f"Via: SIP/2.0/UDP relay{i}.example.com;branch=z9hG4bK-{i}\n" for i in range(60))
invite("valid-long-values", via=many_vias,
       extra=f"X-Long: {long_val}\nSubject: {'long subject ' * 150}\n",
       common=f"""From: "{'Very Long Display Name ' * 20}" <sip:{'u' * 300}@example.com>;tag={'t' * 200}
To: <sip:bob@{'sub.' * 40}example.org>
Call-ID: {'c' * 500}@pc1.example.com
""")
invite("valid-multiple-via-lines",
       via="Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK-2\nVia: SIP/2.0/TCP p1.example.com:5070;branch=z9hG4bK-1;received=192.0.2.7;rport=5071\nVia: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK-0\n")
invite("valid-escaped-display-name", common="""From: "Alice \\"the \\\\ boss\\" O'Neil" <sip:alice@example.com>;tag=q1
To: Bob Smith <sip:bob@example.org>
Call-ID: escdisplay@pc1.example.com
""")
invite("valid-uri-and-header-params",
       extra="Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr;transport=tcp>\n",
       common="""From: sip:alice@example.com;tag=addrspec
To: <sip:bob@example.org;user=phone>;custom=1
Call-ID: params@pc1.example.com
""")
msg("valid-leading-crlf", "\n\n" + """OPTIONS sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 2 OPTIONS
Content-Length: 0

""")
msg("valid-body-longer-than-content-length", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 3 MESSAGE
Content-Type: text/plain
Content-Length: 5

hello, and trailing bytes the datagram carried""")
msg("valid-no-content-length-datagram", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 4 MESSAGE
Content-Type: text/plain

the whole rest is the body""")
msg("valid-lowercase-version-and-names", """OPTIONS sip:bob@example.org sip/2.0
via: SIP/2.0/udp pc1.example.com;branch=z9hG4bK-lc
from: <sip:alice@example.com>;tag=lc
to: <sip:bob@example.org>
call-id: lowercase@pc1.example.com
cseq: 5 OPTIONS
content-length: 0

""")
msg("valid-response-utf8-reason", """SIP/2.0 486 Occupé, rappelez plus tard ☎
Via: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK74bf9
From: <sip:alice@example.com>;tag=9fxced76sl
To: <sip:bob@example.org>;tag=busy
Call-ID: 3848276298220188511@pc1.example.com
CSeq: 1 INVITE
Content-Length: 0

""")
invite("valid-quoted-comma-in-contact-list", extra="Contact: \"Doe, John\" <sip:john@pc2.example.com>;q=0.5, <sip:john@mobile.example.com;transport=tcp>;q=0.1\n")
invite("valid-semicolon-in-user", ruri="sip:user;par=u%40example.net@example.com")
msg("valid-no-max-forwards", """BYE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 6 BYE
Content-Length: 0

""")
msg("valid-binary-body", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 7 MESSAGE
Content-Type: application/octet-stream
Content-Length: {cl}

""", bytes(range(256)) + b"\r\n\r\n\x00")
invite("valid-ipv4-port-maddr", ruri="sip:bob@192.0.2.44:5080;maddr=239.255.255.1;ttl=15;transport=udp",
       via="Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK-v4;rport\n")
msg("valid-reason-with-spaces", """SIP/2.0 183 Session   Progress  (early media)
Via: SIP/2.0/UDP pc1.example.com;branch=z9hG4bK74bf9
From: <sip:alice@example.com>;tag=9fxced76sl
To: <sip:bob@example.org>;tag=e1
Call-ID: 3848276298220188511@pc1.example.com
CSeq: 1 INVITE
Content-Length: 0

""")
invite("valid-escaped-uri-headers", ruri="sip:bob@example.org?Route=%3Csip:example.com%3E&Subject=hi%20there")
invite("valid-ipv6-embedded-ipv4", ruri="sip:bob@[2001:db8::192.0.2.1]",
       via="Via: SIP/2.0/UDP [::ffff:192.0.2.1]:5060;branch=z9hG4bK-v4v6\n")
invite("valid-multiple-identical-content-length", extra=f"l: {len(SDP)}\n")

# ---- invalid (400) --------------------------------------------------------------------------
msg("invalid-content-length-negative", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 3 MESSAGE
Content-Length: -5

hello""")
msg("invalid-content-length-non-numeric", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 3 MESSAGE
Content-Length: five

hello""")
msg("invalid-content-length-overlarge", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 3 MESSAGE
Content-Length: 99999999999999999999

hello""")
msg("invalid-content-length-truncated", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 3 MESSAGE
Content-Length: 500

this datagram was cut short""")
msg("invalid-content-length-conflicting", """MESSAGE sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 3 MESSAGE
Content-Length: 5
l: 6

hello!""")
invite("invalid-ipv6-unclosed-bracket", ruri="sip:bob@[2001:db8::10:5070")
invite("invalid-ipv6-without-brackets", ruri="sip:bob@2001:db8::10")
invite("invalid-ipv6-bad-address", ruri="sip:[2001:db8:::10]")
invite("invalid-ipv6-via-host", via="Via: SIP/2.0/UDP [2001:db8::9::1];branch=z9hG4bK-bad6\n")
invite("invalid-cseq-method-mismatch", cseq="1 ACK")
invite("invalid-cseq-non-numeric", cseq="one INVITE")
invite("invalid-cseq-overlarge", cseq="36893488147419103232 INVITE")
invite("invalid-missing-call-id", common="""From: <sip:alice@example.com>;tag=1
To: <sip:bob@example.org>
""")
invite("invalid-missing-via", via="")
invite("invalid-missing-from", common="""To: <sip:bob@example.org>
Call-ID: nofrom@pc1.example.com
""")
invite("invalid-two-call-ids", common=COMMON + "Call-ID: second@pc1.example.com\n")
invite("invalid-max-forwards-overlarge", max_forwards="300")
invite("invalid-max-forwards-negative", max_forwards="-1")
msg("invalid-garbage", "This is not SIP at all, just some text\nwith lines\n\n")
CASES["invalid-binary"] = bytes((i * 73 + 41) % 256 for i in range(700))
msg("invalid-nul-in-header", """OPTIONS sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 2 OPTIONS
Subject: nul\x00byte
Content-Length: 0

""")
CASES["invalid-latin1-in-header"] = CASES["valid-basic-invite"].replace(
    b"Contact: <sip:alice@pc1.example.com>", b"Contact: \"Ren\xe9\" <sip:alice@pc1.example.com>")
msg("invalid-control-char-in-header", """OPTIONS sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 2 OPTIONS
Subject: bell\x07here
Content-Length: 0

""")
invite("invalid-extra-spaces-in-request-line", method="INVITE ", ruri=" sip:bob@example.org")
invite("invalid-unescaped-space-in-uri", ruri="sip:bob smith@example.org")
msg("invalid-status-code-out-of-range", """SIP/2.0 700 Way Out
""" + VIA + COMMON + """CSeq: 1 INVITE
Content-Length: 0

""")
msg("invalid-status-code-two-digits", """SIP/2.0 20 OK
""" + VIA + COMMON + """CSeq: 1 INVITE
Content-Length: 0

""")
invite("invalid-port-too-large", ruri="sip:bob@example.org:70000")
invite("invalid-via-port-too-large", via="Via: SIP/2.0/UDP pc1.example.com:65536;branch=z9hG4bK-p\n")
invite("invalid-too-many-headers", extra="".join(f"X-H{i}: {i}\n" for i in range(300)))
invite("invalid-too-large", extra="".join(f"X-Filler-{i}: {'f' * 1000}\n" for i in range(70)))
invite("invalid-unterminated-display-name", common="""From: "Alice <sip:alice@example.com>;tag=1
To: <sip:bob@example.org>
Call-ID: unterminated@pc1.example.com
""")
invite("invalid-missing-closing-angle", common="""From: <sip:alice@example.com;tag=1
To: <sip:bob@example.org>
Call-ID: noangle@pc1.example.com
""")
invite("invalid-bad-escape-in-user", ruri="sip:b%G1b@example.org")
msg("invalid-bare-lf-line-ends", """OPTIONS sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 2 OPTIONS
Content-Length: 0

""", crlf=False)
msg("invalid-no-end-of-headers", """OPTIONS sip:bob@example.org SIP/2.0
""" + VIA + COMMON + """CSeq: 2 OPTIONS
Content-Length: 0
""")
msg("invalid-continuation-before-first-header", """OPTIONS sip:bob@example.org SIP/2.0
 folded-start: x
""" + VIA + COMMON + """CSeq: 2 OPTIONS
Content-Length: 0

""")
msg("invalid-response-missing-cseq", """SIP/2.0 200 OK
""" + VIA + COMMON + """Content-Length: 0

""")
invite("invalid-space-inside-header-name", extra="X Bad Name: value\n")
msg("invalid-status-line-without-reason-separator", """SIP/2.0 200
""" + VIA + COMMON + """CSeq: 1 INVITE
Content-Length: 0

""")

# ---- version (505) and scheme (416) ---------------------------------------------------------
invite("version-sip-7", version="SIP/7.0")
invite("version-sip-2-1-lowercase", version="sip/2.1")
msg("version-response-sip-3", """SIP/3.0 200 OK
""" + VIA + COMMON + """CSeq: 1 INVITE
Content-Length: 0

""")
invite("scheme-tel-request-uri", ruri="tel:+1-201-555-0123")
invite("scheme-http-request-uri", ruri="http://example.org/call")


def main():
    for old in os.listdir(HERE):
        if old.endswith(".sip"):
            os.remove(os.path.join(HERE, old))
    for name, data in CASES.items():
        with open(os.path.join(HERE, name + ".sip"), "wb") as f:
            f.write(data)
    print(f"wrote {len(CASES)} messages")


if __name__ == "__main__":
    main()
