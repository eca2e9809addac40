/*
 * stmt_sql.h - inside the store only: pieces of SQL text that stmt.c and
 * stmt_pg.c both spell, written once so the two engines' statements
 * cannot drift apart. Plain string macros, nothing to own or free.
 */
#ifndef DGEN_STORE_STMT_SQL_H
#define DGEN_STORE_STMT_SQL_H

/* Counters of struct dgen_job_counters, in its order. */
#define COUNTER_COLS \
	"total_seeds, current_seed, records_generated, records_failed, " \
	"input_tokens, output_tokens, cached_tokens"

/* Counts units into their job: ?2/?3 records and failures (one unit:
 * 1 and 0 or 0 and 1; a batch: their sums), ?4..?6 tokens, ?7 the block
 * (NULL keeps the live progress), ?8 the step, ?9..?11 the cost, ?12 the
 * attempts left (1 after a finished unit, 0 when a start came after it). step is how ?8 is written: current_step holds a step number
 * or a note, which PostgreSQL keeps as text and must be told. */
#define Q_COUNT_UNIT(step) \
	"UPDATE jobs SET current_seed = current_seed + ?2 + ?3, attempts = ?12, " \
	"records_generated = records_generated + ?2, " \
	"records_failed = records_failed + ?3, " \
	"input_tokens = input_tokens + ?4, output_tokens = output_tokens + ?5, " \
	"cached_tokens = cached_tokens + ?6, " \
	/* cost_add() in SQL: every right side reads the row before */ \
	"cost_state = CASE WHEN ?9 = 0 THEN cost_state WHEN cost_state = 0 THEN ?9 " \
	"WHEN cost_state = 2 OR ?9 = 2 OR cost_currency <> ?11 THEN 2 ELSE 1 END, " \
	"cost_amount = cost_amount + ?10, " \
	"cost_currency = CASE WHEN cost_state = 0 THEN ?11 ELSE cost_currency END, " \
	"current_block = coalesce(?7, current_block), " \
	"current_step = CASE WHEN ?7 IS NULL THEN current_step ELSE " step " END " \
	"WHERE id = ?1 RETURNING " COUNTER_COLS

#endif
