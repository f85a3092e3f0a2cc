/*
 * Releases as the store keeps them: numbered per app, immutable once written except
 * for their status and timeline. A release records everything needed to run it again:
 * the artifact's digest, the config snapshot and the secrets version.
 */
#ifndef OPSDECK_RELEASE_H
#define OPSDECK_RELEASE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

enum release_status {
	RELEASE_PENDING,
	RELEASE_DEPLOYING,
	RELEASE_LIVE,
	RELEASE_FAILED,
	RELEASE_ROLLED_BACK,
	RELEASE_SUPERSEDED,
};

const char *release_status_str(enum release_status);

struct release {
	int64_t		 id;
	char		*app;
	int		 version;
	char		 artifact[65];		/* sha256 hex */
	char		 config_digest[65];
	char		*config_path;		/* the config file the snapshot came from */
	char		*config_text;		/* its text at deploy time */
	int		 secrets_version;
	char		*actor;
	char		*message;
	enum release_status status;
	char		*failed_step;
	char		*reason;
	int64_t		 created_at;
	int64_t		 finished_at;		/* 0 while not finished */
};

/* Creates vN+1 of app, pending. */
int	release_create(struct store *, struct release *, struct err *);
/* By app and version, by id, or the app's live one (ERR_NOT_FOUND when none). */
int	release_load(struct store *, const char *app, int version,
	    struct release *, struct err *);
int	release_load_id(struct store *, int64_t id, struct release *,
	    struct err *);
int	release_live(struct store *, const char *app, struct release *,
	    struct err *);
void	release_release(struct release *);
/* Sets the status (and, when failing, the step and reason); evidence is JSON text. */
int	release_set_status(struct store *, int64_t id, enum release_status,
	    const char *step, const char *reason, const char *evidence,
	    struct err *);
/* The timeline: a step begins (returns its row id) and ends ok or failed. */
int64_t	release_step_begin(struct store *, int64_t release_id, const char *step,
	    const char *detail);
void	release_step_end(struct store *, int64_t step_id, bool ok,
	    const char *detail);
/* Ends the steps a daemon that died left running, as "interrupted". */
void	release_steps_interrupt(struct store *, int64_t release_id);
/* The one deploy per app: ERR_CONFLICT naming the release that holds it. */
int	deploy_lock_take(struct store *, const char *app, int64_t release_id,
	    struct err *);
void	deploy_lock_drop(struct store *, const char *app);
/* 0 when no deploy of app runs, else ERR_CONFLICT naming the one that does. */
int	deploy_lock_check(struct store *, const char *app, struct err *);
/* As the API shows them; with the timeline and recovery time when full. */
json_t	*release_json(struct store *, const struct release *, bool full);
json_t	*releases_json(struct store *, const char *app, struct err *);

#endif
