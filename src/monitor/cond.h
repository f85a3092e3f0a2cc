/*
 * A check's conditions, in the style of Gatus: one comparison per condition,
 *
 *   [STATUS] == 200                  [RESPONSE_TIME] < 500      (milliseconds)
 *   [BODY].data_services == ok       [BODY].items[0].id == 3    [BODY][1].name != x
 *   len([BODY].errors) == 0          has([BODY].token) == true  [BODY] == pat(*OK*)
 *   [STATUS] == any(200, 204, 304)   [CONNECTED] == true        [IP] == 127.0.0.1
 *   [CERTIFICATE_EXPIRATION] > 48h   (a duration: ms, s, m, h, d; bare numbers are ms)
 *
 * and for route checks, on the router's request metrics of a window:
 *
 *   [P95] < 5s   [P50] [P99] [MAX] (durations)   [ERROR_RATE] < 2%  (5xx, percent)
 *   [REQUESTS] > 0   [RPS] < 500
 *
 * Operators ==, !=, <, <=, >, >=. The ordering ones compare numbers (durations
 * included); == and != compare numbers as numbers, anything else as text, with pat()
 * a glob (* and ?) and any() a list on the right. A [BODY] path that is not in the
 * answer fails the condition, saying so (has() asks without failing).
 */
#ifndef OPSDECK_COND_H
#define OPSDECK_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define COND_MAX_PATH	16	/* steps of a [BODY] path */
#define COND_MAX_ANY	16

enum cond_var {
	COND_LITERAL,
	COND_STATUS,
	COND_RESPONSE_TIME,
	COND_BODY,
	COND_CONNECTED,
	COND_CERT_EXPIRATION,
	COND_IP,
	COND_P50,		/* route checks */
	COND_P95,
	COND_P99,
	COND_MAX,
	COND_ERROR_RATE,
	COND_REQUESTS,
	COND_RPS,
};

/* True for the placeholders of route checks. */
bool	 cond_route_var(enum cond_var);

enum cond_fn {
	COND_FN_NONE,
	COND_FN_LEN,
	COND_FN_HAS,
	COND_FN_PAT,	/* right side only */
	COND_FN_ANY,	/* right side only */
};

struct cond_step {
	char	*key;		/* NULL for an index */
	long	 index;
};

struct cond_side {
	enum cond_fn	 fn;
	enum cond_var	 var;
	char		*text;		/* a literal, or pat()'s glob */
	/* allocated when used: thousands of checks keep their conditions */
	struct cond_step *path;		/* after [BODY], up to COND_MAX_PATH */
	size_t		 npath;
	char		**any;		/* up to COND_MAX_ANY */
	size_t		 nany;
};

enum cond_op { COND_EQ, COND_NE, COND_LT, COND_LE, COND_GT, COND_GE };

struct cond {
	char		*text;
	struct cond_side left, right;
	enum cond_op	 op;
	size_t		 op_at, right_at;	/* offsets into text */
};

/* What one probe saw. */
struct cond_input {
	int		 status;		/* HTTP status; 0 when none */
	int64_t		 response_ms;
	const char	*body;			/* may be NULL */
	size_t		 body_len;
	bool		 connected;
	int64_t		 cert_expiry_ms;	/* -1 when no certificate */
	const char	*ip;			/* may be NULL */
	/* a route check's window; has_route false for probes */
	bool		 has_route;
	double		 p50_ms, p95_ms, p99_ms, max_ms;
	double		 error_pct;		/* 5xx share, 0..100 */
	uint64_t	 requests;
	double		 rps;
};

/* Parses text; on error e says "column N: what" (1-based) and how to write it. */
int	 cond_parse(const char *text, struct cond *, struct err *e);
void	 cond_release(struct cond *);
/*
 * Evaluates c on in: true or false, and into detail (cap bytes) the condition with
 * its values, "[STATUS] (503) == 200", or why it could not be judged. *body_json is a
 * cache of the parsed body (a json_t *) shared by a check's conditions: NULL at
 * first, released by the caller with cond_body_release.
 */
bool	 cond_eval(const struct cond *c, const struct cond_input *in,
	    void **body_json, char *detail, size_t cap);
void	 cond_body_release(void *body_json);
/* "48h", "1500ms", "2d", "30" (ms) into milliseconds; -1 when not a duration. */
int64_t	 cond_duration_ms(const char *s);

#endif
