/*
 * `opsdeck guard evidence` and `opsdeck guard heartbeat`: CI guards, offline, over
 * evidence exports (ledger/evidence.h). Each reports what it finds, good or bad, as
 * findings that name a place (file:line, and a column in a PR body).
 */
#ifndef OPSDECK_GUARD_EVIDENCE_H
#define OPSDECK_GUARD_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

enum guard_level {
	GUARD_OK,	/* a file passed: what it holds */
	GUARD_WARN,	/* worth saying, not a failure */
	GUARD_ERROR,	/* a failure */
};

struct guard_finding {
	enum guard_level level;
	const char	*file;
	long		 line;		/* 1-based; 0: the file as a whole */
	long		 col;		/* 0: none */
	const char	*title;		/* a few words, for an annotation */
	char		 msg[1024];	/* what is wrong and what to do */
};

typedef void (*guard_finding_fn)(const struct guard_finding *, void *arg);

struct guard_evidence_opts {
	const char	*pubkey_hex;	/* the key every export must verify against */
	const char	*actor;		/* NULL: the body's Actor line */
	int64_t		 since_ms;	/* -1: the start of the body's Window */
	int64_t		 until_ms;	/* -1: its end */
};

/*
 * Checks the PR body at body_path (its len bytes of text): it has an Evidence
 * section naming an actor, a window and export files (guard/prbody.h); each file
 * can be read, verifies against the key, has every entry inside the window and one
 * at least by the actor. The number of errors reported to fn.
 */
long	guard_evidence(const char *body_path, const char *text, size_t len,
	    const struct guard_evidence_opts *, guard_finding_fn, void *arg);

struct guard_heartbeat_opts {
	const char	*pubkey_hex;	/* NULL: trust the file's key, with a warning */
	const char	*name;		/* only this heartbeat's pings; or NULL */
	const char	*actor;		/* only this actor's pings; or NULL */
	int64_t		 max_age_ms;
	int64_t		 at_ms;		/* the time the age is taken at */
};

/*
 * Checks the export at file (its len bytes): it verifies, and its newest
 * heartbeat.ping with outcome ok at or before at_ms is at most max_age_ms old. The
 * number of errors reported to fn (0 or 1).
 */
long	guard_heartbeat(const char *file, const char *text, size_t len,
	    const struct guard_heartbeat_opts *, guard_finding_fn, void *arg);

#endif
