import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_DIR } from '../helpers/child';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { freshDatabase } from '../helpers/postgres';
import { childrenOf, signal, untilDead } from '../helpers/processes';
import { freshRedisPrefix, testRedis } from '../helpers/redis';

/**
 * A fleet of real Switchyard processes for the cluster tests
 * (jest.cluster.config.js, docs/cluster.md): `size` nodes, each `node
 * dist/main.js` as `npm start` runs it (test/cluster/globalSetup.js builds
 * dist/ once per run), on ports of its own, all sharing one fresh database of
 * the run's PostgreSQL and one fresh key prefix of the run's Redis.
 */

/** The heartbeat a fleet's nodes use unless `env` says otherwise: a silent node drops out within two. */
export const FLEET_HEARTBEAT_MS = 300;
const MAIN = path.join(PROJECT_DIR, 'dist', 'main.js');
const GUARD = path.join(__dirname, 'orphanGuard.js');
/** Three nodes starting at once on two cores, each migrating or waiting for the one that does. */
const READY_TIMEOUT_MS = 60_000;
/** SIGTERM to exit: a node drains (at most SWITCHYARD_DRAIN_TIMEOUT_SECONDS, 5 here) and closes. */
const EXIT_TIMEOUT_MS = 20_000;
/** A killed node's mediasoup workers, to notice their channel closed and exit. */
const WORKERS_EXIT_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_LINES = 80;

export type FleetOptions = {
	/** Nodes in the fleet, `node-1` .. `node-SIZE`. */
	size?: number;
	/** Environment for every node, over the fleet's own (as SWITCHYARD_ACCOUNTS_SIGNUPS_PER_HOUR). */
	env?: Record<string, string>;
	/** A Redis of the test's own (one it stops and starts: test/helpers/redis.ts's startRedis); the run's by default. */
	redisUrl?: string;
};

/** An HTTP answer: its status and its body, parsed when it is JSON. */
export type Reply = { status: number; body: any };

/** One node of a fleet. The object stays the same across restarts; `process` is the current run's. */
export interface FleetNode {
	/** `node-1`, `node-2`, ...: its cluster.nodeId. */
	readonly id: string;
	/** `http://127.0.0.1:PORT`: where it listens, and its cluster.nodeUrl. */
	readonly url: string;
	/** Its media.port (MEDIA_PORT): its WebRtcServer's, the port its clients' ICE candidates name. */
	readonly mediaPort: number;
	/** The current run's process (`node dist/main.js`). */
	readonly process: ChildProcess;
	/** Whether the current run's process has not exited yet. */
	readonly running: boolean;
	/** Everything it wrote to stdout and stderr (JSON log lines), every run, each after a `--- ID started ---` line. */
	output(): string;
	/** A JSON request to this node with an optional bearer token; bounded (10 s). */
	api(method: string, route: string, options?: { token?: string; body?: unknown }): Promise<Reply>;
	/**
	 * Sends `signal` (SIGKILL: as a crash would) and resolves once the process
	 * and its mediasoup workers have exited; nothing when it is not running.
	 * One that does not exit within 20 s is SIGKILLed and this rejects.
	 */
	kill(signal?: NodeJS.Signals): Promise<void>;
	/** SIGTERM, as an operator stops a node: it drains and exits. Resolves with the exit code (0: clean). Bounded as kill(). */
	stop(): Promise<number | null>;
}

export interface Fleet {
	/** node-1 is nodes[0]. */
	readonly nodes: readonly FleetNode[];
	/** The shared PostgreSQL database (store.url): the fleet's own, dropped by close(). */
	readonly storeUrl: string;
	/** The run's Redis (cluster.redisUrl). */
	readonly redisUrl: string;
	/** The fleet's own prefix in it (cluster.keyPrefix). */
	readonly keyPrefix: string;
	/** The nodes' shared auth.adminToken. */
	readonly adminToken: string;
	/** The nodes' shared auth.secret. */
	readonly authSecret: string;
	/** The nodes' cluster.heartbeatMs. */
	readonly heartbeatMs: number;
	/**
	 * Starts nodes[i] again, on the same ports with the same environment (stopped
	 * first with stop() if it still runs), and resolves when it answers /readyz 200.
	 */
	restart(i: number): Promise<FleetNode>;
	/** The tail of every node's output, each under a header saying how it stands: for a failure's message. */
	describe(): string;
	/**
	 * Stops every node (SIGTERM; SIGKILL for one that will not stop) and drops
	 * the database. Idempotent; rejects after cleaning up if a node did not stop cleanly.
	 */
	close(): Promise<void>;
}

/**
 * Starts a fleet and resolves when every node answers /readyz 200 (bounded;
 * the error holds the output of a node that did not get there). Each node has
 * one mediasoup worker, auth.dev false, a cheap scrypt, JSON logs, a 300 ms
 * heartbeat and a 5 s drain. NOTE: the HTTP limits count across the fleet in
 * Redis at their defaults (10 sign-ups an hour from 127.0.0.1): raise them
 * with `env` for a test that signs many up. Close it in afterAll.
 */
export async function startFleet({ size = 3, env = {}, redisUrl = testRedis().url }: FleetOptions = {}): Promise<Fleet> {
	if (!fs.existsSync(MAIN)) {
		throw new Error(`${path.relative(PROJECT_DIR, MAIN)} is missing: run the cluster tests with jest.cluster.config.js, whose globalSetup builds it`);
	}
	const database = await freshDatabase();
	const keyPrefix = freshRedisPrefix();
	const authSecret = crypto.randomBytes(24).toString('hex');
	const adminToken = crypto.randomBytes(24).toString('hex');
	const shared: Record<string, string> = {
		SWITCHYARD_MEDIA_WORKERS: '1',
		SWITCHYARD_STORE_URL: database.url,
		SWITCHYARD_CLUSTER_REDIS_URL: redisUrl,
		SWITCHYARD_CLUSTER_KEY_PREFIX: keyPrefix,
		SWITCHYARD_CLUSTER_HEARTBEAT_MS: String(FLEET_HEARTBEAT_MS),
		SWITCHYARD_AUTH_SECRET: authSecret,
		SWITCHYARD_AUTH_ADMIN_TOKEN: adminToken,
		SWITCHYARD_AUTH_DEV: 'false',
		SWITCHYARD_ACCOUNTS_SCRYPT_COST: '1024',
		SWITCHYARD_LOG_FORMAT: 'json',
		SWITCHYARD_DRAIN_TIMEOUT_SECONDS: '5',
	};
	let nodes: ClusterNode[] = [];
	const makeNodes = (base: number) => Array.from({ length: size }, (_, i) => {
		const id = `node-${i + 1}`;
		const url = `http://127.0.0.1:${base + 2 * i}`;
		const mediaPort = base + 2 * i + 1;
		return new ClusterNode(id, url, mediaPort, {
			...shared,
			PORT: String(base + 2 * i),
			MEDIA_PORT: String(mediaPort),
			SWITCHYARD_CLUSTER_NODE_ID: id,
			SWITCHYARD_CLUSTER_NODE_URL: url,
			...env,
		});
	});
	try {
		for (let attempt = 1; ; attempt++) {
			// One block of consecutive free ports: node i's HTTP port, then its media port.
			nodes = makeNodes(await findFreePorts(2 * size));
			// NOTE: all at once, as a fleet rolls out: PostgreSQL's advisory lock lets one migrate.
			const started = await Promise.allSettled(nodes.map((node) => node.start()));
			const failed = started.find((result) => result.status === 'rejected');
			if (!failed) {
				break;
			}
			// NOTE: the ports were free when probed, and are in Linux's ephemeral range: an outgoing
			// connection (another node's to Redis or PostgreSQL) can take one before a node listens. New ports then.
			await Promise.allSettled(nodes.map((node) => node.kill('SIGKILL')));
			if (attempt >= 3 || !nodes.some((node) => /EADDRINUSE|address already in use/i.test(node.output()))) {
				throw (failed as PromiseRejectedResult).reason;
			}
		}
		await listedByAll(nodes, adminToken);
	} catch (error) {
		await Promise.allSettled(nodes.map((node) => node.kill('SIGKILL')));
		await database.drop();
		throw error;
	}

	let closing: Promise<void> | undefined;
	return {
		nodes,
		storeUrl: database.url,
		redisUrl,
		keyPrefix,
		adminToken,
		authSecret,
		heartbeatMs: Number(env.SWITCHYARD_CLUSTER_HEARTBEAT_MS ?? FLEET_HEARTBEAT_MS),
		async restart(i) {
			const node = nodes[i];
			if (!node) {
				throw new Error(`no node ${i}: the fleet has nodes 0..${nodes.length - 1}`);
			}
			if (node.running) {
				await node.stop();
			}
			await node.start();
			await listedByAll(nodes.filter((n) => n.running), adminToken);
			return node;
		},
		describe: () => nodes.map((node) => node.describe()).join('\n'),
		close() {
			closing ??= (async () => {
				// A node killed (or dead) before is left as it is: only those running now must stop cleanly.
				const stopped = await Promise.allSettled(nodes.map((node) => node.running ? node.stop() : Promise.resolve(null)));
				// stop() SIGKILLs a node that would not stop: everything is down here.
				await database.drop();
				const problems = stopped.flatMap((result, i) => result.status === 'rejected' ? [(result.reason as Error).message]
					: result.value !== 0 && result.value !== null ? [`${nodes[i]!.id} exited with ${result.value} after SIGTERM:\n${nodes[i]!.tail()}`] : []);
				if (problems.length > 0) {
					throw new Error(`the fleet did not stop cleanly:\n${problems.join('\n')}`);
				}
			})();
			return closing;
		},
	};
}

/**
 * Wraps a test's body so that, when it fails, its error carries the tail of
 * every node's output: `test('...', showingOutput(() => fleet, async () => {...}))`.
 */
export function showingOutput(fleet: () => Fleet | undefined, body: () => Promise<void>): () => Promise<void> {
	return async () => {
		try {
			await body();
		} catch (error) {
			const output = fleet()?.describe() ?? '(no fleet)';
			if (error instanceof Error) {
				// NOTE: jest prints the stack, which holds the message as it was when the stack was formatted
				// (playwright formats its errors' stacks at once): the output goes into both.
				const { message, stack } = error;
				error.message += `\n\nThe fleet's output:\n${output}`;
				error.stack = stack?.replace(message, error.message);
				throw error;
			}
			throw new Error(`${String(error)}\n\nThe fleet's output:\n${output}`);
		}
	};
}

/**
 * Waits until every node lists every other (a node's list is a heartbeat old: one that has just started
 * is missing from the others' for up to one), as a fleet that has settled. Bounded.
 */
async function listedByAll(nodes: readonly FleetNode[], adminToken: string): Promise<void> {
	const ids = nodes.map((node) => node.id).sort().join();
	for (const node of nodes) {
		await pollUntil(`${node.id} to list ${ids}`, async () => {
			const res = await node.api('GET', '/api/admin/cluster', { token: adminToken });
			return res.status === 200 && (res.body.nodes as { id: string }[]).map((n) => n.id).sort().join() === ids;
		}, { timeoutMs: 10_000, intervalMs: 50 });
	}
}

type Run = { child: ChildProcess; exited: Promise<void> };

class ClusterNode implements FleetNode {
	readonly id: string;
	readonly url: string;
	readonly mediaPort: number;
	readonly #env: Record<string, string>;
	#run: Run | undefined;
	#output = '';

	constructor(id: string, url: string, mediaPort: number, env: Record<string, string>) {
		this.id = id;
		this.url = url;
		this.mediaPort = mediaPort;
		this.#env = env;
	}

	get process(): ChildProcess {
		if (!this.#run) {
			throw new Error(`${this.id} was never started`);
		}
		return this.#run.child;
	}

	get running(): boolean {
		const child = this.#run?.child;
		return child !== undefined && child.exitCode === null && child.signalCode === null;
	}

	output(): string {
		return this.#output;
	}

	/** The last lines of its output. */
	tail(): string {
		return this.#output.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
	}

	describe(): string {
		const child = this.#run?.child;
		const state = !child ? 'never started' : this.running ? `running, pid ${child.pid}`
			: `exited: ${child.signalCode ?? `code ${child.exitCode}`}`;
		return `=== ${this.id} ${this.url} (${state}), last ${OUTPUT_TAIL_LINES} lines ===\n${this.tail()}`;
	}

	/** Spawns the process and resolves when /readyz answers 200; kills it and rejects with its output when it does not. */
	async start(): Promise<void> {
		if (this.running) {
			throw new Error(`${this.id} is running already`);
		}
		// NOTE: only this environment (no SWITCHYARD_TEST_* of jest's: the config refuses unknown SWITCHYARD_ names).
		const child = spawn(process.execPath, ['--require', GUARD, MAIN], {
			cwd: PROJECT_DIR,
			env: { PATH: process.env.PATH, HOME: process.env.HOME, ...this.#env },
			// stdin: the orphan guard's pipe (orphanGuard.js).
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		const exited = new Promise<void>((resolve) => {
			child.once('exit', () => resolve());
			child.once('error', (error) => {
				this.#output += `(spawn failed: ${error.message})\n`;
				resolve();
			});
		});
		this.#run = { child, exited };
		this.#output += `--- ${this.id} started (pid ${child.pid}) ---\n`;
		child.stdout!.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
		child.stderr!.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));

		let exitedEarly = false;
		// NOTE: ends the poll too when the process exited first (pollUntil would go on to its timeout).
		let settled = false;
		try {
			await Promise.race([
				pollUntil(`${this.id} to answer /readyz 200`, async () => {
					if (settled) {
						return true;
					}
					const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
					await res.arrayBuffer();
					return res.status === 200;
				}, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100 }),
				exited.then(() => {
					exitedEarly = true;
					throw new Error(`exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready`);
				}),
			]);
		} catch (error) {
			if (!exitedEarly) {
				await this.kill('SIGKILL');
			}
			throw new Error(`${this.id} did not start: ${(error as Error).message}\n${this.describe()}`);
		} finally {
			settled = true;
		}
	}

	async kill(name: NodeJS.Signals = 'SIGKILL'): Promise<void> {
		const run = this.#run;
		if (!run || !this.running || run.child.pid === undefined) {
			return;
		}
		// NOTE: before the signal: once the node is dead its workers belong to init.
		const workers = childrenOf(run.child.pid);
		run.child.kill(name);
		const exited = await within(run.exited, EXIT_TIMEOUT_MS);
		if (!exited) {
			run.child.kill('SIGKILL');
			await within(run.exited, EXIT_TIMEOUT_MS);
		}
		const left = await untilDead(workers, WORKERS_EXIT_TIMEOUT_MS);
		for (const pid of left) {
			signal(pid, 'SIGKILL');
		}
		await untilDead(left, WORKERS_EXIT_TIMEOUT_MS);
		if (!exited) {
			throw new Error(`${this.id} did not exit within ${EXIT_TIMEOUT_MS} ms of ${name}, and was SIGKILLed:\n${this.tail()}`);
		}
		if (left.length > 0) {
			this.#output += `--- ${this.id}: workers ${left.join(', ')} outlived the node by ${WORKERS_EXIT_TIMEOUT_MS} ms, SIGKILLed ---\n`;
		}
	}

	async stop(): Promise<number | null> {
		await this.kill('SIGTERM');
		return this.#run?.child.exitCode ?? null;
	}

	async api(method: string, route: string, { token, body }: { token?: string; body?: unknown } = {}): Promise<Reply> {
		const res = await fetch(`${this.url}${route}`, {
			method,
			headers: {
				...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
				...(token ? { Authorization: `Bearer ${token}` } : {}),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(10_000),
		});
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : undefined;
		} catch {
			// Not JSON (as /metrics): the text itself.
		}
		return { status: res.status, body: parsed };
	}
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const settled = await Promise.race([
		promise.then(() => true),
		new Promise<false>((resolve) => {
			timer = setTimeout(() => resolve(false), ms);
		}),
	]);
	clearTimeout(timer);
	return settled;
}
