// A JSSE (Java 17) TLS server for tlsflow's interop matrix
// (interop_matrix_test.go). It serves a number of connections, one at a
// time: each sends one line, and gets it back reversed; then the server
// closes the connection. It prints one line per event, for the test to read:
//
//	LISTENING <port>
//	CONNECTION <n> protocol=<TLSv1.3> suite=<name> resumed=<true|false> peer=<subject|none>
//	ECHOED <bytes>
//
// Usage: java Server --version 1.2|1.3 --suite NAME --cert CHAIN.pem --key KEY.pem
//	--ca CA.pem [--client-auth] [--connections N]
//
// Helpers shared with Client.java live here too: both are compiled together.

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class Server {
    public static void main(String[] args) throws Exception {
        Map<String, String> opt = flags(args);
        SSLContext ctx = context(opt);
        try (SSLServerSocket ln = (SSLServerSocket) ctx.getServerSocketFactory()
                .createServerSocket(0, 8, InetAddress.getByName("127.0.0.1"))) {
            ln.setEnabledProtocols(new String[] {"TLSv" + opt.get("--version")});
            ln.setEnabledCipherSuites(new String[] {opt.get("--suite")});
            ln.setNeedClientAuth(opt.containsKey("--client-auth"));
            System.out.println("LISTENING " + ln.getLocalPort());
            int n = Integer.parseInt(opt.getOrDefault("--connections", "1"));
            List<Long> seen = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                try (SSLSocket s = (SSLSocket) ln.accept()) {
                    s.startHandshake();
                    SSLSession sess = s.getSession();
                    System.out.println("CONNECTION " + i + " " + describe(sess, seen));
                    BufferedReader r = new BufferedReader(
                            new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                    String line = r.readLine();
                    if (line == null) {
                        // A client may connect once only to get a session.
                        System.out.println("ECHOED 0");
                        continue;
                    }
                    OutputStream w = s.getOutputStream();
                    w.write((new StringBuilder(line).reverse() + "\n").getBytes(StandardCharsets.ISO_8859_1));
                    w.flush();
                    System.out.println("ECHOED " + (line.length() + 1));
                }
            }
        }
    }

    // flags reads "--name value" pairs; a flag followed by another flag (or
    // nothing) is a switch.
    static Map<String, String> flags(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                m.put(args[i], args[++i]);
            } else {
                m.put(args[i], "");
            }
        }
        return m;
    }

    // context makes an SSLContext that trusts --ca and, given --cert and
    // --key, authenticates with them.
    static SSLContext context(Map<String, String> opt) throws Exception {
        if (opt.getOrDefault("--suite", "").startsWith("TLS_RSA_")) {
            allowRSAKeyExchange();
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = new FileInputStream(opt.get("--ca"))) {
            trust.setCertificateEntry("ca", cf.generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);

        KeyManagerFactory kmf = null;
        if (opt.containsKey("--cert")) {
            List<Certificate> chain = new ArrayList<>();
            try (InputStream in = new FileInputStream(opt.get("--cert"))) {
                chain.addAll(cf.generateCertificates(in));
            }
            char[] none = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("key", privateKey(opt.get("--key"), chain.get(0)), none,
                    chain.toArray(new Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    // allowRSAKeyExchange drops TLS_RSA_* from jdk.tls.disabledAlgorithms:
    // later JDK updates disable the RSA key exchange there (it has no
    // forward secrecy), and the matrix tests it on purpose.
    static void allowRSAKeyExchange() {
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        if (disabled == null) {
            return;
        }
        List<String> keep = new ArrayList<>();
        for (String a : disabled.split(",")) {
            if (!a.trim().startsWith("TLS_RSA_")) {
                keep.add(a.trim());
            }
        }
        Security.setProperty("jdk.tls.disabledAlgorithms", String.join(", ", keep));
    }

    // privateKey reads an unencrypted PKCS #8 PEM key of the certificate's type.
    static PrivateKey privateKey(String file, Certificate cert) throws Exception {
        String pem = Files.readString(Path.of(file), StandardCharsets.US_ASCII);
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        String alg = cert.getPublicKey().getAlgorithm(); // "RSA" or "EC"
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }

    // describe renders a session. JSSE has no "was this resumed" call, but
    // a resumed session keeps the creation time of the session it resumes
    // (in TLS 1.2 it is the very same session, ID and all; in TLS 1.3 a new
    // one with a new ID), so seen holds the creation times so far.
    static String describe(SSLSession sess, List<Long> seen) {
        boolean resumed = seen.contains(sess.getCreationTime());
        seen.add(sess.getCreationTime());
        String peer = "none";
        try {
            peer = ((X509Certificate) sess.getPeerCertificates()[0]).getSubjectX500Principal().getName();
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate
        }
        return "protocol=" + sess.getProtocol() + " suite=" + sess.getCipherSuite()
                + " resumed=" + resumed + " peer=" + peer;
    }
}
