package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// resolveClientIP returns the address of the client behind a request.
// X-Forwarded-For is believed only when the direct peer is a trusted
// proxy; then the header is read from the right, skipping further trusted
// proxies, and the first untrusted address is the client. Entries left of
// it were written by the client itself and could be anything.
func resolveClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if len(trusted) == 0 || !contains(trusted, peer) {
		return peer
	}

	hops := forwardedHops(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // a garbled hop: stop at the last address we could trust
		}
		addr = addr.Unmap()
		if !contains(trusted, addr) {
			return addr
		}
		peer = addr
	}
	return peer
}

// resolveSecure reports whether the client reached the server over TLS:
// the request itself came over TLS, or the direct peer is a trusted proxy
// whose X-Forwarded-Proto names https. With a chain of proxies the first
// value is the one the client used.
func resolveSecure(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	if len(trusted) == 0 || !contains(trusted, peerAddr(r.RemoteAddr)) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

// forwardedHops splits every X-Forwarded-For header line into addresses,
// in order.
func forwardedHops(lines []string) []string {
	var hops []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ",") {
			if part = strings.TrimSpace(part); part != "" {
				hops = append(hops, part)
			}
		}
	}
	return hops
}

func contains(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
