import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freshRedisPrefix, startRedis, testRedis } from '../helpers/redis';
import type { RedisProcess } from '../helpers/redisServer';

/** A RESP2 reply: simple string or bulk string, integer, nil, error, array. */
type Reply = string | number | null | { error: string } | Reply[];

/**
 * Sends `commands` on one new connection to 127.0.0.1:port and resolves with
 * their replies, in order. NOTE: a client of its own, no Redis package, so
 * that the harness is tested apart from the code it will serve.
 */
function send(port: number, commands: string[][]): Promise<Reply[]> {
	const request = commands.map((args) =>
		`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join('');
	return new Promise((resolve, reject) => {
		let received = Buffer.alloc(0);
		const socket = net.connect({ host: '127.0.0.1', port });
		socket.setTimeout(5000, () => socket.destroy(new Error(`no answer from 127.0.0.1:${port}`)));
		socket.once('error', reject);
		socket.once('connect', () => socket.write(request));
		socket.once('close', () => reject(new Error(`connection closed before ${commands.length} replies`)));
		socket.on('data', (data) => {
			received = Buffer.concat([received, data]);
			const replies: Reply[] = [];
			let at = 0;
			while (replies.length < commands.length) {
				const parsed = parse(received, at);
				if (!parsed) {
					return;
				}
				replies.push(parsed.reply);
				at = parsed.next;
			}
			socket.removeAllListeners('close');
			socket.destroy();
			resolve(replies);
		});
	});
}

/** One reply from `at`, or undefined while it has not all come. */
function parse(buffer: Buffer, at: number): { reply: Reply; next: number } | undefined {
	const end = buffer.indexOf('\r\n', at);
	if (end < 0) {
		return undefined;
	}
	const line = buffer.toString('utf8', at + 1, end);
	const next = end + 2;
	switch (String.fromCharCode(buffer[at]!)) {
		case '+':
			return { reply: line, next };
		case '-':
			return { reply: { error: line }, next };
		case ':':
			return { reply: Number(line), next };
		case '$': {
			const length = Number(line);
			if (length < 0) {
				return { reply: null, next };
			}
			return buffer.length < next + length + 2 ? undefined : { reply: buffer.toString('utf8', next, next + length), next: next + length + 2 };
		}
		case '*': {
			const items: Reply[] = [];
			let from = next;
			for (let i = 0; i < Number(line); i++) {
				const item = parse(buffer, from);
				if (!item) {
					return undefined;
				}
				items.push(item.reply);
				from = item.next;
			}
			return { reply: items, next: from };
		}
		default:
			throw new Error(`not RESP: ${JSON.stringify(buffer.toString('utf8', at))}`);
	}
}

/** The error a new connection meets, or undefined when it gets PONG. */
async function connectError(port: number): Promise<NodeJS.ErrnoException | undefined> {
	try {
		await send(port, [['PING']]);
		return undefined;
	} catch (error) {
		return error as NodeJS.ErrnoException;
	}
}

function portAndPassword(url: string): { port: number; password: string } {
	const parsed = new URL(url);
	return { port: Number(parsed.port), password: decodeURIComponent(parsed.password) };
}

describe("the run's Redis server (test/globalSetup.js), shared through key prefixes", () => {
	test('AUTH, then SET and GET under fresh prefixes: each prefix sees its own keys', async () => {
		const { port, password } = portAndPassword(testRedis().url);
		const [a, b] = [freshRedisPrefix(), freshRedisPrefix()];
		expect(a).toMatch(/^t[0-9a-f]{12}:$/);
		expect(a).not.toBe(b);
		const text = 'Émile Zoë, 日本語, 🎙️';
		const replies = await send(port, [
			['AUTH', password],
			['SET', `${a}room`, text],
			['SET', `${b}room`, 'the other file'],
			['GET', `${a}room`],
			['GET', `${b}room`],
			['KEYS', `${a}*`],
			['DEL', `${a}room`, `${b}room`],
			['GET', `${a}room`],
		]);
		expect(replies).toEqual(['OK', 'OK', 'OK', text, 'the other file', [`${a}room`], 2, null]);
	});

	test('refuses commands without the password and with a wrong one', async () => {
		const { port } = portAndPassword(testRedis().url);
		const [unauthenticated, wrong, after] = await send(port, [['GET', 'x'], ['AUTH', 'wrong'], ['PING']]);
		expect(unauthenticated).toEqual({ error: expect.stringMatching(/^NOAUTH Authentication required/) });
		expect(wrong).toEqual({ error: expect.stringMatching(/^WRONGPASS/) });
		expect(after).toEqual({ error: expect.stringMatching(/^NOAUTH/) });
	});

	test('listens on 127.0.0.1 in 16000-19999 (never 6379), in protected mode, and persists nothing', async () => {
		const { url } = testRedis();
		const { port, password } = portAndPassword(url);
		expect(url).toBe(`redis://:${password}@127.0.0.1:${port}`);
		expect(port).toBeGreaterThanOrEqual(16000);
		expect(port).toBeLessThanOrEqual(19999);
		const [, save, appendonly, bind, protectedMode] = await send(port, [
			['AUTH', password],
			['CONFIG', 'GET', 'save'],
			['CONFIG', 'GET', 'appendonly'],
			['CONFIG', 'GET', 'bind'],
			['CONFIG', 'GET', 'protected-mode'],
		]);
		expect([save, appendonly, bind, protectedMode]).toEqual([
			['save', ''], ['appendonly', 'no'], ['bind', '127.0.0.1'], ['protected-mode', 'yes']]);
	});

	test('a run without that server fails Redis tests, saying why', () => {
		const saved = process.env.SWITCHYARD_TEST_REDIS_URL;
		delete process.env.SWITCHYARD_TEST_REDIS_URL;
		process.env.SWITCHYARD_TEST_REDIS_MISSING = 'globalSetup found no /usr/bin/redis-server; apt-get install redis-server';
		try {
			expect(() => testRedis()).toThrow('no Redis for this test run: globalSetup found no /usr/bin/redis-server');
			delete process.env.SWITCHYARD_TEST_REDIS_MISSING;
			expect(() => testRedis()).toThrow('no Redis for this test run: SWITCHYARD_TEST_REDIS_URL is not set');
		} finally {
			process.env.SWITCHYARD_TEST_REDIS_URL = saved;
			delete process.env.SWITCHYARD_TEST_REDIS_MISSING;
		}
	});

	test('globalSetup without redis-server (nor PostgreSQL) warns, one line each, and goes on', () => {
		const setup = path.resolve(__dirname, '..', 'globalSetup.js');
		// The child inherits this run's URLs: globalSetup must drop them.
		const code = `require(${JSON.stringify(setup)})().then(() => console.log(JSON.stringify({
			redis: [process.env.SWITCHYARD_TEST_REDIS_URL ?? null, process.env.SWITCHYARD_TEST_REDIS_MISSING],
			pg: [process.env.SWITCHYARD_TEST_PG_URL ?? null, process.env.SWITCHYARD_TEST_PG_MISSING] })))`;
		const missing = path.join(os.tmpdir(), 'switchyard-no-such-dir');
		const result = spawnSync(process.execPath, ['-e', code], {
			encoding: 'utf8', env: { ...process.env, SWITCHYARD_TEST_REDIS_BIN: missing, SWITCHYARD_TEST_PG_BIN: missing } });
		expect(result.status).toBe(0);
		expect(result.stderr.trim().split('\n').filter(Boolean)).toEqual([
			`[globalSetup] warning: no PostgreSQL for this run (no ${missing}/initdb (SWITCHYARD_TEST_PG_BIN)): its tests will fail`,
			`[globalSetup] warning: no Redis for this run (no ${missing}/redis-server (SWITCHYARD_TEST_REDIS_BIN)): its tests will fail`,
		]);
		expect(JSON.parse(result.stdout)).toEqual({
			redis: [null, `globalSetup found no ${missing}/redis-server (SWITCHYARD_TEST_REDIS_BIN); run \`npm test\` as root so that it installs redis-server, or apt-get install redis-server`],
			pg: [null, expect.stringMatching(/^globalSetup found no .*initdb/)],
		});
	});
});

describe('a server of its own (startRedis): stop, start, kill, destroy', () => {
	let server: RedisProcess;
	let password: string;

	beforeAll(async () => {
		server = await startRedis();
		password = portAndPassword(server.url).password;
	});

	afterAll(async () => {
		await server?.destroy();
	});

	test('keeps off 6379 and off a port that is taken, leaving no directory behind', async () => {
		await expect(startRedis({ port: 6379 })).rejects.toThrow(/6379 belongs to the system Redis/);
		const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-redis-parent-'));
		try {
			await expect(startRedis({ dir: parent, port: server.port })).rejects.toThrow(/did not start on 127.0.0.1:\d+ \(exit 1\)[^]*Address already in use/);
			expect(fs.readdirSync(parent)).toEqual([]);
		} finally {
			fs.rmSync(parent, { recursive: true, force: true });
		}
	});

	test('stop() refuses connections; start() answers again on the same port, with nothing kept', async () => {
		expect(await send(server.port, [['AUTH', password], ['SET', 'k', 'before stop'], ['DBSIZE']])).toEqual(['OK', 'OK', 1]);
		const port = server.port;
		await server.stop();
		expect(server.running).toBe(false);
		expect((await connectError(port))?.code).toBe('ECONNREFUSED');
		await server.start();
		expect(server.running).toBe(true);
		expect(server.port).toBe(port);
		expect(await send(port, [['AUTH', password], ['GET', 'k'], ['DBSIZE']])).toEqual(['OK', null, 0]);
		expect(fs.readdirSync(server.dir).sort()).toEqual(['redis.conf', 'redis.log']);
	});

	test('kill() SIGKILLs it, as a crash would; start() brings it back', async () => {
		const [, info] = await send(server.port, [['AUTH', password], ['INFO', 'server']]);
		const pid = Number(/process_id:(\d+)/.exec(String(info))?.[1]);
		expect(pid).toBeGreaterThan(0);
		await server.kill();
		const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
		expect(state).toMatch(/^(gone|Z)$/);
		expect(server.running).toBe(false);
		expect((await connectError(server.port))?.code).toBe('ECONNREFUSED');
		// A SIGKILLed server says no goodbye: the log's last words are its earlier SIGTERM's.
		expect(fs.readFileSync(path.join(server.dir, 'redis.log'), 'utf8').match(/Received SIGTERM/g)).toHaveLength(1);
		await server.start();
		expect(await send(server.port, [['AUTH', password], ['PING']])).toEqual(['OK', 'PONG']);
	});

	test('running turns false when it exits of itself (SHUTDOWN NOSAVE)', async () => {
		await send(server.port, [['AUTH', password], ['SHUTDOWN', 'NOSAVE']]).catch(() => undefined);
		for (const deadline = Date.now() + 5000; server.running && Date.now() < deadline;) {
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		expect(server.running).toBe(false);
		await server.start();
		expect(server.running).toBe(true);
	});

	test('destroy() stops it and removes its directory; twice is harmless; it does not start again', async () => {
		await server.destroy();
		expect(fs.existsSync(server.dir)).toBe(false);
		expect((await connectError(server.port))?.code).toBe('ECONNREFUSED');
		await server.destroy();
		await expect(server.start()).rejects.toThrow(/destroyed/);
	});
});
