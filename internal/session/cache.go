package session

import (
	"container/list"
	"sync"
)

// Cache is a bounded LRU map from a key (a TLS 1.2 session ID on the
// server, a server name on the client) to a session. The bound keeps a
// flood of handshakes from growing memory without limit.
type Cache struct {
	mu       sync.Mutex
	capacity int
	order    *list.List // front: most recently used
	entries  map[string]*list.Element
}

type entry struct {
	key   string
	state *State
}

// NewCache returns a cache holding at most capacity sessions (at least 1).
func NewCache(capacity int) *Cache {
	if capacity < 1 {
		capacity = 1
	}
	return &Cache{capacity: capacity, order: list.New(), entries: make(map[string]*list.Element)}
}

// Put stores s under key, evicting the least recently used entry when
// full; a nil s deletes key.
func (c *Cache) Put(key string, s *State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		if s == nil {
			c.order.Remove(e)
			delete(c.entries, key)
			return
		}
		e.Value.(*entry).state = s
		c.order.MoveToFront(e)
		return
	}
	if s == nil {
		return
	}
	if c.order.Len() >= c.capacity {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*entry).key)
	}
	c.entries[key] = c.order.PushFront(&entry{key, s})
}

// Get returns the session under key.
func (c *Cache) Get(key string) (*State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry).state, true
}

// Len is the number of sessions held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
