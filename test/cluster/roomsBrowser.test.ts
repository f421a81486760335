import type { Browser } from 'playwright-core';
import { hook, launchBrowser, openRoom, receivesFrom, report, type Participant } from '../e2e/browser';
import { pollUntil } from '../helpers/poll';
import { SignalingClient, SignalingRequestError } from '../helpers/signalingClient';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * Real browsers in rooms of a fleet of three node processes (one headless
 * chromium, a context per participant, 160x120 fake captures): pages served
 * by different nodes meet in the room's node, and a room whose node is killed
 * comes back on another without a page reload. Pages are served by nodes
 * other than the room's, so that a killed node does not take the page with it.
 */

let fleet: Fleet | undefined;
let browser: Browser | undefined;
const open: Participant[] = [];
const clients: SignalingClient[] = [];

beforeAll(async () => {
	// NOTE: a drain long enough for a call to run through it (the SIGTERM test ends its call itself), and
	// a short reconnect grace, so that a closed page's peer is gone soon and a node can stop at the end.
	fleet = await startFleet({
		size: 3,
		env: { SWITCHYARD_AUTH_DEV: 'true', SWITCHYARD_DRAIN_TIMEOUT_SECONDS: '60', SWITCHYARD_ROOMS_RECONNECT_GRACE_MS: '2000', SWITCHYARD_ROOMS_EMPTY_CLOSE_GRACE_MS: '1000' },
	});
	browser = await launchBrowser();
}, 120_000);
afterEach(async () => {
	clients.splice(0).forEach((client) => client.disconnect());
	for (const p of open.splice(0)) {
		await p.context.close();
	}
});
afterAll(async () => {
	await browser?.close();
	await fleet?.close();
});

const SMALL = { size: { w: 160, h: 120 }, viewport: { width: 640, height: 480 } };

async function enter(node: FleetNode, room: string, name: string): Promise<Participant> {
	const p = await openRoom(browser!, node.url, room, name, SMALL);
	open.push(p);
	return p;
}

/**
 * The node that will host `room`: a probe joins it through node-1 (following
 * room_elsewhere once) and stays in it, so that the room stays where it is
 * until the browsers are in; `probe.leave()` then takes it out.
 */
async function hostOf(room: string): Promise<{ host: FleetNode; leave(): Promise<void> }> {
	const nodes = fleet!.nodes;
	const token = (await nodes[0]!.api('POST', '/api/dev/token', { body: { name: 'probe', room } })).body.token as string;
	let host = nodes[0]!;
	for (let hop = 0; hop < 2; hop++) {
		const client = await SignalingClient.connect(host.url, { token });
		clients.push(client);
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		try {
			await client.request('room.join', { roomId: room, rtpCapabilities: routerRtpCapabilities as never });
			return { host, leave: async () => void await client.request('room.leave', {}) };
		} catch (error) {
			if (!(error instanceof SignalingRequestError) || error.code !== 'room_elsewhere') {
				throw error;
			}
			client.disconnect();
			host = nodes.find((n) => n.id === error.details!.node)!;
		}
	}
	throw new Error(`no node took ${room}`);
}

test('three browsers entering one room through three different nodes end up in one call, each decoding the other two', showingOutput(() => fleet, async () => {
	const [one, two, three] = fleet!.nodes as [FleetNode, FleetNode, FleetNode];
	const people = [await enter(one, 'three-doors', 'Ana'), await enter(two, 'three-doors', 'Ben'), await enter(three, 'three-doors', 'Cy')];
	try {
		const ids = await Promise.all(people.map(async (p) => (await hook(p)).peerId));
		for (const [i, p] of people.entries()) {
			await receivesFrom(p, ids.filter((_, j) => j !== i), 30_000);
		}
		// Each page is still the one its own node served: no reload.
		expect(people.map((p) => new URL(p.page.url()).origin)).toEqual([one.url, two.url, three.url]);
	} catch (error) {
		process.stderr.write(`${await report(people)}\n`);
		throw error;
	}
}));

test('kill -9 of the node hosting a room with two browsers: both decode each other again within 15 s, without a reload', showingOutput(() => fleet, async () => {
	const { host } = await hostOf('phoenix-call');
	const pageNodes = fleet!.nodes.filter((n) => n !== host);
	const people = [await enter(pageNodes[0]!, 'phoenix-call', 'Dee'), await enter(pageNodes[1]!, 'phoenix-call', 'Eli')];
	try {
		const before = await Promise.all(people.map(async (p) => (await hook(p)).peerId));
		await receivesFrom(people[0]!, [before[1]!], 30_000);
		await receivesFrom(people[1]!, [before[0]!], 30_000);
		const urls = people.map((p) => p.page.url());

		await host.kill('SIGKILL');
		const killedAt = Date.now();
		// They come back as new peers (their old ones died with the node): decoding each other's new peer.
		await pollUntil('both to decode each other again', async () => {
			const after = await Promise.all(people.map(async (p) => (await hook(p)).peerId));
			if (after.some((id, i) => id === before[i])) {
				return undefined;
			}
			try {
				await receivesFrom(people[0]!, [after[1]!], 1000);
				await receivesFrom(people[1]!, [after[0]!], 1000);
				return true;
			} catch {
				return undefined;
			}
		}, { timeoutMs: 15_000, intervalMs: 250 });
		const took = Date.now() - killedAt;
		process.stdout.write(`[roomsBrowser.test] ${host.id} killed under a call: both decoded each other again after ${took} ms\n`);
		expect(took).toBeLessThan(15_000);
		expect(people.map((p) => p.page.url())).toEqual(urls);
	} catch (error) {
		process.stderr.write(`${await report(people)}\n`);
		throw error;
	}
	await fleet!.restart(fleet!.nodes.indexOf(host));
}));

test('SIGTERM of the node hosting a running call: the call keeps media until it ends; a new room lands on another node; a join to the call still reaches it', showingOutput(() => fleet, async () => {
	const probe = await hostOf('long-call');
	const { host } = probe;
	const pageNodes = fleet!.nodes.filter((n) => n !== host);
	const people = [await enter(pageNodes[0]!, 'long-call', 'Fay'), await enter(pageNodes[1]!, 'long-call', 'Gus')];
	await probe.leave();
	try {
		const ids = await Promise.all(people.map(async (p) => (await hook(p)).peerId));
		await receivesFrom(people[0]!, [ids[1]!], 30_000);

		const stopping = host.stop();
		await pollUntil(`${host.id} to be listed draining`, async () => {
			const res = await pageNodes[0]!.api('GET', '/api/admin/cluster', { token: fleet!.adminToken });
			return (res.body.nodes as { id: string; state: string }[]).some((n) => n.id === host.id && n.state === 'draining') || undefined;
		}, { timeoutMs: 5000, intervalMs: 50 });
		// The call goes on through the drain.
		await receivesFrom(people[0]!, [ids[1]!], 10_000);
		await receivesFrom(people[1]!, [ids[0]!], 10_000);
		// A new room started meanwhile lands on another node, even through the draining one.
		const fresh = await hostOf('started-meanwhile');
		expect(fresh.host.id).not.toBe(host.id);
		await fresh.leave();
		// A third participant entering the running call through another node still reaches it, and everyone decodes everyone.
		const late = await enter(pageNodes[1]!, 'long-call', 'Hal');
		people.push(late);
		const lateId = (await hook(late)).peerId;
		await receivesFrom(late, ids, 30_000);
		await receivesFrom(people[0]!, [ids[1]!, lateId], 30_000);
		expect(host.running).toBe(true);

		// The call ends (everyone leaves): the node stops, cleanly.
		for (const p of people) {
			await p.page.click('#leave');
		}
		expect(await stopping).toBe(0);
	} catch (error) {
		process.stderr.write(`${await report(people)}\n`);
		throw error;
	}
	await fleet!.restart(fleet!.nodes.indexOf(host));
}));
