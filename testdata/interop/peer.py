"""A Python ssl TLS peer for tlsflow's interop matrix (interop_matrix_test.go).

As a server it serves --connections connections one at a time: each sends
one line and gets it back reversed, then the server closes. As a client it
connects --connections times, offering the previous connection's session so
that later ones can resume it, sends the line it read from stdin on each and
checks that it comes back reversed. It prints, for the test to read:

    LISTENING <port>                                        (server)
    CONNECTION <n> protocol=<TLSv1.3> suite=<name> resumed=<True|False> peer=<subject|none>
    ECHOED <bytes>                                          (server)
    ECHO ok <bytes>                                         (client)

and a client exits non-zero on any failure.

Python cannot restrict the TLS 1.3 cipher suites (OpenSSL's ciphersuites
setting is not exposed): for TLS 1.3 --suite is ignored, and the tlsflow end
alone pins the suite (the test checks the one printed).
"""

import argparse
import socket
import ssl
import sys


def context(args, side):
    ctx = ssl.SSLContext(side)
    ctx.minimum_version = ctx.maximum_version = {
        "1.2": ssl.TLSVersion.TLSv1_2,
        "1.3": ssl.TLSVersion.TLSv1_3,
    }[args.version]
    if args.version == "1.2":
        # An OpenSSL cipher name; naming TLS_RSA_* suites (AES128-GCM-SHA256)
        # enables the RSA key exchange, which Python's defaults leave out.
        ctx.set_ciphers(args.suite)
    ctx.load_verify_locations(cafile=args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    return ctx


def describe(sock):
    peer = "none"
    cert = sock.getpeercert()
    if cert:
        peer = ",".join("%s=%s" % kv for rdn in cert["subject"] for kv in rdn)
    return "protocol=%s suite=%s resumed=%s peer=%s" % (
        sock.version(), sock.cipher()[0], sock.session_reused, peer)


def read_line(sock):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def serve(args):
    ctx = context(args, ssl.PROTOCOL_TLS_SERVER)
    if args.client_auth:
        ctx.verify_mode = ssl.CERT_REQUIRED
    with socket.create_server(("127.0.0.1", 0)) as ln:
        print("LISTENING %d" % ln.getsockname()[1], flush=True)
        for i in range(1, args.connections + 1):
            raw, _ = ln.accept()
            with ctx.wrap_socket(raw, server_side=True) as s:
                print("CONNECTION %d %s" % (i, describe(s)), flush=True)
                line = read_line(s)
                if line:
                    s.sendall(line.rstrip(b"\n")[::-1] + b"\n")
                print("ECHOED %d" % len(line), flush=True)
                try:
                    s.unwrap()  # close_notify, and the client's in return
                except OSError:
                    pass  # a client may close without close_notify once it has its reply


def connect(args):
    ctx = context(args, ssl.PROTOCOL_TLS_CLIENT)
    sent = sys.stdin.buffer.readline().rstrip(b"\n")
    session = None
    for i in range(1, args.connections + 1):
        raw = socket.create_connection(("127.0.0.1", args.port))
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            print("CONNECTION %d %s" % (i, describe(s)), flush=True)
            s.sendall(sent + b"\n")
            got = read_line(s)
            if got != sent[::-1] + b"\n":
                print("ECHO mismatch: sent %d bytes, got back %d bytes" % (len(sent) + 1, len(got)))
                return 1
            print("ECHO ok %d" % len(got), flush=True)
            # A TLS 1.3 session (its ticket) arrives after the handshake:
            # take it once the reply has been read.
            session = s.session
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--port", type=int)
    p.add_argument("--version", choices=["1.2", "1.3"], required=True)
    p.add_argument("--suite", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-auth", action="store_true")
    p.add_argument("--connections", type=int, default=1)
    args = p.parse_args()
    if args.mode == "server":
        serve(args)
        return 0
    return connect(args)


if __name__ == "__main__":
    sys.exit(main())
