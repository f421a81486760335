import { MediaClient } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * What proves that a room spanning nodes cleans up after itself (issue 22's
 * acceptance): 102 join / leave cycles of signaling clients with synthetic
 * media (the wrtc media client, not browsers), over a fleet of three node
 * processes with `cluster.placement: nearest`, so that each client stays on
 * the node it connected to and the one room spans all three. The cycles go
 * in rounds of three lanes, one per node: each lane's client joins, publishes
 * small audio and video, and waits until it consumes the other two lanes'
 * clients of the round, so that pipes between every two nodes are made each
 * round (the first round also checks that media arrives through them and
 * that every node's pipe gauges see them, bitrate included); then all
 * three leave at once, one of them by dropping its connection instead of
 * room.leave. Afterwards every node's pipe, transport, producer and consumer
 * gauges return to zero.
 */

const ROOM = 'span-cycles';
const ROUNDS = 34;
/** Each round's wait for the other lanes' media (pipes being made between three busy processes on 2 cores). */
const CONSUME_TIMEOUT_MS = 15_000;
/** The whole of the rounds: past it the test stops and fails rather than run on. */
const ROUNDS_DEADLINE_MS = 110_000;
/** After the last round: reconnect grace, empty-room grace, and pipes closing on three nodes. */
const ZERO_TIMEOUT_MS = 20_000;
/** The gauges that must all read zero on every node once everyone has left (sums over their labels). */
const ZEROED = ['switchyard_cluster_pipes', 'switchyard_cluster_pipe_streams', 'switchyard_transports', 'switchyard_producers', 'switchyard_consumers'];

let fleet: Fleet | undefined;
/** Every client a test opened, closed by afterEach whatever happened. */
const open: Party[] = [];

type Party = { node: FleetNode; signaling: SignalingClient; media: MediaClient; peerId: string };

beforeAll(async () => {
	// NOTE: short graces, so that a dropped client's peer and the emptied room are gone soon after the last round;
	// a dev token per cycle, 34 a node (dev tokens are limited per minute and address).
	fleet = await startFleet({
		size: 3,
		env: {
			SWITCHYARD_CLUSTER_PLACEMENT: 'nearest',
			SWITCHYARD_AUTH_DEV: 'true',
			SWITCHYARD_AUTH_DEV_TOKENS_PER_MINUTE: '1000',
			SWITCHYARD_ROOMS_RECONNECT_GRACE_MS: '1000',
			SWITCHYARD_ROOMS_EMPTY_CLOSE_GRACE_MS: '1000',
			SWITCHYARD_METRICS_STATS_INTERVAL_MS: '1000',
		},
	});
}, 90_000);
afterEach(async () => {
	await Promise.allSettled(open.splice(0).map(closeParty));
});
afterAll(async () => {
	await fleet?.close();
});

async function closeParty({ signaling, media }: Party): Promise<void> {
	await media.close();
	signaling.disconnect();
}

/** A client of `node` in the room, publishing 160x120 video and audio. */
async function join(node: FleetNode, name: string): Promise<Party> {
	const { body } = await node.api('POST', '/api/dev/token', { body: { name, room: ROOM } });
	if (typeof body?.token !== 'string') {
		throw new Error(`no dev token from ${node.id}: ${JSON.stringify(body)}`);
	}
	const signaling = await SignalingClient.connect(node.url, { token: body.token });
	const media = await MediaClient.create(signaling);
	const party: Party = { node, signaling, media, peerId: '' };
	open.push(party);
	party.peerId = (await media.join(ROOM)).peerId;
	await media.produceSynthetic({ audio: true, video: { width: 160, height: 120, frameRate: 10 }, maxDurationMs: 30_000 });
	return party;
}

/** Whether `party` has set up an audio and a video consumer of each of `others`. */
function consumesAll(party: Party, others: Party[]): boolean {
	const consumed = [...party.media.consumers.values()].map((c) => `${(c.appData as { peerId: string }).peerId} ${c.kind}`);
	return others.every((other) => consumed.includes(`${other.peerId} audio`) && consumed.includes(`${other.peerId} video`));
}

/** The sum of a metric's samples in /metrics text: all of its series, or the one of `labels` (as `node="x",direction="in"`); 0 for none. */
function total(text: string, name: string, labels?: string): number {
	const prefixes = labels === undefined ? [`${name} `, `${name}{`] : [`${name}{${labels}} `];
	return text.split('\n')
		.filter((line) => prefixes.some((prefix) => line.startsWith(prefix)))
		.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function metricsOf(node: FleetNode): Promise<string> {
	const res = await node.api('GET', '/metrics');
	if (res.status !== 200) {
		throw new Error(`${node.id} /metrics: ${res.status}`);
	}
	return res.body as string;
}

/** Each node's figures of the ZEROED gauges, for a failure's message. */
async function figures(nodes: readonly FleetNode[]): Promise<Record<string, Record<string, number>>> {
	const texts = await Promise.all(nodes.map(metricsOf));
	return Object.fromEntries(nodes.map((node, i) => [node.id, Object.fromEntries(ZEROED.map((name) => [name, total(texts[i]!, name)]))]));
}

/**
 * Every node has pipe ends in and out with each other node, carrying
 * streams, and media arrives through them: the gauges see the pipes the
 * round made (a node's NodePipes wired into its metrics), so their zeros at
 * the end mean something.
 */
async function expectPipesCarryMedia(nodes: readonly FleetNode[], lanes: Party[]): Promise<void> {
	for (const node of nodes) {
		const text = await metricsOf(node);
		for (const other of nodes.filter((n) => n !== node)) {
			for (const direction of ['in', 'out']) {
				const labels = `node="${other.id}",direction="${direction}"`;
				expect([node.id, labels, total(text, 'switchyard_cluster_pipes', labels) > 0]).toEqual([node.id, labels, true]);
				expect([node.id, labels, total(text, 'switchyard_cluster_pipe_streams', labels) > 0]).toEqual([node.id, labels, true]);
			}
		}
	}
	await pollUntil('packets from every consumer of every lane', async () => {
		const stats = await Promise.all(lanes.map((party) => party.media.inboundStats()));
		return stats.every((consumers) => consumers.every((c) => c.packetsReceived > 0));
	}, { timeoutMs: CONSUME_TIMEOUT_MS, intervalMs: 200 });
	// Sampled every SWITCHYARD_METRICS_STATS_INTERVAL_MS.
	await pollUntil('every node\'s pipes bringing bits in', async () => {
		const texts = await Promise.all(nodes.map(metricsOf));
		return texts.every((text, i) => nodes.filter((other) => other !== nodes[i])
			.every((other) => total(text, 'switchyard_cluster_pipe_bitrate_bps', `node="${other.id}",direction="in"`) > 0));
	}, { timeoutMs: CONSUME_TIMEOUT_MS, intervalMs: 250 });
}

test(`${3 * ROUNDS} join / leave cycles over three nodes in one room: pipes are made every round, and every node's pipe, transport, producer and consumer gauges return to zero`, showingOutput(() => fleet, async () => {
	const nodes = fleet!.nodes;
	const started = Date.now();
	for (let round = 0; round < ROUNDS; round++) {
		if (Date.now() - started > ROUNDS_DEADLINE_MS) {
			throw new Error(`round ${round} of ${ROUNDS} not started within ${ROUNDS_DEADLINE_MS} ms`);
		}
		const lanes = await Promise.all(nodes.map((node, lane) => join(node, `lane${lane}-round${round}`)));
		try {
			await pollUntil(`round ${round}: every lane consuming the other two`, () => lanes.every((party) => consumesAll(party, lanes.filter((p) => p !== party))),
				{ timeoutMs: CONSUME_TIMEOUT_MS, intervalMs: 50 });
		} catch (error) {
			process.stderr.write(`[spanCycles] round ${round}: ${JSON.stringify(lanes.map((p) => ({ node: p.node.id, peerId: p.peerId, consumers: p.media.consumers.size })))}\n`);
			throw error;
		}
		if (round === 0) {
			await expectPipesCarryMedia(nodes, lanes);
		}
		// All at once; one lane (a different one each round) drops its connection instead of leaving.
		const dropping = round % lanes.length;
		await Promise.all(lanes.map(async (party, lane) => {
			if (lane !== dropping) {
				await party.signaling.request('room.leave', {});
			}
			open.splice(open.indexOf(party), 1);
			await closeParty(party);
		}));
	}
	process.stdout.write(`[spanCycles] ${3 * ROUNDS} cycles in ${Date.now() - started} ms\n`);

	const zeroed = async () => Object.values(await figures(nodes)).every((gauges) => Object.values(gauges).every((v) => v === 0));
	try {
		await pollUntil('every node\'s pipe, transport, producer and consumer gauges at zero', zeroed, { timeoutMs: ZERO_TIMEOUT_MS, intervalMs: 250 });
	} catch (error) {
		process.stderr.write(`[spanCycles] gauges ${ZERO_TIMEOUT_MS} ms after the last cycle: ${JSON.stringify(await figures(nodes), null, 1)}\n`);
		throw error;
	}
}), 180_000);
