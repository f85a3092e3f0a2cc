/*
 * The MCP server (Model Context Protocol over JSON-RPC 2.0): how an AI agent's client
 * operates opsdeck. The daemon answers POST /mcp (Streamable HTTP) with it, and
 * `opsdeck mcp` relays a client's stdio to that same endpoint, so both transports
 * are one server. Each message is answered on its own: no session is kept, and no
 * server-initiated stream is offered (GET /mcp is 405).
 *
 * Tools (mcp/tools.h) call the daemon's operations as the request's actor, with
 * via: mcp, so the action gate checks their role, holds what needs an approval and
 * writes the evidence, exactly as it does for the CLI and the dashboard.
 */
#ifndef OPSDECK_MCP_H
#define OPSDECK_MCP_H

#include <stdbool.h>
#include <stddef.h>

#include "ledger/gate.h"

struct daemon_ops;

/* The protocol revisions served; the newest is answered to any other. */
#define MCP_VERSIONS	{ "2025-11-25", "2025-06-18", "2025-03-26" }
#define MCP_LATEST	"2025-11-25"
/* A message larger than this is refused (the HTTP front end's body limit too). */
#define MCP_MESSAGE_MAX	((size_t)1 << 20)

struct mcp_reply {
	unsigned int	 status;	/* HTTP: 200 with body, 202 without, 400 */
	char		*body;		/* the JSON-RPC answer, or NULL; caller frees */
};

/*
 * Answers one JSON-RPC message of len bytes from actor. version is the request's
 * MCP-Protocol-Version header (NULL when absent): an unsupported one gets 400.
 */
void	mcp_handle(const struct daemon_ops *, const struct actor *,
	    const char *msg, size_t len, const char *version, struct mcp_reply *);
bool	mcp_version_supported(const char *);

#endif
