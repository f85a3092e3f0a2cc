/*
 * Which table-level lock a statement takes, on which relation, and what that lock
 * blocks: PostgreSQL's "Table-level locks" page (explicit-locking.html) as tables.
 */
#ifndef OPSDECK_LOCKS_H
#define OPSDECK_LOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* In the order of the documentation, weakest first. */
enum lock_mode {
	LOCK_NONE = 0,
	LOCK_ACCESS_SHARE,
	LOCK_ROW_SHARE,
	LOCK_ROW_EXCLUSIVE,
	LOCK_SHARE_UPDATE_EXCLUSIVE,
	LOCK_SHARE,
	LOCK_SHARE_ROW_EXCLUSIVE,
	LOCK_EXCLUSIVE,
	LOCK_ACCESS_EXCLUSIVE,
	LOCK_MODE_COUNT,
};

struct lock_use {
	char		*relation;	/* "schema.name" or "name" */
	enum lock_mode	 mode;
};

struct lock_list {
	struct lock_use	*v;
	size_t		 n, cap;
};

/* "ACCESS EXCLUSIVE", … ("" for LOCK_NONE). */
const char *lock_mode_str(enum lock_mode);
/* What a lock blocks, in words a reviewer reads ("all reads and writes"). */
const char *lock_mode_blocks(enum lock_mode);
/* True when a and b conflict (the conflict matrix of the documentation). */
bool	lock_conflicts(enum lock_mode a, enum lock_mode b);
/* True when the lock stops ordinary writes (conflicts with ROW EXCLUSIVE). */
bool	lock_blocks_writes(enum lock_mode);
/* Fills l with the locks one parsed statement takes; kind is its node type. */
void	lock_statement(const char *kind, const json_t *node, struct lock_list *l);
/* The relation name of a RangeVar object, "schema.rel" or "rel"; the caller frees. */
char	*lock_rangevar_name(const json_t *rangevar);
void	lock_list_release(struct lock_list *);

#endif
