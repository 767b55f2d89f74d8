// Package tlshttp runs net/http over tlsflow, with what net/http gives
// crypto/tls connections only: Request.TLS and Response.TLS, HTTP/2 chosen
// by ALPN, graceful Shutdown of HTTP/2 connections, httptrace's TLS hooks,
// the answer to plain HTTP on the TLS port, and proxies on the client side.
//
// Porting a program:
//
//	srv.ListenAndServeTLS(cert, key)    tlshttp.ListenAndServeTLS(srv, cert, key)
//	srv.ServeTLS(ln, cert, key)         tlshttp.ServeTLS(srv, ln, cert, key)
//	(a tlsflow Config instead)          tlshttp.Serve(srv, ln, config), tlshttp.ListenAndServe(srv, config)
//	&http.Transport{TLSClientConfig: c} &tlshttp.Transport{Config: config, Base: &http.Transport{...}}
//	tlsConn.ConnectionState()           tlshttp.ConnectionState(conn.ConnectionState())
//
// ServeTLS and ListenAndServeTLS keep srv.TLSConfig, a *crypto/tls.Config,
// and convert it: the fields tlsflow has are copied (GetConfigForClient's
// result converted in turn), CipherSuites as it is (a list of TLS 1.2
// suites keeps the TLS 1.3 defaults, as in crypto/tls), client-side fields
// are ignored, and a field that would change what the server does and that
// tlsflow cannot honour (WrapSession, UnwrapSession, the ECH keys) is an
// error rather than dropped. Serve takes a *tlsflow.Config for everything
// else tlsflow has (Trace, SignatureSchemes, ...).
//
// A handler that needs a client certificate the handshake did not ask for
// calls RequestClientCertificate(r, auth): TLS 1.3 post-handshake
// authentication on the request's connection, after which r.TLS has the
// chain. It works over HTTP/1.1 only; HTTP/2 forbids it (RFC 8740), and
// such a request gets ErrHTTP2PostHandshakeAuth.
//
// HTTP/2 and the RSA key exchange: RFC 9113 §9.2.2 forbids HTTP/2 over
// TLS 1.2 without an ephemeral key exchange, and browsers refuse it.
// tlsflow's server, which in TLS 1.2 chooses ALPN after the suite, never
// chooses "h2" over the RSA key exchange: a client offering "h2" and
// "http/1.1" gets HTTP/1.1, one offering only "h2" a no_application_protocol
// alert that says why.
package tlshttp
