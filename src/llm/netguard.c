/*
 * netguard.c - where members' own models may connect (see netguard.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dgen/netguard.h"

int netguard_url_host(const char *url, char *host, size_t size)
{
	const char *p = strstr(url ? url : "", "://"), *end, *at;
	size_t n;

	if (!p)
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	while (at) { /* user info: the last '@' before the path */
		p = at + 1;
		at = memchr(p, '@', (size_t)(end - p));
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (!close)
			return -1;
		p++;
		n = (size_t)(close - p);
	} else {
		n = strcspn(p, ":/?#");
		if (p + n > end)
			n = (size_t)(end - p);
	}
	if (n == 0 || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	if (n > 1 && host[n - 1] == '.') /* "example.com." is example.com */
		host[n - 1] = '\0';
	return 0;
}

/* Calls fn on each trimmed, non-empty entry of patterns until it says
 * true. */
static bool each_entry(const char *patterns, const char *host,
		       bool (*fn)(const char *e, size_t n, const char *host))
{
	const char *p = patterns ? patterns : "";

	while (*p) {
		size_t n = strcspn(p, ",");
		const char *e = p;
		size_t k = n;

		while (k && isspace((unsigned char)*e)) {
			e++;
			k--;
		}
		while (k && isspace((unsigned char)e[k - 1]))
			k--;
		if (k && fn(e, k, host))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static bool exact(const char *e, size_t n, const char *host)
{
	return strlen(host) == n && strncasecmp(e, host, n) == 0;
}

static bool matches(const char *e, size_t n, const char *host)
{
	size_t h = strlen(host);

	if (n == 1 && e[0] == '*')
		return true;
	if (n > 2 && e[0] == '*' && e[1] == '.')
		return h > n - 1 && strncasecmp(host + h - (n - 1), e + 1, n - 1) == 0;
	return exact(e, n, host);
}

bool netguard_host_allowed(const char *patterns, const char *host)
{
	return each_entry(patterns, host, matches);
}

bool netguard_host_named(const char *patterns, const char *host)
{
	return each_entry(patterns, host, exact);
}

static bool v4_blocked(const unsigned char *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] == 10 ||           /* this host, loopback, 10/8 */
	       (a[0] == 169 && a[1] == 254) ||                     /* link-local */
	       (a[0] == 172 && (a[1] & 0xf0) == 16) ||             /* 172.16/12 */
	       (a[0] == 192 && a[1] == 168) ||                     /* 192.168/16 */
	       (a[0] == 100 && (a[1] & 0xc0) == 64) ||             /* 100.64/10, shared */
	       a[0] >= 224;                                        /* multicast, reserved */
}

bool netguard_addr_blocked(int family, const void *addr)
{
	const unsigned char *a = addr;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[16];

	if (family == AF_INET)
		return v4_blocked(a);
	if (family != AF_INET6)
		return true;
	if (memcmp(a, mapped, 12) == 0)
		return v4_blocked(a + 12);
	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) /* :: and ::1 */
		return true;
	return (a[0] & 0xfe) == 0xfc ||                  /* fc00::/7 unique local */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
	       a[0] == 0xff;                              /* multicast */
}

/* Whether host is an IP literal in a blocked range. */
static bool literal_blocked(const char *host)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1)
		return netguard_addr_blocked(AF_INET, a);
	if (inet_pton(AF_INET6, host, a) == 1)
		return netguard_addr_blocked(AF_INET6, a);
	return false;
}

int netguard_check_endpoint(const char *allow, const char *named, const char *endpoint,
			    struct dgen_err *err)
{
	char host[NETGUARD_HOST_MAX];

	if (netguard_url_host(endpoint, host, sizeof host) != 0) {
		dgen_err_set(err, DGEN_EINVALID, "'endpoint' has no host");
	} else if (!netguard_host_allowed(allow, host)) {
		dgen_err_set(err, DGEN_EINVALID,
			     "'endpoint': host %s is not allowed for your own models "
			     "(LLM_ENDPOINT_ALLOW)", host);
	} else if (literal_blocked(host) && !netguard_host_named(named, host)) {
		dgen_err_set(err, DGEN_EINVALID,
			     "'endpoint': %s is a loopback, link-local or private address, "
			     "not allowed for your own models", host);
	} else {
		return 0;
	}
	dgen_err_detail_str(err, "field", "endpoint");
	return -1;
}

bool netguard_needed(bool guarded, const char *proxy, const char *allow, const char *endpoint)
{
	char host[NETGUARD_HOST_MAX];

	if (!guarded || (proxy && *proxy))
		return false;
	return netguard_url_host(endpoint, host, sizeof host) != 0 ||
	       !netguard_host_named(allow, host);
}

/* libcurl asks here for every socket it would connect, with the resolved
 * address: a blocked one gets no socket (the transfer fails
 * CURLE_COULDNT_CONNECT) and is remembered for the error message. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *sa)
{
	struct netguard_sock *s = arg;
	const void *addr = NULL;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (sa->family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)&sa->addr)->sin_addr;
	else if (sa->family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)&sa->addr)->sin6_addr;
	if (!addr || netguard_addr_blocked(sa->family, addr)) {
		if (!addr || !inet_ntop(sa->family, addr, s->refused, sizeof s->refused))
			snprintf(s->refused, sizeof s->refused, "an address of family %d",
				 sa->family);
		return CURL_SOCKET_BAD;
	}
	return socket(sa->family, sa->socktype, sa->protocol);
}

void netguard_curl(void *easy, struct netguard_sock *s)
{
	if (!s->on)
		return;
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, s);
}
