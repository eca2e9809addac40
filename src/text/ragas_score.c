/*
 * ragas_score.c - RAGAS metric formulas (see ragas_score.h).
 */
#include <math.h>

#include "dgen/ragas_score.h"

double ragas_share(const int *v, size_t n)
{
	size_t yes = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		yes += v[i] != 0;
	return (double)yes / (double)n;
}

double ragas_average_precision(const int *v, size_t n)
{
	size_t hits = 0;
	double sum = 0;

	for (size_t k = 0; k < n; k++) {
		if (!v[k])
			continue;
		hits++;
		sum += (double)hits / (double)(k + 1);
	}
	return hits ? sum / (double)hits : 0;
}

static double cosine(const double *a, const double *b, size_t dim)
{
	double dot = 0, na = 0, nb = 0;

	for (size_t i = 0; i < dim; i++) {
		dot += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	return na > 0 && nb > 0 ? dot / (sqrt(na) * sqrt(nb)) : 0;
}

double ragas_answer_relevancy(const double *q, const double *gen, size_t n, size_t dim,
			      bool noncommittal)
{
	double sum = 0, m;

	if (n == 0 || dim == 0 || noncommittal)
		return 0;
	for (size_t i = 0; i < n; i++)
		sum += cosine(q, gen + i * dim, dim);
	m = sum / (double)n;
	return m < 0 ? 0 : m > 1 ? 1 : m;
}
