import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { pollUntil } from '../helpers/poll';
import { SITE_CONFIG, renderSite, startNginx, type NginxProcess } from '../helpers/nginxServer';
import { SignalingClient, SignalingRequestError } from '../helpers/signalingClient';
import { startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * A fleet of three behind Debian's nginx running deploy/nginx/switchyard.conf
 * (docs/load-balancer.md), all on loopback: pages and readiness through it,
 * clients spread round-robin over the nodes and meeting in one room on one
 * node (following room_elsewhere to the node's own URL), a WebSocket through
 * it outliving 20 s without a request, and a dead node skipped.
 */

/** The origin the pages are served from, as a browser would send it (not loopback: dev mode lets those through anyway). */
const PUBLIC_ORIGIN = 'http://call.example.test';

let fleet: Fleet | undefined;
let nginx: NginxProcess | undefined;
const clients: SignalingClient[] = [];

beforeAll(async () => {
	fleet = await startFleet({
		size: 3,
		env: {
			SWITCHYARD_AUTH_DEV: 'true',
			SWITCHYARD_AUTH_DEV_TOKENS_PER_MINUTE: '100',
			SWITCHYARD_HTTP_TRUST_PROXY: '1',
			SWITCHYARD_HTTP_ALLOWED_ORIGINS: PUBLIC_ORIGIN,
		},
	});
	// startFleet resolves once every node lists every other: each page's CSP names all three from the start.
	nginx = await startNginx({ upstreams: fleet.nodes.map((node) => node.url) });
}, 100_000);
afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));
afterAll(async () => {
	await nginx?.destroy();
	await fleet?.close();
});

/** A test body whose failure carries nginx's logs and the fleet's output. */
function showingLogs(body: () => Promise<void>): () => Promise<void> {
	return async () => {
		try {
			await body();
		} catch (error) {
			const logs = `\n\n${nginx?.describe() ?? '(no nginx)'}\n\nThe fleet's output:\n${fleet?.describe() ?? '(no fleet)'}`;
			if (error instanceof Error) {
				error.message += logs;
				throw error;
			}
			throw new Error(`${String(error)}${logs}`);
		}
	};
}

function nodes(): readonly FleetNode[] {
	return fleet!.nodes;
}

/** A dev token, from a node's own URL: dev mode refuses requests through a proxy. */
async function devToken(room: string, name: string): Promise<string> {
	const res = await nodes()[0]!.api('POST', '/api/dev/token', { body: { name, room } });
	expect(res.status).toBe(200);
	return res.body.token as string;
}

async function connect(url: string, token: string): Promise<SignalingClient> {
	const client = await SignalingClient.connect(url, { token, origin: PUBLIC_ORIGIN });
	clients.push(client);
	return client;
}

/** Each node's count of answered media.capabilities requests, from its own /metrics. */
async function capabilityRequests(): Promise<number[]> {
	return Promise.all(nodes().map(async (node) => {
		const res = await node.api('GET', '/metrics');
		const count = /^switchyard_signaling_requests_total\{method="media\.capabilities"\} (\d+)$/m.exec(String(res.body));
		return Number(count?.[1] ?? 0);
	}));
}

/** A socket.io WebSocket upgrade through nginx from a page of `origin`: 101, or the refusal's status and body. */
function upgradeThroughNginx(origin: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const req = http.request(`${nginx!.url}/socket.io/?EIO=4&transport=websocket`, {
			headers: { Connection: 'Upgrade', Upgrade: 'websocket', Origin: origin, 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64') },
			timeout: 5000,
		});
		req.once('upgrade', (res, socket) => {
			socket.destroy();
			resolve({ status: res.statusCode!, body: '' });
		});
		req.once('response', (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.once('end', () => resolve({ status: res.statusCode!, body }));
		});
		req.once('timeout', () => req.destroy(new Error('no answer within 5 s')));
		req.once('error', reject);
		req.end();
	});
}

type Joined = { client: SignalingClient; peers: string[]; hops: string[] };

/**
 * A client that connects through nginx and joins `room`; told room_elsewhere,
 * it connects to that node's own URL and joins there (the web client's
 * moveTo). `hops`: the nodes it was sent to. Only the first connection asks
 * media.capabilities, so that capabilityRequests() counts the nodes nginx chose.
 */
async function joinThroughNginx(room: string, name: string): Promise<Joined> {
	const token = await devToken(room, name);
	let client = await connect(nginx!.url, token);
	const { routerRtpCapabilities } = await client.request('media.capabilities', {});
	const hops: string[] = [];
	for (let hop = 0; hop < 3; hop++) {
		try {
			const joined = await client.request('room.join', { roomId: room, rtpCapabilities: routerRtpCapabilities as never });
			return { client, peers: joined.peers.map((p) => p.displayName), hops };
		} catch (error) {
			if (!(error instanceof SignalingRequestError) || error.code !== 'room_elsewhere') {
				throw error;
			}
			client.disconnect();
			const { url, node } = error.details as { url: string; node: string };
			// The node's own cluster.nodeUrl, not nginx's.
			expect(nodes().find((n) => n.id === node)?.url).toBe(url);
			hops.push(node);
			client = await connect(url, token);
		}
	}
	throw new Error(`no node took ${room}`);
}

test('nginx -t accepts deploy/nginx/switchyard.conf as rendered for the fleet; only its upstream servers and listen line differ', showingLogs(async () => {
	const checked = nginx!.test();
	expect(checked).toMatchObject({ status: 0 });
	expect(checked.output).toContain('test is successful');
	const documented = fs.readFileSync(SITE_CONFIG, 'utf8').split('\n');
	const rendered = fs.readFileSync(nginx!.site, 'utf8').split('\n');
	const changed = (lines: string[], other: string[]) => lines.filter((line) => !other.includes(line)).map((line) => line.trim());
	expect(changed(rendered, documented)).toEqual([...nodes().map((node) => `server ${new URL(node.url).host};`), `listen 127.0.0.1:${nginx!.port};`]);
	expect(changed(documented, rendered)).toEqual(['server 10.0.0.11:3000;', 'server 10.0.0.12:3000;', 'server 10.0.0.13:3000;', 'listen 80;']);
	// A file of another shape is refused, not run half-substituted.
	expect(() => renderSite('server { listen 80; }', { upstreams: [nodes()[0]!.url], listen: '127.0.0.1:1' })).toThrow(/0 server lines/);
}));

test('through nginx: the pages (a CSP naming every node), /readyz, no /metrics, and no dev tokens (the node sees X-Forwarded-For)', showingLogs(async () => {
	// Three pages, one from each node (round-robin): each names every node's origins, http and ws.
	for (let i = 0; i < 3; i++) {
		const page = await fetch(`${nginx!.url}/`, { signal: AbortSignal.timeout(5000) });
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('<html');
		const connectSrc = page.headers.get('content-security-policy')?.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src '));
		expect(connectSrc?.split(' ')).toEqual(expect.arrayContaining(nodes().flatMap((node) => {
			const origin = new URL(node.url).origin;
			return [origin, origin.replace(/^http/, 'ws')];
		})));
	}
	for (let i = 0; i < 3; i++) {
		const ready = await fetch(`${nginx!.url}/readyz`, { signal: AbortSignal.timeout(5000) });
		expect(ready.status).toBe(200);
		await ready.arrayBuffer();
	}
	const metrics = await fetch(`${nginx!.url}/metrics`, { signal: AbortSignal.timeout(5000) });
	expect(metrics.status).toBe(404);
	await metrics.arrayBuffer();
	const proxied = await fetch(`${nginx!.url}/api/dev/token`, {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'A', room: 'r' }), signal: AbortSignal.timeout(5000),
	});
	expect(proxied.status).toBe(404);
	await proxied.arrayBuffer();
}));

test('six clients through nginx go two to each node; joining one room they all end up on one node, each seeing the others; the page origin is checked', showingLogs(async () => {
	const before = await capabilityRequests();
	const joined: Joined[] = [];
	for (const name of ['A', 'B', 'C', 'D', 'E', 'F']) {
		joined.push(await joinThroughNginx('behind-nginx', name));
	}
	const after = await capabilityRequests();
	// Round-robin: nginx sent the six connections two to each node.
	expect(after.map((count, i) => count - before[i]!)).toEqual([2, 2, 2]);
	// The room is on one node: the two that reached it joined there, the four that reached the others were sent to it, in one hop.
	const host = await pollUntil('one node to hold the room with six peers', async () => {
		const res = await nodes()[0]!.api('GET', '/api/admin/cluster', { token: fleet!.adminToken });
		const holding = (res.body.nodes as { id: string; rooms: number; peers: number }[]).filter((n) => n.rooms > 0);
		return (holding.length === 1 && holding[0]!.peers === 6 && holding[0]!.id) || undefined;
	}, { timeoutMs: 5000, intervalMs: 100 });
	expect(joined.flatMap((j) => j.hops)).toEqual([host, host, host, host]);
	expect(joined.map((j) => j.hops.length).filter((hops) => hops > 1)).toEqual([]);
	// Each saw those before it in the peer list, and the first heard of every later one.
	const names = ['A', 'B', 'C', 'D', 'E', 'F'];
	joined.forEach((j, i) => expect(j.peers.sort()).toEqual(names.slice(0, i)));
	for (const name of names.slice(1)) {
		await joined[0]!.client.waitFor('peer.joined', (e) => e.peer.displayName === name);
	}
	// The node checks the browser's Origin against http.allowedOrigins: nginx passes it on.
	expect(await upgradeThroughNginx(PUBLIC_ORIGIN)).toEqual({ status: 101, body: '' });
	expect(await upgradeThroughNginx('http://elsewhere.example.test')).toEqual({ status: 400, body: 'origin not allowed' });
}));

test('a WebSocket through nginx outlives 20 s without a request: socket.io pings within proxy_read_timeout', showingLogs(async () => {
	const client = await connect(nginx!.url, await devToken('quiet', 'Q'));
	const closed: string[] = [];
	client.socket.on('disconnect', (reason) => closed.push(reason));
	await new Promise((resolve) => setTimeout(resolve, 21_000));
	expect(closed).toEqual([]);
	expect(client.connected).toBe(true);
	await expect(client.request('media.capabilities', {})).resolves.toHaveProperty('routerRtpCapabilities');
}), 60_000);

test('a node that is down (kill -9) is skipped: every request and every connection through nginx reaches a live node', showingLogs(async () => {
	await nodes()[2]!.kill('SIGKILL');
	for (let i = 0; i < 6; i++) {
		const ready = await fetch(`${nginx!.url}/readyz`, { signal: AbortSignal.timeout(5000) });
		expect(ready.status).toBe(200);
		await ready.arrayBuffer();
	}
	const token = await devToken('survivors', 'S');
	for (let i = 0; i < 3; i++) {
		const client = await connect(nginx!.url, token);
		await expect(client.request('media.capabilities', {})).resolves.toHaveProperty('routerRtpCapabilities');
	}
}));
