import { createRedis } from '../../src/cluster';
import { LocalKnocks, RedisKnocks, type Knock, type Knocks } from '../../src/links';
import { FakeClock } from '../helpers/fakeClock';
import { testLogger } from '../helpers/logger';
import { freshRedisPrefix, startRedis, testRedis, type RedisServer } from '../helpers/redis';

const clock = new FakeClock();
const redis = createRedis(testRedis().url, testLogger().logger, 'knocks-test');
beforeAll(() => redis.connect());
afterAll(() => redis.disconnect());

const knock = (id: string, linkId: string, at: number): Knock => ({
	id, linkId, ownerId: 'owner-1', sub: `guest-${id}`, knocker: { kind: 'guest', name: `Guest ${id}` }, at, addressKey: 'digest', state: 'waiting',
});

// The knocks of call links' lobbies (src/links/Knocks.ts): in memory on a node alone, in Redis on a
// fleet, with the same behaviour: a knock waits, is answered once, is withdrawn, and is gone after its time.
describe.each([
	['LocalKnocks', () => new LocalKnocks(clock)],
	['RedisKnocks', () => new RedisKnocks({ redis, keyPrefix: freshRedisPrefix() })],
])('%s', (_name, make) => {
	let knocks: Knocks;
	beforeEach(() => {
		knocks = make();
	});

	test('a knock waits, listed with its link\'s oldest first; it is answered once; the answer stays a while for the knocker', async () => {
		await knocks.add(knock('b', 'link-1', 2), 60_000);
		await knocks.add(knock('a', 'link-1', 1), 60_000);
		await knocks.add(knock('c', 'link-2', 3), 60_000);
		expect((await knocks.waiting('link-1')).map((k) => k.id)).toEqual(['a', 'b']);
		expect(await knocks.get('a')).toEqual(knock('a', 'link-1', 1));
		expect(await knocks.settle('a', 'link-1', 'admitted', 60_000)).toEqual(knock('a', 'link-1', 1));
		expect(await knocks.settle('a', 'link-1', 'denied', 60_000)).toBeUndefined();
		expect(await knocks.get('a')).toMatchObject({ state: 'admitted' });
		expect((await knocks.waiting('link-1')).map((k) => k.id)).toEqual(['b']);
		expect(await knocks.remove('b', 'link-2')).toBeUndefined();
		expect(await knocks.get('b')).toBeDefined();
		expect(await knocks.remove('b', 'link-1')).toMatchObject({ id: 'b' });
		expect(await knocks.remove('b', 'link-1')).toBeUndefined();
		expect(await knocks.get('b')).toBeUndefined();
		expect(await knocks.settle('missing', 'link-1', 'admitted', 60_000)).toBeUndefined();
		expect(await knocks.settle('c', 'link-1', 'admitted', 60_000)).toBeUndefined();
		expect(await knocks.get('c')).toMatchObject({ state: 'waiting' });
	});

	test('a knock is gone after its time', async () => {
		await knocks.add(knock('d', 'link-3', 4), 300);
		expect(await knocks.get('d')).toBeDefined();
		await clock.advance(400);
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(await knocks.get('d')).toBeUndefined();
		expect(await knocks.waiting('link-3')).toEqual([]);
	});
});

describe('RedisKnocks reads what Redis holds as untrusted', () => {
	test('a knock hash that is not JSON, not a knock, or in no known state reads as no knock', async () => {
		const keyPrefix = freshRedisPrefix();
		const knocks = new RedisKnocks({ redis, keyPrefix });
		await redis.hset(`${keyPrefix}knock:bad-json`, { knock: '{nope', state: 'waiting', link: 'l' });
		await redis.hset(`${keyPrefix}knock:bad-shape`, { knock: JSON.stringify({ id: 7 }), state: 'waiting', link: 'l' });
		await redis.hset(`${keyPrefix}knock:bad-state`, { knock: JSON.stringify({ ...knock('x', 'l', 1), state: undefined }), state: 'gone', link: 'l' });
		for (const id of ['bad-json', 'bad-shape', 'bad-state']) {
			expect(await knocks.get(id)).toBeUndefined();
		}
		await redis.zadd(`${keyPrefix}knocks:l`, 1, 'bad-json', 2, 'bad-shape');
		expect(await knocks.waiting('l')).toEqual([]);
	});
});

describe('RedisKnocks while Redis is away', () => {
	let own: RedisServer;
	afterAll(() => own?.destroy());

	test('every call answers service_unavailable, and works again once Redis is back (empty: the knocks are forgotten)', async () => {
		own = await startRedis();
		const connection = createRedis(own.url, testLogger().logger, 'knocks-outage');
		await connection.connect();
		const knocks = new RedisKnocks({ redis: connection, keyPrefix: freshRedisPrefix() });
		try {
			await knocks.add(knock('e', 'link-4', 5), 60_000);
			await own.stop();
			for (const attempt of [() => knocks.add(knock('f', 'link-4', 6), 60_000), () => knocks.get('e'), () => knocks.settle('e', 'link-4', 'admitted', 1000), () => knocks.remove('e', 'link-4'), () => knocks.waiting('link-4')]) {
				await expect(attempt()).rejects.toMatchObject({ code: 'service_unavailable' });
			}
			await own.start();
			await new Promise<void>((resolve) => (connection.status === 'ready' ? resolve() : connection.once('ready', () => resolve())));
			expect(await knocks.get('e')).toBeUndefined();
			await knocks.add(knock('g', 'link-4', 7), 60_000);
			expect((await knocks.waiting('link-4')).map((k) => k.id)).toEqual(['g']);
		} finally {
			connection.disconnect();
		}
	}, 30_000);
});
