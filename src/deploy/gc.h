/*
 * Housekeeping: what the state dir no longer needs. The artifacts that only releases
 * older than the newest retain.releases of their app use (never the live release's,
 * the one a rollback returns to, a deploying one's or one a machine still runs), and
 * the logs of machines gone from the fleet, last written longer ago than retain.logs.
 *
 * gc_plan decides, from the store and the directories' listings; gc_sweep does the
 * slow part (walking trees to size or remove them) and never touches the store, so
 * the daemon runs it on its thread pool while its loop goes on.
 */
#ifndef OPSDECK_GC_H
#define OPSDECK_GC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

/*
 * An artifact no kept release uses is still kept this long after it was stored or
 * imported again: the CLI imports before it asks for the deploy that will use it.
 */
#define GC_IMPORT_GRACE_MS	(60LL * 60 * 1000)

enum gc_kind {
	GC_ARTIFACT,
	GC_LOG,
};

const char *gc_kind_str(enum gc_kind);

/* One thing to remove. */
struct gc_item {
	enum gc_kind	 kind;
	char		*name;		/* the artifact's digest, or the machine's id */
	char		*entry;		/* an artifact's name in STATE/artifacts */
	char		*app;		/* a log's app */
	char		**files;	/* a log's files, the rotated ones too */
	size_t		 nfiles;
	char		*why;		/* for people: "web-app v1, v2: older than ..." */
	int64_t		 last_ms;	/* last written */
	int64_t		 bytes;		/* the sizes of its files */
	char		*error;		/* gc_sweep could not remove it */
};

struct gc_run {
	bool		 dry_run;
	int64_t		 at;		/* when it was planned */
	struct gc_item	*items;
	size_t		 nitems;
	size_t		 artifacts_kept;
	/* gc_sweep's counts: what was removed, or would be on a dry run */
	size_t		 artifacts_removed;
	size_t		 logs_removed;
	size_t		 failed;
	int64_t		 bytes;
};

/* Decides what to remove (into run, which gc_run_release frees). */
int	 gc_plan(struct store *, const char *state_dir, const struct cfg_retain *,
	    bool dry_run, struct gc_run *, struct err *);
/* Removes what run lists (a dry run only sizes it); safe off the loop thread. */
void	 gc_sweep(const char *state_dir, struct gc_run *);
/* gc_plan, gc_sweep and gc_record in one go, for a caller that may block (--offline). */
int	 gc_collect(struct store *, const char *state_dir,
	    const struct cfg_retain *, bool dry_run, const char *actor,
	    struct gc_run *, struct err *);
/* True when run removes the artifact digest (a deploy of it must wait). */
bool	 gc_removes_artifact(const struct gc_run *, const char *digest);
/* Records a run that was not a dry run, for status. */
int	 gc_record(struct store *, const char *actor, const struct gc_run *,
	    struct err *);
/* "removed 2 artifacts (1.2 MiB), kept 3; removed 1 log (4.0 KiB)". The caller frees. */
char	*gc_summary(const struct gc_run *);
/* {dry_run, at, summary, artifacts_kept, ..., removed: [{kind, ...}]}. */
json_t	*gc_run_json(const struct gc_run *);
/* The last recorded run, {at, actor, artifacts_kept, ...}, or JSON null. */
json_t	*gc_last_json(struct store *);
void	 gc_run_release(struct gc_run *);

#endif
