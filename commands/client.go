package commands

import (
	"net/netip"
)

// clientKey is the key the code limits count a caller's tries under: a
// keyed tag (CodeHasher.Tag) of the caller's network, the IPv4 address or
// the IPv6 /64 (one subscriber's usual allocation), so that the events
// hold no address and one host cannot pose as many by changing the low
// bits of an IPv6 address. A request without a client IP (commands run
// from the command line, tests) counts under the empty key.
func (h *Accounts) clientKey(meta Meta) string {
	network := clientNetwork(meta.ClientIP)
	if network == "" {
		return ""
	}
	return h.codes.Tag("client-network", network)
}

// clientNetwork is the network a client IP is counted under: the address
// itself for IPv4 (and IPv4-mapped IPv6), the /64 for IPv6; "" for an
// empty or unparsable address.
func clientNetwork(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return ""
	}
	return prefix.String()
}
