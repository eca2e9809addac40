/*
 * netguard.h - where members' own models may connect (SPEC.md §9): models
 * are an SSRF surface, so an endpoint a member saves must name a host
 * allowed by LLM_ENDPOINT_ALLOW (host patterns; by default the hosts of
 * the global models), and a client made from a member's model refuses,
 * at connect time, addresses inside the machine or its networks
 * (loopback, link-local, private, unspecified, multicast) unless
 * LLM_ENDPOINT_ALLOW names the host exactly. Global (admin) models are
 * trusted and never checked.
 *
 * Patterns: comma-separated, case-insensitive; "host" (exact: "by
 * name"), "*.example.com" (any name below example.com, not the bare
 * domain), "*" (any host). An IP literal is matched exactly.
 *
 * Ownership: strings are borrowed; netguard_url_host writes into the
 * caller's buffer. struct netguard_sock is the caller's (one per curl
 * handle) and must outlive the handle's transfers.
 */
#ifndef DGEN_NETGUARD_H
#define DGEN_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "dgen/err.h"

#define NETGUARD_HOST_MAX 256

/* The host of an http(s) URL, lowercased, without brackets, user info or
 * port. -1 when the URL has none (or it does not fit). */
int netguard_url_host(const char *url, char *host, size_t size);
/* Whether a pattern of patterns matches host. */
bool netguard_host_allowed(const char *patterns, const char *host);
/* Whether an exact (wildcard-free) entry of patterns is host. */
bool netguard_host_named(const char *patterns, const char *host);
/* Whether the address (AF_INET / AF_INET6, network order) is one a
 * member's model may not reach: loopback, link-local, private (and the
 * carrier-grade 100.64/10), unique local, unspecified, multicast and the
 * reserved 240/4 (IPv4-mapped IPv6 judged as IPv4). */
bool netguard_addr_blocked(int family, const void *addr);
/* The save-time check of a member's endpoint: its host must match allow
 * (the effective list: LLM_ENDPOINT_ALLOW, or the global models' hosts),
 * and an IP-literal host in a blocked range must be named in named (the
 * LLM_ENDPOINT_ALLOW setting itself). DGEN_EINVALID with detail field
 * "endpoint". */
int netguard_check_endpoint(const char *allow, const char *named, const char *endpoint,
			    struct dgen_err *err);

/* Connect-time check of one curl handle. on: check (a member's model
 * whose host LLM_ENDPOINT_ALLOW does not name); refused: the address
 * refused by the last transfer, "" when none. */
struct netguard_sock {
	bool on;
	char refused[64];
};
/* Arms the check on a CURL easy handle (does nothing unless s->on). */
void netguard_curl(void *easy, struct netguard_sock *s);
/* Whether a client made from cfg-like settings must check: guarded and
 * no proxy (behind a proxy the proxy connects, and is the admin's egress
 * control) and the endpoint's host not named in allow. */
bool netguard_needed(bool guarded, const char *proxy, const char *allow, const char *endpoint);

#endif
