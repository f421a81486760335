import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { AppError } from '../../src/errors';
import { Bus, createRedis } from '../../src/cluster';
import { testLogger } from '../helpers/logger';
import { pollUntil } from '../helpers/poll';
import { freshRedisPrefix, startRedis, testRedis, type RedisServer } from '../helpers/redis';

/**
 * The cluster bus on a real Redis (src/cluster/Bus.ts, docs/cluster.md):
 * requests and replies between two nodes, casts to every node, and messages
 * that are not what a node of this release sends (garbage, another version,
 * a body that does not fit, a method nobody serves) refused with a log line
 * while the bus goes on working.
 */

type Node = { bus: Bus; lines: () => Record<string, unknown>[]; close(): void };
const opened: Node[] = [];
let ownRedis: RedisServer | undefined;

afterEach(async () => {
	for (const node of opened.splice(0)) {
		node.close();
	}
	await ownRedis?.destroy();
	ownRedis = undefined;
});

async function busNode(url: string, keyPrefix: string, nodeId: string): Promise<Node> {
	const { logger, lines } = testLogger('debug');
	const publisher = createRedis(url, logger, nodeId);
	const subscriber = createRedis(url, logger, `${nodeId}-bus`, { waitWhileAway: true });
	await publisher.connect();
	const bus = new Bus({ publisher, subscriber, nodeId, keyPrefix, logger });
	await bus.start();
	const node = { bus, lines, close: () => {
		bus.close();
		subscriber.disconnect();
		publisher.disconnect();
	} };
	opened.push(node);
	return node;
}

const sum = z.object({ a: z.number(), b: z.number() });

test('a request reaches the node it names and its reply comes back; errors keep their code; casts reach every other node', async () => {
	const { url } = testRedis();
	const prefix = freshRedisPrefix();
	const [a, b, c] = await Promise.all(['node-a', 'node-b', 'node-c'].map((id) => busNode(url, prefix, id))) as [Node, Node, Node];
	const heardBy: string[] = [];
	for (const node of [a, b, c]) {
		node.bus.handle('test.sum', sum, async ({ a: x, b: y }, from) => ({ sum: x + y, by: node.bus.nodeId, from }));
		node.bus.handle('test.refuse', z.object({}), async () => {
			throw new AppError('invalid_state', 'not now');
		});
		node.bus.listen('test.hello', z.object({ n: z.number() }), ({ n }, from) => heardBy.push(`${node.bus.nodeId}:${n}:${from}`));
	}
	const result = z.object({ sum: z.number(), by: z.string(), from: z.string() });
	expect(await a.bus.request('node-b', 'test.sum', { a: 2, b: 3 }, result)).toEqual({ sum: 5, by: 'node-b', from: 'node-a' });
	expect(await a.bus.request('node-c', 'test.sum', { a: 1, b: 1 }, result)).toEqual({ sum: 2, by: 'node-c', from: 'node-a' });
	// To itself: no Redis round trip, the same answer.
	expect(await a.bus.request('node-a', 'test.sum', { a: 4, b: 4 }, result)).toEqual({ sum: 8, by: 'node-a', from: 'node-a' });
	await expect(a.bus.request('node-b', 'test.refuse', {}, z.null())).rejects.toMatchObject({ code: 'invalid_state', message: 'not now' });
	// A body the handler's schema refuses, and a method nobody serves: typed errors, not a crash.
	await expect(a.bus.request('node-b', 'test.sum', { a: 'two' }, result)).rejects.toMatchObject({ code: 'validation_failed' });
	await expect(a.bus.request('node-b', 'test.unknown', {}, result)).rejects.toMatchObject({ code: 'not_found' });
	// A reply that does not fit what the asker expects is refused on its side.
	await expect(a.bus.request('node-b', 'test.sum', { a: 1, b: 2 }, z.object({ other: z.string() }))).rejects.toMatchObject({ code: 'internal' });
	// A node nobody runs: no answer, service_unavailable after the timeout.
	await expect(a.bus.request('node-gone', 'test.sum', { a: 1, b: 2 }, result, 300)).rejects.toMatchObject({ code: 'service_unavailable' });

	a.bus.cast('test.hello', { n: 7 });
	await pollUntil('the cast to reach node-b and node-c', async () => heardBy.length === 2 || undefined, { timeoutMs: 3000, intervalMs: 20 });
	expect(heardBy.sort()).toEqual(['node-b:7:node-a', 'node-c:7:node-a']);
});

test('messages a node of this release would not send are refused and logged, and the bus goes on', async () => {
	const { url } = testRedis();
	const prefix = freshRedisPrefix();
	const b = await busNode(url, prefix, 'node-b');
	const a = await busNode(url, prefix, 'node-a');
	let calls = 0;
	b.bus.handle('test.count', z.object({}), async () => ++calls);
	b.bus.listen('test.hello', z.object({ n: z.number() }), () => {
		calls += 100;
	});
	const raw = new Redis(url);
	try {
		const request = { v: 1, kind: 'request', id: randomUUID(), from: 'node-x', to: 'node-b', method: 'test.count', body: {} };
		for (const message of [
			'not json',
			JSON.stringify({ ...request, v: 2 }),
			JSON.stringify({ ...request, from: 'no spaces allowed' }),
			JSON.stringify({ ...request, id: 'not-a-uuid' }),
			JSON.stringify({ ...request, kind: 'order' }),
			JSON.stringify({ v: 1, kind: 'cast', from: 'node-x', method: 'test.hello', body: { n: 'seven' } }),
		]) {
			await raw.publish(`${prefix}bus:node-b`, message);
			await raw.publish(`${prefix}bus`, message);
		}
		await pollUntil('each to be refused', async () => b.lines().filter((l) => l.message === 'cluster message refused').length >= 12 || undefined,
			{ timeoutMs: 3000, intervalMs: 20 });
		expect(calls).toBe(0);
		// A request for another node on this node's channel is not this node's to answer.
		await raw.publish(`${prefix}bus:node-b`, JSON.stringify({ ...request, to: 'node-c' }));
		// And the bus still works.
		expect(await a.bus.request('node-b', 'test.count', {}, z.number())).toBe(1);
	} finally {
		raw.disconnect();
	}
});

test('Redis away: a request fails at once with service_unavailable; back, the bus subscribes again by itself', async () => {
	ownRedis = await startRedis();
	const prefix = freshRedisPrefix();
	const a = await busNode(ownRedis.url, prefix, 'node-a');
	const b = await busNode(ownRedis.url, prefix, 'node-b');
	b.bus.handle('test.echo', z.object({ text: z.string() }), async ({ text }) => text);
	expect(await a.bus.request('node-b', 'test.echo', { text: 'before' }, z.string())).toBe('before');

	await ownRedis.stop();
	const started = Date.now();
	await pollUntil('a request to fail with service_unavailable', async () => {
		const error = await a.bus.request('node-b', 'test.echo', { text: 'during' }, z.string()).catch((e: unknown) => e);
		return error instanceof AppError && error.code === 'service_unavailable' ? error : undefined;
	}, { timeoutMs: 5000, intervalMs: 50 });
	expect(Date.now() - started).toBeLessThan(5000);

	await ownRedis.start();
	expect(await pollUntil('requests to get through again', async () => a.bus.request('node-b', 'test.echo', { text: 'after' }, z.string(), 500).catch(() => undefined),
		{ timeoutMs: 15_000, intervalMs: 200 })).toBe('after');
});
