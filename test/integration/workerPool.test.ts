import dgram from 'node:dgram';
import { WorkerPool } from '../../src/media';
import { testConfig } from '../helpers/config';
import { testLogger } from '../helpers/logger';
import { addConsumers, OPUS } from '../helpers/media';
import { pollUntil } from '../helpers/poll';
import { findFreePorts, tcpFree, udpFree } from '../helpers/ports';

describe('WorkerPool with real mediasoup workers', () => {
	let pool: WorkerPool | undefined;

	afterEach(async () => {
		await pool?.close();
		pool = undefined;
	});

	test('starts N workers, each with a WebRtcServer on media.port + index (UDP and TCP)', async () => {
		const port = await findFreePorts(3);
		pool = await WorkerPool.start({ config: testConfig({ media: { workers: 3, port } }).media, logger: testLogger().logger });

		expect(pool.workers.map((w) => w.index)).toEqual([0, 1, 2]);
		for (const worker of pool.workers) {
			const dump = await worker.webRtcServer.dump();
			expect(dump.udpSockets).toEqual([{ ip: '127.0.0.1', port: port + worker.index }]);
			expect(dump.tcpServers).toEqual([{ ip: '127.0.0.1', port: port + worker.index }]);
			// The ports are really bound by the worker process.
			expect(await udpFree(port + worker.index)).toBe(false);
			expect(await tcpFree(port + worker.index)).toBe(false);
		}
		expect(new Set(pool.workers.map((w) => w.pid)).size).toBe(3);
		expect(pool.readiness().ready).toBe(true);
	});

	test('pickWorker returns the least-loaded worker', async () => {
		const port = await findFreePorts(2);
		pool = await WorkerPool.start({ config: testConfig({ media: { workers: 2, port } }).media, logger: testLogger().logger });
		const [first, second] = pool.workers;

		// Empty pool: a tie, broken by index.
		expect(pool.pickWorker().index).toBe(0);

		const busy = await first!.worker.createRouter({ mediaCodecs: [OPUS] });
		const load = await addConsumers(busy, 10);
		expect(first!.load).toMatchObject({ routers: 1, transports: 2, producers: 1, consumers: 10 });
		expect(pool.pickWorker().index).toBe(1);

		// Load the second worker more: placement moves back to the first.
		const busier = await second!.worker.createRouter({ mediaCodecs: [OPUS] });
		await addConsumers(busier, 20);
		expect(pool.pickWorker().index).toBe(0);

		// Closing objects brings the counts back down.
		load.close();
		busy.close();
		expect(first!.load).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
		expect(pool.pickWorker({ exclude: new Set([0]) }).index).toBe(1);
	});

	test('measured CPU counts in the load figure', async () => {
		const port = await findFreePorts(2);
		pool = await WorkerPool.start({ config: testConfig({ media: { workers: 2, port } }).media, logger: testLogger().logger });
		const [first] = pool.workers;
		first!.load.cpu = 0.5;
		expect(pool.pickWorker().index).toBe(1);
		// sampleUsage reports cumulative CPU seconds per worker.
		const seconds = await pool.sampleUsage();
		expect([...seconds.keys()].sort()).toEqual([0, 1]);
		expect(seconds.get(0)).toBeGreaterThanOrEqual(0);
	});

	test('a SIGKILLed worker is replaced on the same port within 2 s and the process lives on', async () => {
		const port = await findFreePorts(2);
		pool = await WorkerPool.start({ config: testConfig({ media: { workers: 2, port } }).media, logger: testLogger().logger });
		const victim = pool.workers[1]!;
		const died = jest.fn();
		const replaced = jest.fn();
		pool.observer.on('workerDied', died);
		pool.observer.on('workerReplaced', replaced);

		process.kill(victim.pid, 'SIGKILL');
		const replacement = await pollUntil('a replacement worker in slot 1', () =>
			pool!.workers.find((w) => w.index === 1 && w.pid !== victim.pid), { timeoutMs: 2000 });

		expect(died).toHaveBeenCalledWith(victim, expect.any(Error));
		expect(replaced).toHaveBeenCalledWith(replacement);
		expect(pool.restarts).toBe(1);
		const dump = await replacement.webRtcServer.dump();
		expect(dump.udpSockets).toEqual([{ ip: '127.0.0.1', port: port + 1 }]);
		// It serves: a router and a WebRtcTransport on its WebRtcServer.
		const router = await replacement.worker.createRouter({ mediaCodecs: [OPUS] });
		const transport = await router.createWebRtcTransport({ webRtcServer: replacement.webRtcServer });
		expect(transport.iceCandidates.map((c) => c.port)).toContain(port + 1);
		expect(pool.readiness().ready).toBe(true);
	});

	test('readiness: 503 reasons while no worker is up and while a slot keeps failing to restart', async () => {
		const port = await findFreePorts(1);
		const config = testConfig({ media: { workers: 1, port, restartDelayMs: 300, restartMaxDelayMs: 300 } }).media;
		pool = await WorkerPool.start({ config, logger: testLogger().logger });
		const victim = pool.workers[0]!;

		// Hold the worker's port as soon as it dies, so every restart fails.
		let squatter: dgram.Socket | undefined;
		pool.observer.on('workerDied', () => {
			squatter = dgram.createSocket('udp4');
			squatter.bind(port, '127.0.0.1');
		});
		const failures = jest.fn();
		pool.observer.on('workerRestartFailed', failures);

		process.kill(victim.pid, 'SIGKILL');
		await pollUntil('no worker', () => pool!.readiness().reason === 'no_worker');
		await pollUntil('3 failed restarts', () => pool!.readiness().reason === 'restart_failing', { timeoutMs: 5000 });
		expect(failures.mock.calls.length).toBeGreaterThanOrEqual(3);

		// Free the port: the next attempt succeeds and the node is ready again.
		squatter!.close();
		await pollUntil('ready again', () => pool!.readiness().ready, { timeoutMs: 3000 });
		expect(pool.workers[0]!.pid).not.toBe(victim.pid);
	});

	test('waitForWorker waits out a replacement when no worker is up, and gives up after its timeout', async () => {
		const port = await findFreePorts(1);
		pool = await WorkerPool.start({ config: testConfig({ media: { workers: 1, port, restartDelayMs: 200 } }).media, logger: testLogger().logger });
		expect(await pool.waitForWorker(10)).toBe(true);
		process.kill(pool.workers[0]!.pid, 'SIGKILL');
		await pollUntil('no worker up', () => pool!.workers.length === 0);
		expect(await pool.waitForWorker(2000)).toBe(true);
		expect(pool.workers).toHaveLength(1);
		await pool.close();
		expect(await pool.waitForWorker(50)).toBe(false);
	});

	test('startup fails with the port named when a media port is taken', async () => {
		const port = await findFreePorts(1);
		const squatter = dgram.createSocket('udp4');
		await new Promise<void>((resolve) => squatter.bind(port, '127.0.0.1', resolve));
		try {
			await expect(WorkerPool.start({ config: testConfig({ media: { workers: 1, port } }).media, logger: testLogger().logger }))
				.rejects.toThrow(`media port ${port}`);
		} finally {
			squatter.close();
		}
	});
});
