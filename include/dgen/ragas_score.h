/*
 * ragas_score.h - the arithmetic of the four RAGAS metrics (RagasMetrics),
 * apart from the LLM calls that produce their inputs, so each formula can
 * be checked against hand-computed numbers.
 *
 *   faithfulness      = statements of the answer the contexts support / statements
 *   context_recall    = ground-truth sentences attributable to the contexts / sentences
 *   context_precision = average precision of the contexts' usefulness verdicts, in
 *                       retrieval order: sum_k (precision@k * v_k) / (useful ones)
 *   answer_relevancy  = mean cosine of the question to the questions the answer
 *                       implies, 0 when the answer is noncommittal
 * Every score is in [0, 1]; an empty input scores 0.
 *
 * Ownership: nothing is allocated.
 */
#ifndef DGEN_RAGAS_SCORE_H
#define DGEN_RAGAS_SCORE_H

#include <stdbool.h>
#include <stddef.h>

/* The share of 1s among v[0..n) (faithfulness, context_recall). */
double ragas_share(const int *v, size_t n);

/* Average precision of binary verdicts v[0..n) (context_precision). */
double ragas_average_precision(const int *v, size_t n);

/* q: the question's embedding; gen: n embeddings (n * dim); negative
 * cosines count as they are, the mean is clamped to [0, 1]. */
double ragas_answer_relevancy(const double *q, const double *gen, size_t n, size_t dim,
			      bool noncommittal);

#endif
