/*
 * One line of HAProxy's HTTP request log in its default `option httplog` format:
 *
 *   127.0.0.1:52424 [04/Dec/2026:23:01:58.749] fe be/srv 0/0/0/3/3 200 209 - - ----
 *       1/1/0/0/0 0/0 {captured} {headers} "GET /path?q HTTP/1.1"
 *
 * with or without a syslog header before it. The fields are slices of the line (no
 * copy, no allocation); the parser never reads past len.
 */
#ifndef OPSDECK_HAPLOG_H
#define OPSDECK_HAPLOG_H

#include <stddef.h>
#include <stdint.h>

struct haplog_rec {
	const char	*frontend;
	size_t		 frontend_len;
	const char	*backend;
	size_t		 backend_len;
	const char	*server;	/* "<NOSRV>" when none was chosen */
	size_t		 server_len;
	int64_t		 tr_ms;		/* server response time, -1 if none */
	int64_t		 ta_ms;		/* total active time, -1 if aborted */
	int		 status;	/* -1 when none */
	int		 retries;
	char		 term[4];	/* termination state, "----" */
	const char	*method;	/* NULL for <BADREQ> */
	size_t		 method_len;
	const char	*path;		/* without the query string; may be empty */
	size_t		 path_len;
};

/* 0 and rec filled, or -1 when the line is not such a log line. */
int	haplog_parse(const char *line, size_t len, struct haplog_rec *rec);

#endif
