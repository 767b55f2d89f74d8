// A JSSE (Java 17) TLS client for tlsflow's interop matrix
// (interop_matrix_test.go). It connects --connections times with one
// SSLContext, so that the later connections can resume the first one's
// session; on each it sends the line it read from stdin and checks that the
// server sends it back reversed. It prints, for the test to read:
//
//	CONNECTION <n> protocol=<TLSv1.3> suite=<name> resumed=<true|false> peer=<subject>
//	ECHO ok <bytes>
//
// and exits non-zero on any failure.
//
// Usage: java Client --port N --version 1.2|1.3 --suite NAME --ca CA.pem
//	[--cert CHAIN.pem --key KEY.pem] [--connections N]  < LINE

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

public class Client {
    public static void main(String[] args) throws Exception {
        Map<String, String> opt = Server.flags(args);
        SSLContext ctx = Server.context(opt);
        int port = Integer.parseInt(opt.get("--port"));
        int n = Integer.parseInt(opt.getOrDefault("--connections", "1"));
        String sent = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.ISO_8859_1)).readLine();
        List<Long> seen = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            // Connect to 127.0.0.1 but name the server "localhost": the name
            // goes into server_name, the hostname check and the session
            // cache key, so the next connection finds the session.
            Socket raw = new Socket("127.0.0.1", port);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "localhost", port, true)) {
                s.setEnabledProtocols(new String[] {"TLSv" + opt.get("--version")});
                s.setEnabledCipherSuites(new String[] {opt.get("--suite")});
                SSLParameters p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                s.startHandshake();
                System.out.println("CONNECTION " + i + " " + Server.describe(s.getSession(), seen));

                s.getOutputStream().write((sent + "\n").getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                BufferedReader r = new BufferedReader(
                        new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                String got = r.readLine();
                String want = new StringBuilder(sent).reverse().toString();
                if (!want.equals(got)) {
                    System.out.println("ECHO mismatch: sent " + sent.length() + " bytes, got back "
                            + (got == null ? "nothing" : got.length() + " bytes, not reversed"));
                    System.exit(1);
                }
                System.out.println("ECHO ok " + (sent.length() + 1));
            }
        }
    }
}
