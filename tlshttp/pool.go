package tlshttp

import (
	"errors"
	"net/http"
	"sync"

	"golang.org/x/net/http2"
)

// errHTTP1 is the HTTP/2 pool's answer when the server chose HTTP/1.1.
var errHTTP1 = errors.New("tlshttp: the server chose HTTP/1.1")

// h2Pool is the HTTP/2 transport's connection pool (http2.ClientConnPool).
// It dials as the x/net pool would, once per server however many requests
// wait, but offers "h2" and "http/1.1" and keeps the answer: a server that
// chooses HTTP/1.1 is remembered, and its connection handed to the HTTP/1.1
// transport (takeSpare) instead of being wasted.
type h2Pool struct {
	t *Transport

	mu      sync.Mutex
	conns   map[string][]*http2.ClientConn
	dialing map[string]*h2Dial
	http1   map[string]bool  // servers that chose HTTP/1.1
	spare   map[string]*Conn // their first connection, for dialHTTP1
}

// h2Dial is a dial in progress; done is closed when err is set or the
// connection is in the pool.
type h2Dial struct {
	done chan struct{}
	err  error
}

func (p *h2Pool) GetClientConn(req *http.Request, addr string) (*http2.ClientConn, error) {
	for {
		p.mu.Lock()
		for _, cc := range p.conns[addr] {
			if cc.ReserveNewRequest() {
				p.mu.Unlock()
				return cc, nil
			}
		}
		if p.http1[addr] {
			p.mu.Unlock()
			return nil, errHTTP1
		}
		if d := p.dialing[addr]; d != nil {
			p.mu.Unlock()
			select {
			case <-d.done:
				if d.err != nil {
					return nil, d.err
				}
				continue
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
		d := &h2Dial{done: make(chan struct{})}
		p.dialing[addr] = d
		p.mu.Unlock()

		d.err = p.dial(req, addr)
		p.mu.Lock()
		delete(p.dialing, addr)
		p.mu.Unlock()
		close(d.done)
		if d.err != nil {
			return nil, d.err
		}
	}
}

// dial connects to addr and files the connection by the protocol the
// server chose.
func (p *h2Pool) dial(req *http.Request, addr string) error {
	protos := []string{"h2", "http/1.1"}
	if p.t.Config != nil && p.t.Config.NextProtos != nil {
		protos = p.t.Config.NextProtos
	}
	c, err := p.t.dialTLS(req.Context(), req, addr, protos)
	if err != nil {
		return err
	}
	if c.Conn.ConnectionState().NegotiatedProtocol != "h2" {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.http1[addr] = true
		if old := p.spare[addr]; old != nil {
			old.Close()
		}
		p.spare[addr] = c
		return nil
	}
	cc, err := p.t.h2.NewClientConn(c)
	if err != nil {
		c.Close()
		return err
	}
	p.mu.Lock()
	p.conns[addr] = append(p.conns[addr], cc)
	p.mu.Unlock()
	return nil
}

func (p *h2Pool) MarkDead(cc *http2.ClientConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, list := range p.conns {
		for i, c := range list {
			if c == cc {
				list = append(list[:i:i], list[i+1:]...)
				if len(list) == 0 {
					delete(p.conns, addr)
				} else {
					p.conns[addr] = list
				}
				return
			}
		}
	}
}

// speaksHTTP1 reports whether the server at addr chose HTTP/1.1 before.
func (p *h2Pool) speaksHTTP1(addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.http1[addr]
}

// takeSpare returns the connection a server chose HTTP/1.1 for, once.
func (p *h2Pool) takeSpare(addr string) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.spare[addr]
	delete(p.spare, addr)
	return c
}

// closeIdle closes the HTTP/2 connections without streams, and the spares.
func (p *h2Pool) closeIdle() {
	p.mu.Lock()
	var idle []*http2.ClientConn
	for _, list := range p.conns {
		for _, cc := range list {
			if st := cc.State(); st.StreamsActive == 0 && st.StreamsReserved == 0 && st.StreamsPending == 0 {
				idle = append(idle, cc)
			}
		}
	}
	spares := p.spare
	p.spare = map[string]*Conn{}
	p.mu.Unlock()
	for _, cc := range idle {
		cc.Close()
		p.MarkDead(cc)
	}
	for _, c := range spares {
		c.Close()
	}
}
