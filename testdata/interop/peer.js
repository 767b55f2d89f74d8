// A Node.js tls peer for tlsflow's interop matrix (interop_matrix_test.go).
//
// As a server it serves --connections connections one at a time: each sends
// one line and gets it back reversed, then the server closes. As a client it
// connects --connections times, offering the session (ticket) it got on the
// previous connection, sends the line it read from stdin on each and checks
// that it comes back reversed. It prints, for the test to read:
//
//   LISTENING <port>                                        (server)
//   CONNECTION <n> protocol=<TLSv1.3> suite=<name> resumed=<true|false> peer=<subject|none>
//   ECHOED <bytes>                                          (server)
//   ECHO ok <bytes>                                         (client)
//
// and a client exits non-zero on any failure.
//
// Usage: node peer.js server|client --version 1.2|1.3 --suite NAME --ca CA.pem
//   [--cert CHAIN.pem --key KEY.pem] [--client-auth] [--port N]
//   [--connections N]  < LINE

'use strict';
const fs = require('fs');
const tls = require('tls');

function flags(argv) {
  const opt = { mode: argv[0] };
  for (let i = 1; i < argv.length; i++) {
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      opt[argv[i]] = argv[++i];
    } else {
      opt[argv[i]] = true;
    }
  }
  return opt;
}

// options are the tls options both ends share. Node's "ciphers" takes
// OpenSSL names for TLS 1.2 suites and RFC 8446 names for TLS 1.3 ones; a
// TLS 1.3 suite alone leaves the TLS 1.2 list empty, and the reverse.
function options(opt) {
  const o = {
    minVersion: 'TLSv' + opt['--version'],
    maxVersion: 'TLSv' + opt['--version'],
    ciphers: opt['--suite'],
    ca: fs.readFileSync(opt['--ca']),
  };
  if (opt['--cert']) {
    o.cert = fs.readFileSync(opt['--cert']);
    o.key = fs.readFileSync(opt['--key']);
  }
  return o;
}

function describe(sock) {
  const cert = sock.getPeerCertificate();
  const peer = cert && cert.subject ? 'CN=' + cert.subject.CN : 'none';
  return `protocol=${sock.getProtocol()} suite=${sock.getCipher().standardName} ` +
    `resumed=${sock.isSessionReused()} peer=${peer}`;
}

// firstLine collects a socket's data and resolves with it once a line has
// come, or the end of the stream.
function firstLine(sock) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let settled = false;
    const done = () => {
      if (!settled) {
        settled = true;
        resolve(Buffer.concat(chunks));
      }
    };
    sock.on('data', (b) => {
      chunks.push(b);
      if (b.includes(10)) done();
    });
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', (e) => { if (!settled) { settled = true; reject(e); } });
  });
}

function reversed(line) {
  return Buffer.from(line.toString('latin1').replace(/\n$/, '').split('').reverse().join('') + '\n', 'latin1');
}

async function serve(opt) {
  const o = options(opt);
  o.requestCert = !!opt['--client-auth'];
  o.rejectUnauthorized = !!opt['--client-auth'];
  const n = Number(opt['--connections'] || 1);
  let i = 0;
  const srv = tls.createServer(o, async (sock) => {
    const k = ++i;
    console.log(`CONNECTION ${k} ${describe(sock)}`);
    const line = await firstLine(sock);
    if (line.length > 0) sock.write(reversed(line));
    console.log(`ECHOED ${line.length}`);
    sock.end();
    if (k === n) srv.close();
  });
  srv.on('tlsClientError', (e) => console.log(`HANDSHAKE ERROR ${e.message}`));
  srv.listen(0, '127.0.0.1', () => console.log(`LISTENING ${srv.address().port}`));
}

function connectOnce(opt, sent, session) {
  return new Promise((resolve, reject) => {
    const o = options(opt);
    o.host = '127.0.0.1';
    o.port = Number(opt['--port']);
    o.servername = 'localhost';
    o.session = session;
    // TLS 1.3 tickets arrive after the handshake; keep the last one.
    let ticket = null;
    const sock = tls.connect(o, async () => {
      try {
        console.log(`CONNECTION ${opt.k} ${describe(sock)}`);
        const reply = firstLine(sock);
        sock.write(Buffer.concat([sent, Buffer.from('\n')]));
        const got = await reply;
        if (!got.equals(reversed(sent))) {
          reject(new Error(`ECHO mismatch: sent ${sent.length + 1} bytes, got back ${got.length} bytes`));
          return;
        }
        console.log(`ECHO ok ${got.length}`);
        sock.end();
        sock.on('close', () => resolve(ticket));
      } catch (e) {
        reject(e);
      }
    });
    sock.on('session', (s) => { ticket = s; });
    sock.on('error', reject);
  });
}

async function connect(opt) {
  const input = fs.readFileSync(0);
  const nl = input.indexOf(10);
  const sent = nl < 0 ? input : input.subarray(0, nl);
  let session;
  const n = Number(opt['--connections'] || 1);
  for (let k = 1; k <= n; k++) {
    opt.k = k;
    session = await connectOnce(opt, sent, session);
  }
}

const opt = flags(process.argv.slice(2));
(opt.mode === 'server' ? serve(opt) : connect(opt)).catch((e) => {
  console.log(`ERROR ${e.message}`);
  process.exit(1);
});
