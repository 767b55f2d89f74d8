package tlsflow

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/certcomp"
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/trace"
)

// runHandshake feeds the engine: its actions go to the record layer, the
// records that arrive go to the engine, until it is complete or fails, or
// stops at a 0-RTT point (errEarlyPause, the engine kept in c.engine to go
// on with), or a read deadline passes while a server that took early data
// waits for the client's second flight (earlyTimeout, the engine kept as
// well). c.handshakeMu is held.
func (c *Conn) runHandshake() error {
	eng := c.engine
	var actions []handshake.Action
	var err error
	if eng == nil {
		if eng, err = c.newEngine(); err != nil {
			return c.handshakeFailed(err)
		}
		c.engine = eng
		c.in.Lock()
		// The first ClientHello goes in a record marked TLS 1.0, the version
		// old middleboxes expect (RFC 8446 §5.1); every later record says TLS 1.2.
		if c.isClient {
			c.out.w.SetVersion(0x0301)
		}
		// No application data belongs in the handshake, not even an empty record.
		c.in.r.RefuseEmptyApplicationData(true)
		// The peer's flights are on their way: read each in one call.
		c.in.r.ReadEagerly(true)
		actions, err = eng.Start()
	} else {
		c.in.Lock()
		c.early.resume()
	}
	defer c.in.Unlock()
	defer func() {
		if !c.early.paused {
			c.engine = nil
		}
	}()
	for {
		if len(actions) > 0 {
			if applyErr := c.apply(actions); err == nil {
				err = applyErr
			}
			// Only the first ClientHello's record says TLS 1.0. Under
			// c.out: a server paused for 0-RTT writes 0.5-RTT data
			// while the handshake goes on.
			c.out.Lock()
			c.out.w.SetVersion(0x0303)
			c.out.Unlock()
		}
		if v := eng.State().Version; v != 0 && c.in.version != v {
			// Set once (emit reads it from a 0.5-RTT Write meanwhile).
			// From here every record says TLS 1.2 (RFC 5246 §6.2.1,
			// RFC 8446 §5.1-5.2); before, any 3.x may come. The rules
			// for alerts depend on the version (RFC 8446 §6): they apply
			// as soon as it is known, not only after the handshake.
			c.in.r.SetVersion(0x0303)
			c.in.version = v
		}
		if st := eng.State(); !c.isClient && st.EarlyDataOffered && !st.EarlyDataAccepted && !c.in.earlyArmed {
			// Early data we do not read is skipped, as much as our
			// tickets allow, or one full record's worth (as BoringSSL
			// does) when they allow none (RFC 8446 §4.2.10).
			c.in.earlyArmed, c.in.earlySkip = true, max(c.config.limitPolicy().EarlyDataSkip, int(c.config.MaxEarlyData))
		}
		if err != nil {
			return c.handshakeFailed(err)
		}
		if eng.Complete() {
			break
		}
		if c.early.stop && c.early.point(c.isClient) {
			if !c.isClient {
				if err := c.flushLocked(); err != nil {
					return c.handshakeFailed(err)
				}
			}
			c.pauseEarly(eng)
			return errEarlyPause
		}
		actions, err = c.nextHandshakeInput(eng)
		if c.waitsForSecondFlight() && isTimeout(err) {
			c.pauseEarly(eng)
			return &earlyTimeout{err}
		}
		placeReceivedAlert(err, eng)
	}
	if c.out.lazy {
		// Only Lazy messages are buffered (a server's tickets after the
		// client's Finished): they go out now, but Handshake does not wait
		// for them, so a peer that does not read yet (over net.Pipe, say)
		// cannot hold it; a Write in the meantime takes them along.
		c.out.lazy = false
		go c.flushLazy()
	} else if err := c.flushLocked(); err != nil {
		return c.handshakeFailed(err)
	}
	if rejection := eng.State().ECHRejection; rejection != nil {
		// The server proved it is the ECH public name, nothing more: the
		// connection ends here (draft-ietf-tls-esni-25 §6.1.6).
		return c.handshakeFailed(alert.Errorf(alert.ECHRequired, 7, "Finished", "%w", rejection))
	}
	c.state = eng.State()
	c.in.r.ReadEagerly(false)
	c.releaseInputLocked()
	if c.in.version != c.state.Version {
		c.in.version = c.state.Version
	}
	c.in.earlySkip = 0
	c.in.r.RefuseEmptyApplicationData(false)
	if c.state.Version == VersionTLS13 {
		c.post = eng.Post()
	}
	if c.config.Trace != nil {
		c.emit(trace.Event{Kind: trace.KindHandshakeDone, Direction: trace.Local, Step: 7, Version: c.state.Version,
			Fields: summary(c.state)})
	}
	if !c.in.hs.Empty() {
		// A partial message after the last Finished of TLS 1.2 can only be
		// the start of a renegotiation or garbage; either way, not now.
		return c.handshakeFailed(alert.Errorf(alert.UnexpectedMessage, 7, "", "data after the final Finished in the same record"))
	}
	return nil
}

// newEngine makes this side's engine from the Config. A configuration
// error is not the peer's business: nothing has been sent, and no alert
// goes out.
func (c *Conn) newEngine() (handshake.Engine, error) {
	c.emitConnect()
	hc, err := c.handshakeConfig()
	if err != nil {
		err := &alert.Error{Alert: alert.InternalError, Local: true, Step: 0, Reason: "configuration: " + err.Error(), Err: err}
		c.out.Lock()
		c.out.err = err
		c.out.Unlock()
		return nil, err
	}
	if c.isClient {
		return handshake.NewClient(hc), nil
	}
	return handshake.NewServer(hc), nil
}

// nextHandshakeInput reads until the engine has something to consume and
// hands it over. c.in is held.
func (c *Conn) nextHandshakeInput(eng handshake.Engine) ([]handshake.Action, error) {
	if msg, ok, err := c.in.hs.Next(); err != nil {
		return nil, c.recordError(err, true)
	} else if ok {
		return eng.HandleMessage(msg)
	}
	// Nothing complete is buffered: everything we owe the peer goes out
	// before we wait for it.
	if err := c.flushLocked(); err != nil {
		return nil, err
	}
	var ccs bool
	timeout := c.readRecordLocked(func(typ record.ContentType, payload []byte) error {
		switch typ {
		case record.Handshake:
			c.in.hs.Add(payload)
			return nil
		case record.ChangeCipherSpec:
			ccs = true
			return nil
		case record.ApplicationData:
			if c.early.reading {
				return c.takeEarlyData(payload)
			}
		}
		return alert.Errorf(alert.UnexpectedMessage, -1, "", "unexpected %s record during the handshake", typ)
	})
	if timeout != nil {
		return nil, timeout // a deadline ends the handshake
	}
	if c.in.err != nil {
		return nil, c.in.err
	}
	if ccs {
		return eng.HandleChangeCipherSpec()
	}
	return nil, nil
}

// flushLazy writes what the handshake left buffered for later; an error
// stays for the next Write.
func (c *Conn) flushLazy() {
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.err == nil {
		if err := c.out.w.Flush(); err != nil {
			c.out.err = err
		}
	}
}

func (c *Conn) flushLocked() error {
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.err != nil {
		return c.out.err
	}
	if err := c.out.w.Flush(); err != nil {
		c.out.err = err
		return err
	}
	return nil
}

// apply carries out the engine's actions in order. Consecutive handshake
// messages share records, so a flight costs few records and one write.
func (c *Conn) apply(actions []handshake.Action) error {
	c.out.Lock()
	defer c.out.Unlock()
	return c.applyLocked(actions)
}

// messageBytes is the length of the handshake messages among actions.
func messageBytes(actions []handshake.Action) int {
	n := 0
	for _, a := range actions {
		if m, ok := a.(handshake.SendMessage); ok {
			n += len(m.Data)
		}
	}
	return n
}

func (c *Conn) applyLocked(actions []handshake.Action) error {
	// pending is the messages waiting to share records. A lone message is
	// written from its own bytes (shared); a second one makes a buffer with
	// room for every message left in the list, so a flight costs at most
	// one allocation here.
	var pending []byte
	shared := false
	flushMessages := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := c.out.w.WriteRecord(record.Handshake, pending)
		if shared {
			pending, shared = nil, false // never write into a message's own bytes
		} else {
			pending = pending[:0]
		}
		return err
	}
	for i, a := range actions {
		var err error
		switch a := a.(type) {
		case handshake.SendMessage:
			if a.Lazy && len(pending) == 0 && c.out.w.Buffered() == 0 {
				c.out.lazy = true
			} else if !a.Lazy {
				c.out.lazy = false
			}
			if c.engine != nil && !c.in.hs.Empty() {
				// We answer only a complete flight: the peer cannot have
				// sent more before reading our answer, so buffered bytes
				// of a next message are excess (a message spanning a
				// flight, or a key change, RFC 8446 §5.1). What went
				// before (a compatibility ChangeCipherSpec) stays; the
				// alert follows it.
				return alert.Errorf(alert.UnexpectedMessage, -1, "", "excess handshake data after the peer's flight")
			}
			switch {
			case len(pending) == 0 && cap(pending) == 0:
				pending, shared = a.Data, true
			case shared:
				buf := make([]byte, 0, len(pending)+messageBytes(actions[i:]))
				pending, shared = append(append(buf, pending...), a.Data...), false
			default:
				pending = append(pending, a.Data...)
			}
		case handshake.SendChangeCipherSpec:
			if err = flushMessages(); err == nil {
				c.out.w.SetVersion(0x0303) // only a first ClientHello says TLS 1.0; a CCS follows it with 0-RTT
				err = c.out.w.WriteChangeCipherSpec()
			}
		case handshake.SetWriteCipher:
			if err = flushMessages(); err == nil {
				c.out.w.SetCipher(a.Cipher)
				c.out.cipher = a.Cipher
				c.early.open = false
			}
		case handshake.SetReadCipher:
			if !c.in.hs.Empty() {
				return alert.Errorf(alert.UnexpectedMessage, -1, "", "a handshake message spans a change of keys")
			}
			c.in.r.SetCipher(a.Cipher)
			c.early.endReading()
		case handshake.OpenEarlyData:
			if err = flushMessages(); err == nil {
				c.out.w.SetCipher(a.Cipher)
				c.out.cipher = a.Cipher
				c.early.open, c.early.max = true, a.Max
			}
		case handshake.LimitRecords:
			if a.Write > 0 {
				c.out.w.SetRecordLimit(a.Write)
			}
			if a.Read > 0 {
				c.in.r.SetRecordLimit(a.Read)
			}
		case handshake.AcceptEarlyData:
			if !c.in.hs.Empty() {
				return alert.Errorf(alert.UnexpectedMessage, -1, "", "a handshake message spans a change of keys")
			}
			c.in.r.SetCipher(a.Cipher)
			c.early.reading, c.early.max = true, a.Max
		}
		if err != nil {
			c.out.err = err
			return err
		}
	}
	if err := flushMessages(); err != nil {
		c.out.err = err
		return err
	}
	return nil
}

// handshakeFailed sends the alert the error carries (unless the peer sent
// it, or the network is gone), traces the error and returns it.
func (c *Conn) handshakeFailed(err error) error {
	err = c.interruptedError(err)
	c.diagnose(err)
	if endedByFatalAlert(err) {
		c.forgetSessions()
	}
	var ae *alert.Error
	if errors.As(err, &ae) && !ae.Received && !ae.Local {
		c.out.Lock()
		if c.out.err == nil {
			c.sendFatalAlertLocked(ae.Alert)
			c.out.err = err
		}
		c.out.Unlock()
	}
	if c.in.err == nil {
		c.in.err = err
	}
	// No write may follow a failed handshake, not even one of a server
	// that took early data, whose Write does not wait for the handshake.
	c.out.Lock()
	if c.out.err == nil {
		c.out.err = err
	}
	c.out.Unlock()
	c.emit(trace.Event{Kind: trace.KindError, Direction: trace.Local, Step: stepOf(err), Message: errMessage(err), Err: err,
		Fields: errorFields(err)})
	return c.publicError(err)
}

// sendFatalAlertLocked sends a fatal alert, preceded by what the engine
// still owes the peer before one (the TLS 1.3 client's compatibility
// ChangeCipherSpec), wherever the failure was found. c.out is held.
func (c *Conn) sendFatalAlertLocked(a alert.Alert) {
	if c.out.closed {
		return // nothing may follow our close_notify (RFC 8446 §6.1, RFC 5246 §7.2.1)
	}
	if c.engine != nil {
		if pre := c.engine.Abort(); len(pre) > 0 {
			_ = c.applyLocked(pre)
		}
	}
	_ = c.sendAlertLocked(alert.LevelFatal, a)
}

// errorFields are the error event's fields: the whole error, then its
// parts, so a renderer can show each, and how the connection ended
// (trace.EndOf), which every renderer takes from there.
func errorFields(err error) []trace.Field {
	f := []trace.Field{{Name: "error", Value: err.Error()}}
	end := trace.EndOf(err)
	var ae *alert.Error
	if errors.As(err, &ae) {
		alertField := ae.Alert.String() + " (sent)"
		switch {
		case end == trace.EndClosed:
			// alert.Error says CloseNotify received, for want of a
			// better code; no alert came.
			alertField = "none (the connection just ended)"
		case ae.Received:
			alertField = ae.Alert.String() + " (received)"
		case ae.Local:
			alertField = "none (nothing was sent)"
		}
		f = append(f, trace.Field{Name: "alert", Value: alertField},
			trace.Field{Name: "cause", Value: ae.Reason})
		if ae.Hint != "" {
			f = append(f, trace.Field{Name: "fix", Value: ae.Hint})
		}
	}
	return append(f, trace.Field{Name: "ended", Value: string(end)})
}

// placeReceivedAlert says where in the flow an error from below the engine
// came — the peer's alert, a record that failed to decrypt, a closed
// connection: the cause knows why, the engine knows when.
func placeReceivedAlert(err error, eng handshake.Engine) {
	if err == nil {
		return // the common case, without the allocation errors.As costs
	}
	var ae *alert.Error
	if errors.As(err, &ae) && ae.Step < 0 {
		if step, msg := eng.Progress(); msg != "" {
			ae.Step, ae.Message = step, "after "+msg
		}
		// In TLS 1.2 nothing but Finished may follow the peer's
		// ChangeCipherSpec, and it is the first record under the new
		// keys: a record we could not read there was its Finished.
		var re *record.Error
		if ae.Message == "after ChangeCipherSpec" && !ae.Received && errors.As(ae, &re) {
			ae.Step, ae.Message = 7, "Finished"
		}
	}
}

func stepOf(err error) int {
	var ae *alert.Error
	if errors.As(err, &ae) {
		return ae.Step
	}
	return -1
}

func errMessage(err error) string {
	var ae *alert.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return ""
}

// emitConnect traces step 0: the TCP connection the handshake runs over.
func (c *Conn) emitConnect() {
	if c.config.Trace == nil {
		return
	}
	c.emit(trace.Event{Kind: trace.KindConnect, Direction: trace.Local, Step: 0, Fields: []trace.Field{
		{Name: "local", Value: addrString(c.conn.LocalAddr())},
		{Name: "remote", Value: addrString(c.conn.RemoteAddr())},
	}})
}

func addrString(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}

func summary(s *handshake.State) []trace.Field {
	f := []trace.Field{
		{Name: "version", Value: suites.VersionName(s.Version)},
		{Name: "cipher_suite", Value: suites.Name(s.CipherSuite)},
	}
	if s.Group != 0 {
		f = append(f, trace.Field{Name: "group", Value: suites.GroupName(s.Group)})
	}
	if s.NegotiatedProtocol != "" {
		f = append(f, trace.Field{Name: "alpn", Value: s.NegotiatedProtocol})
	}
	// Raw public keys (RFC 7250) are named; X.509, the default, is not.
	if s.ServerCertType != 0 || s.ClientCertType != 0 {
		f = append(f, trace.Field{Name: "server_certificate_type", Value: CertificateType(s.ServerCertType).String()},
			trace.Field{Name: "client_certificate_type", Value: CertificateType(s.ClientCertType).String()})
	}
	f = append(f, trace.Field{Name: "extended_master_secret", Value: fmt.Sprint(s.ExtendedMaster)},
		trace.Field{Name: "resumed", Value: fmt.Sprint(s.DidResume)})
	return f
}

// handshakeConfig resolves the public Config into the engines' view.
func (c *Conn) handshakeConfig() (*handshake.Config, error) {
	cfg := c.config
	cipherSuites, lo, hi, err := cfg.suitesAndVersions()
	if err != nil {
		return nil, err
	}
	if cfg.SignatureSchemes != nil && len(enabledSchemes(cfg.SignatureSchemes)) == 0 {
		// An empty signature_algorithms is a decode_error at the peer (RFC
		// 8446 §4.2.3: <2..2^16-2>); say so here instead.
		return nil, errors.New("Config.SignatureSchemes names no signature scheme tlsflow implements")
	}
	crypto, err := cfg.provider()
	if err != nil {
		return nil, err
	}
	c.crypto = crypto
	random := cfg.Rand
	if random == nil {
		random = crypto.Rand()
	}
	hc := &handshake.Config{
		Provider: crypto, Rand: random, Time: cfg.Time, MinVersion: lo, MaxVersion: hi,
		CipherSuites:     cipherSuites,
		Groups:           enabledGroups(cfg.CurvePreferences),
		SignatureSchemes: enabledSchemes(cfg.SignatureSchemes),
		NextProtos:       cfg.NextProtos,
		ClientAuth:       handshake.ClientAuth(cfg.ClientAuth),
		Trace:            cfg.Trace,
		PSKWithoutECDHE:  cfg.ResumptionWithoutECDHE,
		ParseCertificate: parseCertificate,
		Limits:           cfg.limitPolicy(),
		EarlyData:        c.early.want,
		RecordSizeLimit:  cfg.RecordSizeLimit,
	}
	for _, a := range cfg.CertificateCompression {
		if !certcomp.Supported(uint16(a)) {
			return nil, fmt.Errorf("CertificateCompression names algorithm %d, which tlsflow does not implement", a)
		}
		hc.CertCompression = append(hc.CertCompression, uint16(a))
	}
	if l := cfg.RecordSizeLimit; l != 0 && (l < 64 || l > 1<<14+1) {
		return nil, fmt.Errorf("RecordSizeLimit %d is outside 64 to 16385 (RFC 8449 §4)", l)
	}
	if cfg.KeyLogWriter != nil {
		hc.KeyLog = cfg.writeKeyLog
	}
	for i := range cfg.Certificates {
		cert, err := engineCertificate(&cfg.Certificates[i])
		if err != nil {
			return nil, err
		}
		hc.Certificates = append(hc.Certificates, cert)
	}
	if err := cfg.rawKeyConfig(hc, c.isClient); err != nil {
		return nil, err
	}
	if cfg.VerifyConnection != nil {
		hc.VerifyConnection = func(s *handshake.State) error { return cfg.VerifyConnection(c.connectionState(s, false)) }
	}
	if c.isClient {
		hc.ServerName = c.serverName()
		if hc.ServerName == "" && !cfg.InsecureSkipVerify && !cfg.onlyRawKeys() {
			if len(cfg.ExternalPSKs) == 0 {
				return nil, errors.New("set ServerName (the host to verify) or InsecureSkipVerify")
			}
			// No name to check a certificate against: only an external
			// PSK can authenticate the server, and only in TLS 1.3.
			hc.ExternalPSKOnly, hc.MinVersion = true, VersionTLS13
		}
		hc.VerifyPeer = c.verifyServer
		hc.CheckStaple = c.checkStaple
		hc.TrustAnchors = cfg.trustAnchors()
		hc.TicketsDisabled = cfg.SessionTicketsDisabled
		hc.ExtraClientHelloExtensions = cfg.extraClientHelloExtensions
		if cache := cfg.ClientSessionCache; cache != nil {
			key := c.sessionKey()
			if cs, ok := cache.Get(key); ok && cs != nil {
				hc.Session = cs.state
				c.sessions.offered.Store(cs.state)
			}
			hc.StoreSession = func(s *session.State) {
				c.sessions.stored.Store(s)
				cache.Put(key, &ClientSessionState{s})
			}
		}
		if cfg.GetClientCertificate != nil {
			hc.GetClientCertificate = c.getClientCertificate
		}
	} else {
		if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil &&
			len(cfg.ExternalPSKs) == 0 && cfg.GetExternalPSK == nil {
			return nil, errors.New("a server needs Certificates, GetCertificate or GetConfigForClient (or ExternalPSKs)")
		}
		hc.VerifyPeer = c.verifyClient
		hc.TicketsDisabled = cfg.SessionTicketsDisabled
		sessions := cfg.serverSessions()
		hc.Tickets, hc.SessionCache = cfg.ticketKeys(sessions), sessions.cache
		if cfg.MaxEarlyData > 0 {
			if int(cfg.MaxEarlyData) > hc.Limits.EarlyData {
				return nil, fmt.Errorf("MaxEarlyData %d is over the limit of %d", cfg.MaxEarlyData, hc.Limits.EarlyData)
			}
			hc.MaxEarlyData, hc.Replay = cfg.MaxEarlyData, sessions.replayWindow(hc.Limits)
		}
		if cfg.WrapSession != nil {
			hc.WrapTicket = func(s *handshake.State, sess *session.State) ([]byte, error) {
				return cfg.WrapSession(c.connectionState(s, false), newSessionState(sess))
			}
		}
		if cfg.UnwrapSession != nil {
			hc.UnwrapTicket = func(s *handshake.State, identity []byte) (*session.State, error) {
				ss, err := cfg.UnwrapSession(identity, c.connectionState(s, false))
				if err != nil || ss == nil {
					return nil, err
				}
				return ss.sessionState(), nil
			}
		}
		if cfg.GetCertificate != nil || cfg.NameToCertificate != nil {
			hc.GetCertificate = c.getCertificate
		}
		if cfg.GetConfigForClient != nil {
			hc.ConfigForClient = c.configForClient
		}
		if cfg.ClientCAs != nil && cfg.ClientAuth != NoClientCert {
			// Subjects is deprecated only for system pools, which ClientCAs is not.
			hc.ClientCANames = cfg.ClientCAs.Subjects()
			if err := checkCANames(hc.ClientCANames, hc.Limits.CANames); err != nil {
				return nil, err
			}
		}
	}
	if err := cfg.externalPSKs(hc, c.isClient); err != nil {
		return nil, err
	}
	echConfig := c.echServerConfig
	if c.isClient {
		echConfig = c.echClientConfig
	}
	if err := echConfig(hc); err != nil {
		return nil, err
	}
	return hc, nil
}

// checkCANames refuses ClientCAs whose subjects, as CertificateRequest
// encodes them (each with a 2-byte length), exceed the limits policy: they
// could not be sent in the message's 2-byte vector, and a configuration
// error is better found before any byte goes out than as a failed message.
func checkCANames(names [][]byte, limit int) error {
	n := 0
	for _, name := range names {
		n += 2 + len(name)
	}
	if n > limit {
		return fmt.Errorf("ClientCAs: the %d subjects take %d bytes in a CertificateRequest, more than the limit of %d; use fewer authorities", len(names), n, limit)
	}
	return nil
}

func (c *Conn) serverName() string {
	return c.config.ServerName
}

// sessionKey names the server in the client session cache: its name, or
// its address when there is none.
func (c *Conn) sessionKey() string {
	if c.config.ServerName != "" {
		return c.config.ServerName
	}
	return addrString(c.conn.RemoteAddr())
}

func engineCertificate(cert *Certificate) (*handshake.Certificate, error) {
	if cert.RawPublicKey != nil {
		return engineRawKey(cert)
	}
	leaf, err := cert.leaf()
	if err != nil {
		return nil, err
	}
	return &handshake.Certificate{Chain: cert.Certificate, PrivateKey: cert.PrivateKey, Leaf: leaf,
		SignatureSchemes: certificateSchemes(cert.SupportedSignatureAlgorithms),
		OCSPStaple:       cert.OCSPStaple, SignedCertificateTimestamps: cert.SignedCertificateTimestamps}, nil
}

// certificateSchemes resolves Certificate.SupportedSignatureAlgorithms: nil
// stays nil (the certificate signs with Config.SignatureSchemes); otherwise
// the implemented schemes in the given order, each once, and a list left
// empty stays non-nil, so the certificate signs with nothing.
func certificateSchemes(prefs []SignatureScheme) []uint16 {
	if prefs == nil {
		return nil
	}
	out := make([]uint16, 0, len(prefs))
	for _, p := range prefs {
		if signature.Supported(uint16(p)) && !slices.Contains(out, uint16(p)) {
			out = append(out, uint16(p))
		}
	}
	return out
}

// helloInfo is the engine's ClientHelloInfo as the application's callbacks
// see it.
func (c *Conn) helloInfo(info *handshake.ClientHelloInfo) *ClientHelloInfo {
	pub := &ClientHelloInfo{
		ServerName: info.ServerName, CipherSuites: info.CipherSuites, SupportedProtos: info.SupportedProtos,
		SupportedVersions: info.SupportedVersions, Conn: c.conn, config: c.config,
		Extensions: info.Extensions, SupportedPoints: info.SupportedPoints,
		HelloRetryRequest: info.HelloRetryRequest, ctx: c.handshakeCtx,
	}
	for _, t := range info.ServerCertTypes {
		pub.ServerCertificateTypes = append(pub.ServerCertificateTypes, CertificateType(t))
	}
	for _, g := range info.SupportedGroups {
		pub.SupportedCurves = append(pub.SupportedCurves, CurveID(g))
	}
	for _, s := range info.SignatureSchemes {
		pub.SignatureSchemes = append(pub.SignatureSchemes, SignatureScheme(s))
	}
	return pub
}

// configForClient asks Config.GetConfigForClient for this client's
// configuration. The Conn follows the one returned from then on (its
// callbacks, its verification, its limits), so the engine gets the server
// part of handshakeConfig built from it.
//
// Ticket keys and the session cache stay the original configuration's,
// unless the returned one has keys of its own (SessionTicketKey or
// SetSessionTicketKeys), as in crypto/tls: a configuration built afresh
// for each connection would otherwise never resume. A session that comes
// back under another configuration is still judged by that one's rules
// (handshake.Server.mayResume: its server name, client authentication and
// a client chain verified again).
func (c *Conn) configForClient(info *handshake.ClientHelloInfo) (*handshake.Config, error) {
	original := c.config
	cfg, err := original.GetConfigForClient(c.helloInfo(info))
	if err != nil || cfg == nil {
		return nil, err
	}
	c.config = cfg
	hc, err := c.handshakeConfig()
	if err != nil {
		return nil, fmt.Errorf("the Config GetConfigForClient returned: %w", err)
	}
	if !cfg.ownTicketKeys() {
		sessions := original.serverSessions()
		hc.Tickets, hc.SessionCache = original.ticketKeys(sessions), sessions.cache
		if hc.Replay != nil {
			hc.Replay = sessions.replayWindow(hc.Limits) // one memory for the tickets' one key
		}
	}
	return hc, nil
}

func (c *Conn) getCertificate(info *handshake.ClientHelloInfo) (*handshake.Certificate, error) {
	pub := c.helloInfo(info)
	cert, err := c.config.pickCertificate(pub)
	if err != nil || cert == nil {
		return nil, err
	}
	return engineCertificate(cert)
}

func (c *Conn) getClientCertificate(info *handshake.CertificateRequestInfo) (*handshake.Certificate, error) {
	pub := &CertificateRequestInfo{AcceptableCAs: info.AcceptableCAs, Version: info.Version, config: c.config,
		ctx: c.handshakeCtx, CertificateType: CertificateType(info.CertificateType)}
	for _, s := range info.SignatureSchemes {
		pub.SignatureSchemes = append(pub.SignatureSchemes, SignatureScheme(s))
	}
	cert, err := c.config.GetClientCertificate(pub)
	if err != nil || cert == nil || len(cert.Certificate) == 0 && cert.RawPublicKey == nil {
		return nil, err
	}
	return engineCertificate(cert)
}

// enabledSuites resolves Config.CipherSuites into the ranking order: nil
// means the defaults; a list that names no TLS 1.3 suite keeps the TLS 1.3
// defaults (as crypto/tls, where CipherSuites concerns TLS 1.2 only: a
// common hardening list names TLS 1.2 suites and must not turn TLS 1.3
// off); a list that names some selects among them too.
func enabledSuites(ids []uint16) []uint16 {
	if ids == nil {
		return suites.Default()
	}
	ranked := suites.Ranked(ids)
	if !slices.ContainsFunc(ranked, isTLS13Suite) {
		for _, id := range suites.Default() {
			if isTLS13Suite(id) {
				ranked = append(ranked, id)
			}
		}
		ranked = suites.Ranked(ranked)
	}
	return ranked
}

func isTLS13Suite(id uint16) bool {
	s := suites.Lookup(id)
	return s != nil && s.Version == VersionTLS13
}

// suitesAndVersions resolves the cipher suites and the version range
// together: a version with no enabled suite is neither offered nor
// accepted, and settings that leave no version, or that ask for a version
// and list suites only for the other (MinVersion TLS 1.3 with only TLS 1.2
// suites named), are a configuration error before any byte is sent.
func (c *Config) suitesAndVersions() (ids []uint16, lo, hi uint16, err error) {
	lo, hi = c.versions()
	if lo > hi {
		return nil, 0, 0, c.versionRangeError(lo, hi)
	}
	ids = enabledSuites(c.CipherSuites)
	named13 := slices.ContainsFunc(suites.Ranked(c.CipherSuites), isTLS13Suite)
	has12 := slices.ContainsFunc(ids, func(id uint16) bool { return !isTLS13Suite(id) })
	switch {
	case c.CipherSuites != nil && !named13 && lo >= VersionTLS13:
		return nil, 0, 0, fmt.Errorf("CipherSuites names only TLS 1.2 suites, but MinVersion is TLS 1.3, where none of them can be used: " +
			"leave CipherSuites out (TLS 1.3 suites are enabled by default) or name the TLS 1.3 suites you want")
	case !has12 && hi <= VersionTLS12:
		return nil, 0, 0, fmt.Errorf("CipherSuites enables no TLS 1.2 suite tlsflow implements, but MaxVersion is TLS 1.2: " +
			"name a TLS 1.2 suite (AES-GCM or ChaCha20-Poly1305; CBC suites are not implemented)")
	case !has12:
		lo = VersionTLS13 // neither offered nor accepted: no suite to use
	}
	return ids, lo, hi, nil
}

// enabledSchemes resolves Config.SignatureSchemes: nil means the defaults,
// otherwise the implemented schemes in the given order, each once.
func enabledSchemes(prefs []SignatureScheme) []uint16 {
	if prefs == nil {
		return signature.Default
	}
	var out []uint16
	for _, p := range prefs {
		if signature.Supported(uint16(p)) && !slices.Contains(out, uint16(p)) {
			out = append(out, uint16(p))
		}
	}
	return out
}

func enabledGroups(prefs []CurveID) []uint16 {
	if prefs == nil {
		return suites.DefaultGroups()
	}
	var gs []uint16
	for _, g := range prefs {
		if suites.GroupImplemented(uint16(g)) {
			gs = append(gs, uint16(g))
		}
	}
	return gs
}
