/*
 * route.c - the route table (every row of SPEC.md §4 and §8) and its
 * matcher. Every route but the ROUTE_PUBLIC ones needs a caller; the
 * dispatcher checks it once, before any handler.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dgen/route.h"

const struct route route_table[] = {
	{ "GET", "/api/health", api_health_get, ROUTE_PUBLIC },
	{ "POST", "/api/auth/login", api_auth_login, ROUTE_PUBLIC },
	{ "POST", "/api/auth/logout", api_auth_logout, 0 },
	{ "GET", "/api/auth/me", api_auth_me, 0 },
	{ "GET", "/api/users", api_users_list, ROUTE_ADMIN },
	{ "POST", "/api/users", api_users_create, ROUTE_ADMIN },
	{ "PUT", "/api/users/{name}", api_users_update, ROUTE_ADMIN },
	{ "GET", "/api/tokens", api_tokens_list, 0 },
	{ "POST", "/api/tokens", api_tokens_create, 0 },
	{ "DELETE", "/api/tokens/{id}", api_tokens_revoke, 0 },
	{ "GET", "/api/blocks", api_blocks_list, 0 },
	{ "GET", "/api/templates", api_templates_list, 0 },
	{ "POST", "/api/pipelines/from_template/{name}", api_pipelines_from_template, 0 },
	{ "POST", "/api/pipelines", api_pipelines_create, 0 },
	{ "GET", "/api/pipelines", api_pipelines_list, 0 },
	{ "GET", "/api/pipelines/{id}", api_pipelines_get, 0 },
	{ "PUT", "/api/pipelines/{id}", api_pipelines_update, 0 },
	{ "DELETE", "/api/pipelines/{id}", api_pipelines_delete, 0 },
	{ "POST", "/api/pipelines/{id}/execute", api_pipelines_execute, 0 },
	{ "GET", "/api/pipelines/{id}/accumulated_state_schema", api_pipelines_state_schema, 0 },
	{ "PUT", "/api/pipelines/{id}/validation_config", api_pipelines_validation_config, 0 },
	{ "POST", "/api/seeds/validate", api_seeds_validate, 0 },
	{ "POST", "/api/generate", api_generate, 0 },
	{ "GET", "/api/jobs/active", api_jobs_active, 0 },
	{ "GET", "/api/jobs", api_jobs_list, 0 },
	{ "GET", "/api/jobs/{id}", api_jobs_get, 0 },
	{ "DELETE", "/api/jobs/{id}", api_jobs_cancel, 0 },
	{ "GET", "/api/jobs/{id}/failures", api_jobs_failures, 0 },
	{ "POST", "/api/jobs/{id}/retry_failed", api_jobs_retry_failed, 0 },
	{ "GET", "/api/records", api_records_list, 0 },
	{ "DELETE", "/api/records", api_records_delete, 0 },
	{ "GET", "/api/records/stats", api_records_stats, 0 },
	{ "POST", "/api/records/bulk", api_records_bulk, 0 },
	{ "GET", "/api/records/{id}", api_records_get, 0 },
	{ "PUT", "/api/records/{id}", api_records_update, 0 },
	{ "GET", "/api/export", api_export, 0 },
	{ "GET", "/api/export/download", api_export_download, 0 },
	{ "GET", "/api/llm-models", api_models_list, 0 },
	{ "POST", "/api/llm-models", api_models_create, 0 },
	{ "POST", "/api/llm-models/test", api_models_test, 0 },
	{ "GET", "/api/llm-models/{name}", api_models_get, 0 },
	{ "PUT", "/api/llm-models/{name}", api_models_update, 0 },
	{ "DELETE", "/api/llm-models/{name}", api_models_delete, 0 },
	{ "GET", "/api/embedding-models", api_models_list, 0 },
	{ "POST", "/api/embedding-models", api_models_create, 0 },
	{ "POST", "/api/embedding-models/test", api_models_test, 0 },
	{ "GET", "/api/embedding-models/{name}", api_models_get, 0 },
	{ "PUT", "/api/embedding-models/{name}", api_models_update, 0 },
	{ "DELETE", "/api/embedding-models/{name}", api_models_delete, 0 },
};
const size_t route_count = sizeof(route_table) / sizeof(route_table[0]);

int route_parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		int d;

		if (*p < '0' || *p > '9')
			return -1;
		d = *p - '0';
		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < 1)
		return -1;
	*out = v;
	return 0;
}

/* Matches path [0..plen) against pattern segment by segment. On a match,
 * the {id}/{name} segment is returned as [*cap, *cap + *cap_len) and
 * *cap_kind is 'i' or 'n' (0 when the pattern captures nothing). */
static bool pattern_match(const char *pattern, const char *path, size_t plen, const char **cap,
			  size_t *cap_len, char *cap_kind)
{
	const char *pp = pattern, *sp = path, *send = path + plen;

	*cap_kind = 0;
	for (;;) {
		const char *pe, *se;
		size_t pn, sn;

		if (*pp == '\0' || sp == send)
			return *pp == '\0' && sp == send;
		if (*pp != '/' || *sp != '/')
			return false;
		pp++;
		sp++;
		pe = strchr(pp, '/');
		if (!pe)
			pe = pp + strlen(pp);
		se = memchr(sp, '/', (size_t)(send - sp));
		if (!se)
			se = send;
		pn = (size_t)(pe - pp);
		sn = (size_t)(se - sp);
		if (pn >= 2 && pp[0] == '{') {
			if (sn == 0)
				return false;
			*cap = sp;
			*cap_len = sn;
			*cap_kind = pp[1] == 'i' ? 'i' : 'n';
		} else if (pn != sn || memcmp(pp, sp, pn) != 0) {
			return false;
		}
		pp = pe;
		sp = se;
	}
}

/* A path that matches some route but not with this method is a 405
 * with Allow, not a 404: the client has the right URL. */
int route_match(const char *method, const char *path, struct arena *a, struct route_match *m,
		struct dgen_err *err)
{
	size_t plen = strlen(path);
	bool path_known = false;

	memset(m, 0, sizeof(*m));
	if (plen > 1 && path[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < route_count; i++) {
		const struct route *r = &route_table[i];
		const char *cap = NULL;
		size_t cap_len = 0;
		char kind;

		if (!pattern_match(r->pattern, path, plen, &cap, &cap_len, &kind))
			continue;
		if (strcmp(r->method, method) != 0) {
			if (!strstr(m->allow, r->method)) {
				size_t used = strlen(m->allow);

				snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s",
					 used ? ", " : "", r->method);
			}
			path_known = true;
			continue;
		}
		if (kind == 'i') {
			char *raw = arena_strndup(a, cap, cap_len);

			if (route_parse_id(raw, &m->id) != 0) {
				dgen_err_set(err, DGEN_EBADREQ, "Id must be a positive integer");
				dgen_err_detail_str(err, "parameter", "id");
				dgen_err_detail_str(err, "value", raw);
				return -1;
			}
		} else if (kind == 'n') {
			m->name = arena_strndup(a, cap, cap_len);
		}
		m->route = r;
		return 0;
	}
	if (path_known) {
		struct json_object *arr = json_object_new_array();
		const char *p = m->allow;

		dgen_err_set(err, DGEN_EMETHOD, "Method %s is not allowed here; use %s", method,
			     m->allow);
		while (*p) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			json_object_array_add(arr, json_object_new_string_len(p, (int)n));
			p += n;
			while (*p == ',' || *p == ' ')
				p++;
		}
		dgen_err_detail(err, "allowed", arr);
		return -1;
	}
	dgen_err_set(err, DGEN_ENOTFOUND, "No API route for %s %s", method, path);
	dgen_err_detail_str(err, "path", path);
	return -1;
}
