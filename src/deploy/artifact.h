/*
 * Artifacts: the files a release runs, imported once into the state dir and stored by
 * content. STATE/artifacts/<sha256-hex>/ holds the unpacked tree, read-only; a
 * directory and a tarball of it have the same digest.
 */
#ifndef OPSDECK_ARTIFACT_H
#define OPSDECK_ARTIFACT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct artifact {
	char	 digest[65];	/* sha256 hex */
	char	*path;		/* STATE/artifacts/<digest> */
	char	 kind[8];	/* "dir" or "tar" */
	int64_t	 size;		/* bytes of the unpacked files */
	bool	 existed;	/* already stored: this import added nothing */
};

/*
 * Imports SRC (a directory, or a .tar/.tar.gz/.tgz file) into state_dir; identical
 * artifacts are stored once. On failure nothing is left behind and *art is empty.
 */
int	artifact_import(const char *state_dir, const char *src, struct artifact *art,
	    struct err *);
/* Frees the contents; safe on an artifact a failed import left empty. */
void	artifact_release(struct artifact *);
/* The prefix of a tree being removed: STATE/artifacts/.gc-<digest>. */
#define ARTIFACT_REMOVING ".gc-"

/* The stored tree of digest, or NULL with ERR_NOT_FOUND. The caller frees. */
char	*artifact_path(const char *state_dir, const char *digest, struct err *);

/*
 * Removes the stored tree name (a digest, or a .gc-<digest> a removal cut short left),
 * renamed out of its digest first so no one runs a half-removed tree. *bytes: the
 * sizes of the files removed. A tree already gone is no error.
 */
int	artifact_remove(const char *state_dir, const char *name, int64_t *bytes,
	    struct err *);
/* The sizes of the files of the stored tree name: what removing it would free. */
int64_t	artifact_size(const char *state_dir, const char *name);

#endif
