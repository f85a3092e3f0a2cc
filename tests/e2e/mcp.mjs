// opsdeck's MCP server as a real client sees it: the official TypeScript SDK
// (@modelcontextprotocol/sdk) over stdio (spawning `opsdeck mcp`) and over Streamable
// HTTP (POST /mcp on the daemon's TCP listener), each with an agent's token, as
// tests/integration/test_mcp.sh sets it up. For each transport: initialize, list the
// tools, call status, deploy to staging (it runs), deploy to production (a pending
// approval, not an error), roll back to a release that does not exist (isError), a
// wrong argument type (isError naming the field) and an unknown tool (a protocol
// error). Prints TAP lines and, per transport, the approval id it made; exits 1 on any
// failure. The shell half checks the evidence each call left.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const env = (name) => {
	if (!process.env[name])
		throw new Error(`set ${name} (tests/integration/test_mcp.sh does)`);
	return process.env[name];
};
const ADDR = env('ADDR'), OPSDECK = env('OPSDECK'), STATE = env('STATE');
const TOKEN = env('AGENT_TOKEN'), ARTIFACT = env('ARTIFACT');
const PROD = env('PROD_APP');
const WAIT = 30000;	// ms: how long an awaited event may take before it is a failure

let failures = 0;
async function check(what, fn) {
	try {
		await fn();
		console.log(`ok - ${what}`);
	} catch (e) {
		failures++;
		console.log(`not ok - ${what}: ${String(e.message || e).split('\n')[0]}`);
	}
}
function assert(cond, why) { if (!cond) throw new Error(why); }
const text = (r) => (r.content || []).map((c) => c.text).join('\n');

// Each transport deploys its own staging app: a deploy holds its app through its watch.
async function session(name, STAGING, transport) {
	const client = new Client({ name: 'opsdeck-test', version: '1.0.0' });
	await check(`${name}: initialize`, async () => {
		await client.connect(transport);
		const info = client.getServerVersion();
		assert(info && info.name === 'opsdeck', `server is ${JSON.stringify(info)}`);
		assert(client.getServerCapabilities().tools, 'no tools capability');
	});
	await check(`${name}: tools/list has every tool with a schema and annotations`, async () => {
		const { tools } = await client.listTools();
		const by = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const n of ['status', 'machines', 'releases', 'release', 'deploy', 'rollback',
		    'machine_start', 'machine_stop', 'machine_restart', 'secrets_list',
		    'secrets_set', 'secrets_unset', 'checks', 'incidents', 'incident_ack',
		    'heartbeat_ping', 'route_metrics', 'approvals', 'approval', 'migrate_apply',
		    'migrate_lint', 'migrate_dryrun', 'migrate_status', 'migrate_result', 'logs',
		    'tasks', 'task', 'task_add', 'task_start', 'task_block', 'task_done', 'report'])
			assert(by[n], `no tool ${n}`);
		for (const t of tools)
			assert(t.inputSchema && t.inputSchema.type === 'object' && t.annotations,
			    `${t.name} lacks a schema or annotations`);
		assert(by.status.annotations.readOnlyHint === true, 'status is not read-only');
		assert(by.deploy.annotations.destructiveHint === true, 'deploy is not destructive');
		assert(by.deploy.inputSchema.required.includes('artifact'), 'deploy needs no artifact');
		assert(by.report.annotations.readOnlyHint === true, 'report is not read-only');
		assert(by.task_block.inputSchema.required.includes('on'), 'task_block needs no on');
	});
	await check(`${name}: the agent adds and starts a task, and its report says so`, async () => {
		const id = name === 'stdio' ? 'SDK-1' : 'SDK-2';
		let r = await client.callTool({ name: 'task_add', arguments: { id,
		    title: `a task over ${name}`, direction: 'sdk', estimate: '1h' } });
		assert(!r.isError, text(r));
		r = await client.callTool({ name: 'task_start', arguments: { id } });
		assert(!r.isError && r.structuredContent.status === 'doing', text(r));
		r = await client.callTool({ name: 'report', arguments: { hours: 1 } });
		assert(!r.isError, text(r));
		assert(r.structuredContent.working_on.some((t) => t.id === id), 'not working on it');
		assert(r.content[0].text.includes(`- ${id} a task over ${name} (sdk)`),
		    `markdown: ${r.content[0].text.slice(0, 400)}`);
		r = await client.callTool({ name: 'task_start', arguments: { id: 'nope' } });
		assert(r.isError, 'a bad task id is not an error');
	});
	await check(`${name}: status shows the fleet as structured content and text`, async () => {
		const r = await client.callTool({ name: 'status', arguments: {} });
		assert(!r.isError, text(r));
		const apps = r.structuredContent.apps.map((a) => a.name);
		assert(apps.includes(STAGING) && apps.includes(PROD), `apps ${apps}`);
		assert(JSON.parse(r.content[0].text).apps.length === apps.length, 'text differs');
	});
	await check(`${name}: the agent deploys to staging, and it goes live`, async () => {
		const r = await client.callTool({ name: 'deploy', arguments: { app: STAGING,
		    artifact: ARTIFACT, message: `via ${name}` } });
		assert(!r.isError, text(r));
		assert(/^v\d+$/.test(r.structuredContent.version), `answer ${text(r)}`);
		// the release tool follows it until it is live (or the wait ends the test)
		const version = Number(r.structuredContent.version.slice(1));
		const until = Date.now() + WAIT;
		for (;;) {
			const rel = await client.callTool({ name: 'release', arguments: { app: STAGING,
			    version } });
			assert(!rel.isError, text(rel));
			const st = rel.structuredContent.status;
			if (st === 'live')
				break;
			assert(['deploying', 'pending', 'starting'].includes(st) || !/fail|rolled/.test(st),
			    `the release ended ${st}`);
			assert(Date.now() < until, `v${version} is still ${st}`);
			await new Promise((res) => setTimeout(res, 100));
		}
	});
	await check(`${name}: its production deploy waits for an approval`, async () => {
		const r = await client.callTool({ name: 'deploy', arguments: { app: PROD,
		    artifact: ARTIFACT } });
		assert(!r.isError, `an error: ${text(r)}`);
		const ap = r.structuredContent.approval_pending;
		assert(ap && ap.id > 0 && ap.action === 'deploy.create', `answer ${text(r)}`);
		assert(/waits for approval #\d+/.test(r.content[0].text), r.content[0].text);
		console.log(`# approval ${name} ${ap.id}`);
	});
	await check(`${name}: a rollback to a release that does not exist is isError`, async () => {
		const r = await client.callTool({ name: 'rollback', arguments: { app: STAGING,
		    version: 999 } });
		assert(r.isError === true, `not an error: ${text(r)}`);
		assert(/v999/.test(text(r)), text(r));
	});
	await check(`${name}: a wrong argument type is isError naming the field`, async () => {
		const r = await client.callTool({ name: 'rollback', arguments: { app: STAGING,
		    version: 'latest' } });
		assert(r.isError === true, `not an error: ${text(r)}`);
		assert(r.structuredContent.error.field === 'version', JSON.stringify(r.structuredContent));
		assert(/'version' must be an integer/.test(text(r)), text(r));
	});
	await check(`${name}: an unknown tool is a protocol error`, async () => {
		let threw = null;
		try {
			await client.callTool({ name: 'fly-machine-start', arguments: {} });
		} catch (e) {
			threw = e;
		}
		assert(threw && threw.code === -32602 && /unknown tool/.test(threw.message),
		    `got ${threw ? `${threw.code} ${threw.message}` : 'an answer'}`);
	});
	await client.close();
}

await session('stdio', env('STAGING_APP'), new StdioClientTransport({ command: OPSDECK,
    args: ['--state', STATE, 'mcp'], env: { ...process.env, OPSDECK_TOKEN: TOKEN },
    stderr: 'inherit' }));
await session('http', env('STAGING_APP2'), new StreamableHTTPClientTransport(new URL(`http://${ADDR}/mcp`),
    { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
process.exit(failures > 0 ? 1 : 0);
