/*
 * test_template.c - the template engine against golden cases and a few
 * properties the golden file cannot express (variable listing, number
 * printing, reuse of one compiled template from several threads).
 *
 * Golden cases live in tests/data/template/ (every .json file): each is an array
 * of {"name", "template", "context"?, "limits"?, and either "output" (the
 * exact text Jinja2 prints) or "error" (a substring of the message) with
 * optional "code" ("invalid" | "limit") and "line"}.
 */
#include "config.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/err.h"
#include "dgen/template.h"
#include "tap.h"

static const char *code_name(enum dgen_errcode c)
{
	switch (c) {
	case DGEN_EINVALID: return "invalid";
	case DGEN_ELIMIT: return "limit";
	default: return "other";
	}
}

static void run_case(const char *file, struct json_object *c)
{
	struct json_object *jt = NULL, *jctx = NULL, *jout = NULL, *jerr = NULL, *jname = NULL;
	struct json_object *jlim = NULL, *jcode = NULL, *jline = NULL, *v;
	struct dgen_template_limits lim = template_default_limits;
	struct dgen_template *t = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_buf out = DGEN_BUF_INIT;
	const char *name, *src;
	int rc;

	json_object_object_get_ex(c, "name", &jname);
	json_object_object_get_ex(c, "template", &jt);
	json_object_object_get_ex(c, "context", &jctx);
	json_object_object_get_ex(c, "output", &jout);
	json_object_object_get_ex(c, "error", &jerr);
	json_object_object_get_ex(c, "limits", &jlim);
	json_object_object_get_ex(c, "code", &jcode);
	json_object_object_get_ex(c, "line", &jline);
	name = jname ? json_object_get_string(jname) : "(unnamed)";
	if (!jt || (!jout && !jerr)) {
		ok(0, "%s: %s: case needs template and output or error", file, name);
		return;
	}
	if (jlim) {
		if (json_object_object_get_ex(jlim, "max_output", &v))
			lim.max_output = (size_t)json_object_get_int64(v);
		if (json_object_object_get_ex(jlim, "max_iterations", &v))
			lim.max_iterations = (long)json_object_get_int64(v);
	}
	src = json_object_get_string(jt);
	rc = template_compile(src, (size_t)json_object_get_string_len(jt), &t, &err);
	if (rc == 0)
		rc = template_render(t, jctx, &lim, &out, &err);
	if (jout) {
		if (rc != 0)
			diag("error: %s", err.msg);
		is_str(rc == 0 ? dgen_buf_str(&out) : NULL, json_object_get_string(jout), "%s: %s",
		       file, name);
	} else {
		const char *want = json_object_get_string(jerr);
		int good = rc != 0 && strstr(err.msg, want) != NULL;

		if (good && jcode)
			good = strcmp(code_name(err.code), json_object_get_string(jcode)) == 0;
		if (good && jline) {
			struct json_object *l = NULL;

			good = err.detail && json_object_object_get_ex(err.detail, "line", &l) &&
			       json_object_get_int(l) == json_object_get_int(jline);
		}
		if (!ok(good, "%s: %s (error)", file, name)) {
			if (rc == 0)
				diag("rendered without error: '%s'", dgen_buf_str(&out));
			else
				diag("got %s error: %s (detail %s)", code_name(err.code), err.msg,
				     err.detail ? json_object_to_json_string(err.detail) : "none");
			diag("wanted: %s", want);
		}
	}
	template_free(t);
	dgen_err_clear(&err);
	dgen_buf_free(&out);
}

static void run_golden(void)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];
	DIR *d;
	struct dirent *de;
	char *names[64];
	int n = 0;

	snprintf(dir, sizeof dir, "%s/tests/data/template", top ? top : ".");
	if (!(d = opendir(dir))) {
		ok(0, "golden directory %s exists", dir);
		return;
	}
	while ((de = readdir(d)) && n < 64) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	ok(n > 0, "golden files found in %s", dir);
	for (int i = 0; i < n; i++) {
		char path[8192];
		struct json_object *cases;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		cases = json_object_from_file(path);
		if (!ok(cases && json_object_is_type(cases, json_type_array), "%s parses", names[i])) {
			free(names[i]);
			continue;
		}
		for (size_t k = 0; k < json_object_array_length(cases); k++)
			run_case(names[i], json_object_array_get_idx(cases, k));
		json_object_put(cases);
		free(names[i]);
	}
}

static const char *fmt(double v)
{
	static struct dgen_buf b = DGEN_BUF_INIT;

	dgen_buf_reset(&b);
	template_format_number(&b, v, 0, 0);
	return dgen_buf_str(&b);
}

static void test_numbers(void)
{
	struct dgen_buf b = DGEN_BUF_INIT;

	is_str(fmt(2.57), "2.57", "2.57");
	is_str(fmt(3.0), "3.0", "3.0 keeps its .0");
	is_str(fmt(0.1 + 0.2), "0.30000000000000004", "shortest round trip");
	is_str(fmt(1e16), "1e+16", "1e16 switches to exponent");
	is_str(fmt(1e15), "1000000000000000.0", "1e15 stays fixed");
	is_str(fmt(123456789012345678.0), "1.2345678901234568e+17", "long mantissa in exponent form");
	is_str(fmt(0.0001), "0.0001", "0.0001 fixed");
	is_str(fmt(0.00001), "1e-05", "1e-05 has two exponent digits");
	is_str(fmt(1e100), "1e+100", "1e+100");
	is_str(fmt(-0.0), "-0.0", "negative zero");
	is_str(fmt(-2.5), "-2.5", "negative");
	is_str(fmt(5e-324), "5e-324", "smallest subnormal");
	is_str(fmt(1.7976931348623157e308), "1.7976931348623157e+308", "largest double");
	template_format_number(&b, 0, 1, -42);
	is_str(dgen_buf_str(&b), "-42", "integers print plainly");
	dgen_buf_free(&b);
}

static void test_variables(void)
{
	static const struct {
		const char *src, *want;
	} cases[] = {
		{ "{{ a }} {{ b.c }} {{ a }}", "[\"a\",\"b\"]" },
		{ "{{ x | default('y') }}{{ z is defined }}", "[]" },
		{ "{% for i in items %}{{ i }}{{ loop.index }}{{ n }}{% endfor %}", "[\"items\",\"n\"]" },
		{ "{% set t = 1 %}{{ t }}{{ u }}", "[\"u\"]" },
		{ "{% if opt is defined %}{{ opt }}{% else %}{{ other }}{% endif %}", "[\"other\"]" },
		{ "{{ w if w is defined else 'none' }}{{ range(3) | join }}", "[]" },
		{ "{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}", "[\"d\"]" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dgen_template *t = NULL;
		struct dgen_err err = DGEN_ERR_INIT;
		struct json_object *names = json_object_new_array();

		if (template_compile(cases[i].src, strlen(cases[i].src), &t, &err) == 0) {
			template_variables(t, names);
			is_str(json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN),
			       cases[i].want, "variables of %s", cases[i].src);
		} else {
			ok(0, "compile %s: %s", cases[i].src, err.msg);
		}
		template_free(t);
		json_object_put(names);
		dgen_err_clear(&err);
	}
}

struct worker {
	const struct dgen_template *t;
	int id, failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		struct json_object *ctx = json_object_new_object();
		struct dgen_buf out = DGEN_BUF_INIT;
		struct dgen_err err = DGEN_ERR_INIT;
		char want[128];

		json_object_object_add(ctx, "who", json_object_new_int(w->id));
		json_object_object_add(ctx, "n", json_object_new_int(i));
		snprintf(want, sizeof want, "worker %d: %d-%d", w->id, i, i * 2);
		if (template_render(w->t, ctx, NULL, &out, &err) != 0 ||
		    strcmp(dgen_buf_str(&out), want) != 0)
			w->failures++;
		dgen_buf_free(&out);
		dgen_err_clear(&err);
		json_object_put(ctx);
	}
	return NULL;
}

static void test_threads(void)
{
	const char *src = "{% set d = n * 2 %}worker {{ who }}: {{ [n, d] | join('-') }}";
	struct dgen_template *t = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct worker w[4];
	pthread_t th[4];
	int failures = 0;

	if (!ok(template_compile(src, strlen(src), &t, &err) == 0, "thread template compiles"))
		return;
	for (int i = 0; i < 4; i++) {
		w[i].t = t;
		w[i].id = i;
		w[i].failures = 0;
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	is_int(failures, 0, "one template rendered from 4 threads at once");
	template_free(t);
}

static void test_api_edges(void)
{
	struct dgen_template *t = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_buf out = DGEN_BUF_INIT;
	const char bad[] = "abc\xff";

	ok(template_compile(bad, sizeof bad - 1, &t, &err) != 0 && err.code == DGEN_EINVALID,
	   "invalid UTF-8 template is rejected");
	ok(strstr(err.msg, "line 1") != NULL, "and the message names the line");
	dgen_err_clear(&err);
	ok(template_compile("x{{ 1 }}", 8, &t, &err) == 0, "compiles");
	dgen_buf_puts(&out, "keep:");
	ok(template_render(t, NULL, NULL, &out, &err) == 0, "renders with a NULL context");
	is_str(dgen_buf_str(&out), "keep:x1", "appends to what the buffer held");
	template_free(t);
	template_free(NULL);
	dgen_buf_free(&out);
}

int main(void)
{
	test_numbers();
	test_variables();
	test_api_edges();
	test_threads();
	run_golden();
	return done_testing();
}
