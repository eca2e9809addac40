# port.sh - a loopback port for a test's own server, sourced by the shell
# suites that start one.
#
# Ports are picked below the kernel's ephemeral range: outgoing connections
# (curl, the idle-connection flood of the hardening suite, the mock LLM's
# clients) take their local ports from that range, so a listener chosen
# inside it can find its port taken between the check and nginx's bind.

# Prints a port in [10000, start of the ephemeral range) that nothing
# listens on; fails after 50 tries.
free_port() {
	local low=32768 p
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 11000 ] || low=32768
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (low - 10000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
