/*
 * The PostgreSQL half of `opsdeck migrate` (dryrun, apply, status, verify) lives in
 * the opsdeck-pg module with libpq, so commands that never touch a database do not
 * load libpq and its ~20 dependencies. Commands reach it through this table.
 */
#ifndef OPSDECK_MIGRATE_DB_H
#define OPSDECK_MIGRATE_DB_H

#include "migrate/apply.h"
#include "migrate/dryrun.h"
#include "migrate/verify.h"

struct migrate_db {
	int	(*dryrun_run)(const struct dryrun_options *, const char *path,
		    const char *text, size_t len, json_t **, struct err *);
	void	(*dryrun_print)(const json_t *, FILE *);
	int	(*apply_run)(const struct apply_options *, char *const *paths,
		    size_t n, json_t **, struct err *);
	int	(*apply_status)(const char *url, const char *path,
		    char *const *paths, size_t n, json_t **, struct err *);
	void	(*apply_status_print)(const json_t *, FILE *);
	int	(*verify_run)(const char *url, const char *path, const char *text,
		    size_t len, json_t **, struct err *);
	void	(*verify_print)(const json_t *, FILE *);
	/* The URL (or conninfo) without its password, for evidence; the caller frees. */
	char	*(*url_redact)(const char *url);
	/* libpq's version, as PQlibVersion gives it (150004 for 15.4) */
	int	(*lib_version)(void);
};

/* Loads the module once; NULL with a message naming the file when it cannot. */
const struct migrate_db *migrate_db(struct err *);

#endif
