package harness

import (
	"fmt"
	"net"
	"sync"
)

// handedOut remembers every port this program has reserved, so two starts
// running at the same time in this program never get the same port. Other
// programs can still take a port between its reservation and its use: the
// start functions retry with new ports when a child fails to bind.
var handedOut = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// FreePorts reserves n distinct free TCP ports on 127.0.0.1: it listens on
// 127.0.0.1:0 until it has n ports never handed out before, then closes the
// listeners and returns the ports.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	handedOut.Lock()
	defer handedOut.Unlock()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("free ports: no %d unused ports found", n)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free ports: %w", err)
		}
		ls = append(ls, l) // keep it open, so the next Listen gets another port
		addr, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			return nil, fmt.Errorf("free ports: %v is not a TCP address", l.Addr())
		}
		p := addr.Port
		if handedOut.m[p] {
			continue
		}
		handedOut.m[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}
