/*
 * The pull-request body `opsdeck guard evidence` reads: markdown with a section
 * headed "Evidence" (any level: "## Evidence"), which runs to the next heading of its
 * level or above. In it, one a line:
 *
 *	Actor: NAME
 *	Window: START .. END		RFC 3339 UTC ("2026-12-07T09:00:00Z") or dates
 *	- PATH				a list item (-, *, + or 1.) per export file;
 *					`PATH` or [text](PATH) too; words after it are a note
 *
 * "- Actor: NAME" is the Actor line too. Everything else (prose, blank lines, HTML
 * comments, fenced code) is ignored, and so is the text outside the section. Lines
 * may end in CRLF, as a body fetched from GitHub's API does.
 */
#ifndef OPSDECK_GUARD_PRBODY_H
#define OPSDECK_GUARD_PRBODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A place in the body: line and column (in bytes), 1-based. */
struct prbody_file {
	char	*path;
	size_t	 line, col;
};

struct prbody_problem {
	size_t	 line, col;
	char	 msg[512];
};

struct prbody {
	size_t			 section_line;	/* of the heading; 0: no section */
	char			*actor;		/* NULL: no Actor line */
	size_t			 actor_line;
	bool			 have_window;
	int64_t			 since_ms, until_ms;	/* both inclusive */
	size_t			 window_line;
	struct prbody_file	*files;
	size_t			 nfiles;
	struct prbody_problem	*problems;	/* lines that could not be read */
	size_t			 nproblems;
};

/* Reads len bytes of body text (need not be NUL-terminated) into *b. */
void	prbody_parse(struct prbody *b, const char *text, size_t len);
/* Frees what prbody_parse allocated. */
void	prbody_release(struct prbody *b);

#endif
