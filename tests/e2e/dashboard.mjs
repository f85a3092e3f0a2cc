// The dashboard in a real browser (Debian's chromium, driven by playwright-core), as
// tests/integration/test_dashboard.sh sets it up: log in, see the fleet, watch a deploy
// progress without reloading, approve an agent's production deploy, see an incident
// arrive, and be refused a form without its CSRF token. Prints TAP lines; exits 1 on
// any failure. Screenshots go to $ARTIFACTS.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const env = (name) => {
	if (!process.env[name])
		throw new Error(`set ${name} (tests/integration/test_dashboard.sh does)`);
	return process.env[name];
};
const ADDR = env('ADDR'), OPSDECK = env('OPSDECK'), STATE = env('STATE');
const ARTIFACT = env('ARTIFACT'), ARTIFACTS = env('ARTIFACTS');
const APPROVER = env('APPROVER_TOKEN'), AGENT = env('AGENT_TOKEN');
// The dashboard under a name of its own (as docs/opsdeck.1 advises): no app's port shares its cookie.
const BASE = `http://opsdeck.localhost:${ADDR.split(':').pop()}`;
const WAIT = 20000;	// ms: how long an awaited event may take before it is a failure

let failures = 0;
function ok(what) { console.log(`ok - ${what}`); }
function notok(what, why) { failures++; console.log(`not ok - ${what}: ${why}`); }
async function check(what, fn) {
	try {
		await fn();
		ok(what);
	} catch (e) {
		notok(what, String(e.message || e).split('\n')[0]);
	}
}
function expect(cond, why) { if (!cond) throw new Error(why); }

// The CLI as an actor (its token), answered with its exit code and output.
function cli(token, ...args) {
	return new Promise((resolve) => {
		const p = spawn(OPSDECK, ['--state', STATE, ...args],
		    { env: { ...process.env, OPSDECK_TOKEN: token } });
		let out = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { out += d; });
		p.on('close', (code) => resolve({ code, out }));
	});
}

mkdirSync(ARTIFACTS, { recursive: true });
const shot = (page, name) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

try {
	await check('/ without a session leads to the login form', async () => {
		await page.goto(`${BASE}/`);
		expect(new URL(page.url()).pathname === '/login', `at ${page.url()}`);
		await page.waitForSelector('input[name=token]', { timeout: WAIT });
		await shot(page, '01-login');
	});

	await check('a wrong token is refused on the form, with a reason', async () => {
		await page.fill('input[name=token]', 'odt_' + '0'.repeat(64));
		const [res] = await Promise.all([page.waitForNavigation(), page.click('form button')]);
		expect(res.status() === 401, `status ${res.status()}`);
		const alert = await page.textContent('[role=alert]');
		expect(/token/i.test(alert), `the message says: ${alert}`);
	});

	await check('the approver logs in and sees the fleet (both apps, their machines)', async () => {
		await page.fill('input[name=token]', APPROVER);
		await Promise.all([page.waitForNavigation(), page.click('form button')]);
		expect(new URL(page.url()).pathname === '/', `at ${page.url()}`);
		for (const app of ['web-app', 'shop'])
			await page.waitForSelector(`#apps tr[data-app="${app}"]`, { timeout: WAIT });
		const who = await page.textContent('header .who');
		expect(who.includes('carol') && who.includes('approver'), `header says ${who}`);
		expect((await page.locator('#machines tbody tr').count()) >= 2, 'machines listed');
	});

	await check('the session cookie is HttpOnly and SameSite=Strict', async () => {
		const c = (await context.cookies()).find((k) => k.name === 'opsdeck_session');
		expect(c, 'no opsdeck_session cookie');
		expect(c.httpOnly && c.sameSite === 'Strict', JSON.stringify(c));
		expect(await page.evaluate(() => document.cookie) === '', 'the script can read the cookie');
	});

	await check('the page joins the live feed', async () => {
		await page.waitForSelector('body[data-live=on]', { timeout: WAIT });
		await shot(page, '02-fleet');
	});

	// From here on, a reload would lose this mark: it proves the page only refreshed.
	const mark = () => page.evaluate(() => { window.__opsdeckMark = 'kept'; });
	const marked = async () => expect(await page.evaluate(() => window.__opsdeckMark) === 'kept',
	    'the page was reloaded');
	await mark();

	// Every step status the page shows for web-app v1, as it shows them.
	await page.evaluate(() => {
		window.__seen = new Set();
		const look = () => document.querySelectorAll('[data-release="web-app/v1"] li.step')
		    .forEach((li) => window.__seen.add(li.querySelector('b').textContent + ':' +
			li.querySelector('.badge').textContent));
		new MutationObserver(look).observe(document.getElementById('main'),
		    { childList: true, subtree: true });
	});

	await check('a deploy progresses on the page, step by step, without a reload', async () => {
		const deploy = cli(AGENT, 'deploy', 'web-app', '--artifact', ARTIFACT);
		await page.waitForFunction(() => window.__seen.has('smoke:running'), null, { timeout: WAIT });
		await shot(page, '03-deploy-running');
		const r = await deploy;
		expect(r.code === 0, `the agent's staging deploy: exit ${r.code}: ${r.out}`);
		await page.waitForSelector('#apps tr[data-app="web-app"] >> text=v1', { timeout: WAIT });
		await page.waitForFunction(() => window.__seen.has('cutover:ok'), null, { timeout: WAIT });
		await marked();
		await shot(page, '04-deploy-live');
	});

	await check("an agent's task shows up in Work, live, as it starts and blocks", async () => {
		let r = await cli(AGENT, 'task', 'add', 'DEVOPS-014', '--title', 'CI guards',
		    '--direction', 'v7.0', '--estimate', '4h');
		expect(r.code === 0, `task add: ${r.out}`);
		r = await cli(AGENT, 'task', 'start', 'DEVOPS-014');
		expect(r.code === 0, `task start: ${r.out}`);
		const row = await page.waitForSelector('#tasks tr[data-task="DEVOPS-014"] >> text=doing',
		    { timeout: WAIT });
		expect(row, 'no row');
		r = await cli(AGENT, 'task', 'block', 'DEVOPS-014', '--on', 'manager', '--reason',
		    'needs the key');
		expect(r.code === 0, `task block: ${r.out}`);
		await page.waitForSelector('#tasks tr[data-task="DEVOPS-014"] >> text=manager: needs the key',
		    { timeout: WAIT });
		const prog = await page.textContent('#tasks li[data-direction="v7.0"]');
		expect(prog.includes('0/1 done') && prog.includes('1 blocked'), `progress: ${prog}`);
	});

	let approval = null;
	await check("an agent's production deploy shows up as waiting for approval", async () => {
		const r = await cli(AGENT, 'deploy', 'shop', '--artifact', ARTIFACT);
		expect(r.code === 4, `exit ${r.code} (4: waiting for approval): ${r.out}`);
		const row = await page.waitForSelector('#approvals tr[data-approval]', { timeout: WAIT });
		approval = await row.getAttribute('data-approval');
		const text = await row.textContent();
		expect(text.includes('deploy.create') && text.includes('bot'), `the row says: ${text}`);
		await marked();
		await shot(page, '05-approval-waiting');
	});

	await check('a form without the CSRF token is refused (403), nothing decided', async () => {
		// Sent from the page itself, with its cookie: only the token is missing.
		const post = (url, body) => page.evaluate(async ([u, b]) => {
			const r = await fetch(u, { method: 'POST', body: b, redirect: 'manual' });
			return [r.status, await r.text()];
		}, [url, body]);
		const [st, text] = await post(`/ui/approvals/${approval}/approve`, 'comment=forged');
		expect(st === 403, `status ${st}`);
		expect(/CSRF/.test(text), 'the message names CSRF');
		const [ast] = await post(`/v1/approvals/${approval}/approve`, '{}');
		expect(ast === 403, `the API with the cookie and no X-CSRF-Token: ${ast}`);
		const list = await cli(AGENT, 'approvals', '--json');
		const a = JSON.parse(list.out).approvals.find((x) => String(x.id) === approval);
		expect(a && a.state === 'pending', `the request is ${a ? a.state : 'gone'}`);
	});

	await check('the approver approves it on the page, and the deploy runs', async () => {
		await page.fill(`#approvals tr[data-approval="${approval}"] input[name=comment]`,
		    'checked the staging run');
		await Promise.all([page.waitForNavigation(),
		    page.click(`#approvals tr[data-approval="${approval}"] button.approve`)]);
		const flash = await page.textContent('.flash');
		expect(flash.includes(`approval #${approval} granted`), `the page says: ${flash}`);
		expect(!flash.includes('failed'), `the page says: ${flash}`);
		await page.waitForSelector('#apps tr[data-app="shop"] >> text=v1', { timeout: WAIT });
		expect(await page.locator('#approvals tr[data-approval]').count() === 0,
		    'still listed as waiting');
		await page.waitForSelector('#evidence td:text-is("approval.grant")', { timeout: WAIT });
		const row = await page.textContent('#evidence tr:has(td:text-is("approval.grant"))');
		expect(row.includes('carol') && row.includes('dashboard'), `evidence row: ${row}`);
		await shot(page, '06-approved');
	});

	await mark();
	await page.waitForSelector('body[data-live=on]', { timeout: WAIT });
	await check('an incident appears on the page as it opens, without a reload', async () => {
		expect(await page.locator('#incidents tr[data-incident]').count() === 0,
		    'an incident before the test made one');
		const r = await cli(AGENT, 'heartbeat', 'ping', 'nightly', '--fail');
		expect(r.code === 0, `heartbeat ping --fail: exit ${r.code}: ${r.out}`);
		const row = await page.waitForSelector('#incidents tr[data-incident]', { timeout: WAIT });
		const text = await row.textContent();
		expect(text.includes('nightly') && text.includes('open'), `the row says: ${text}`);
		await marked();
		await shot(page, '07-incident');
	});

	await check('logging out ends the session', async () => {
		await Promise.all([page.waitForNavigation(), page.click('header form button')]);
		expect(new URL(page.url()).pathname === '/login', `at ${page.url()}`);
		const st = await page.evaluate(async () => (await fetch('/ui/main')).status);
		expect(st === 401, `/ui/main after logout: ${st}`);
	});

	await check('no script error on any page', async () => {
		expect(pageErrors.length === 0, pageErrors.join('; '));
	});
} finally {
	await browser.close();
}
process.exit(failures === 0 ? 0 : 1);
