/*
 * A small YAML node tree built from libyaml's event parser, keeping each node's
 * position so the config loader can point at the exact line and column. Anchors are
 * ignored; aliases become YNODE_ALIAS leaves (never expanded, so no billion laughs).
 */
#ifndef OPSDECK_CONFIG_YAML_H
#define OPSDECK_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>

#define YTREE_MAX_DEPTH 64	/* deeper nesting is an error, not a stack overflow */

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
	YNODE_ALIAS,	/* "*name": str holds the name */
};

struct ynode_pair {
	struct ynode	*key;
	struct ynode	*value;
	long		 first;	/* index of an earlier pair with the same key, or -1 */
};

struct ynode {
	enum ynode_kind	 kind;
	int		 line;	/* 1-based */
	int		 col;	/* 1-based */
	char		*str;	/* scalar text, NUL-terminated (may hold NULs: see len) */
	size_t		 len;
	bool		 plain;	/* unquoted scalar: may be null, a bool or a number */
	bool		 flow;	/* a [list] or {mapping} written inline */
	struct ynode	**items;	/* YNODE_SEQ */
	size_t		 nitems;
	struct ynode_pair *pairs;	/* YNODE_MAP, in file order */
	size_t		 npairs;
};

/*
 * A syntax error: where and what to do. No key path: while libyaml is unsure which
 * block a line belongs to, any path would be a guess, and the position is exact.
 */
struct ytree_err {
	int	 line;
	int	 col;
	char	*msg;
};

/*
 * Parses one YAML document. Returns 0 and *root (NULL for an empty stream), or -1 with
 * err filled (the caller frees it with ytree_err_release).
 */
int	 ytree_parse(const char *text, size_t len, struct ynode **root,
	    struct ytree_err *err);
void	 ytree_err_release(struct ytree_err *);
void	 ynode_free(struct ynode *);

/* A plain "", "~" or "null" (any case of the latter). */
bool	 ynode_is_null(const struct ynode *);
/* The scalar key's value in a map, first occurrence; NULL when absent. */
const struct ynode *ymap_get(const struct ynode *map, const char *key);
/* The same, returning the key node. */
const struct ynode *ymap_key(const struct ynode *map, const char *key);

#endif
