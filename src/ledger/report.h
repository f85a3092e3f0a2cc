/*
 * An actor's report (the seed's feedback entry), written from the ledgers, not by
 * the actor: what it is working on and the tasks it moved (the work ledger), every
 * action it took with its time, outcome and evidence seq, counts per action and per
 * MCP tool, its deploys and how they ended, the incidents it touched, what blocks its
 * tasks and on whom, and what is next. Every line names the evidence seq or the task
 * move it comes from.
 */
#ifndef OPSDECK_REPORT_H
#define OPSDECK_REPORT_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

/*
 * The report of actor over [since_ms, now_ms] as JSON. incidents: every incident
 * ({incidents: [...]} as the watch lists them, all of them), or NULL: the caller's,
 * since the ledger does not read the watch's tables.
 */
json_t	*report_build(struct store *, const char *actor, int64_t since_ms,
	    int64_t now_ms, const json_t *incidents, struct err *);
/*
 * Progress rows (tasks_list's progress.directions or .owners) as lines: "BULLET
 * KEY NAME: d/t done (p %), ...; spent of estimated", each blocked task under it.
 */
struct buf;
void	 report_progress(struct buf *, const json_t *rows, const char *key,
	    const char *bullet);
/* The report as markdown (the caller frees). */
char	*report_markdown(const json_t *report);

#endif
