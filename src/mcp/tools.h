/*
 * The MCP tools: a table of name, JSON Schema of the arguments, annotations, and the
 * daemon operation each one calls. Every call is recorded through the gate as action
 * mcp.call on the tool's name (mcp.c does it), and a tool that changes anything
 * reaches the gate again through its operation, as its own action (deploy.create).
 */
#ifndef OPSDECK_MCP_TOOLS_H
#define OPSDECK_MCP_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "ledger/gate.h"

struct daemon_ops;

struct mcp_tool {
	const char	*name;		/* "deploy" */
	const char	*title;
	const char	*description;
	const char	*schema;	/* the arguments' JSON Schema, as JSON text */
	bool		 read_only;	/* changes nothing */
	bool		 destructive;	/* may replace or remove what runs */
	bool		 idempotent;	/* a second identical call changes nothing more */
	/* the answer (an object), or NULL with e; args were checked against schema */
	json_t		*(*run)(const struct daemon_ops *, const struct actor *,
			    const json_t *args, struct err *);
};

const struct mcp_tool *mcp_tools(size_t *n);
/* args as evidence records them (a secret's value replaced by its name) */
json_t	*mcp_args_recorded(const struct mcp_tool *, const json_t *args);
const struct mcp_tool *mcp_tool_find(const char *name);
/*
 * Checks args against schema (the subset the tools use: type, properties, required,
 * additionalProperties, items, enum, minimum, maximum, minLength, maxLength). -1
 * with a message naming the argument at fault, its path into field.
 */
int	mcp_args_check(const json_t *schema, const json_t *args, char *field,
	    size_t fieldsz, struct err *);

#endif
