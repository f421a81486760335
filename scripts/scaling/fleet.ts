/**
 * The scaling benchmark's fleet: a Redis and a PostgreSQL of its own in the
 * root namespace (listening on the bridge), and one Switchyard node a host
 * (scripts/scaling/hosts.ts), each `node --import tsx src/main.ts` inside its
 * namespace with one mediasoup worker, nearest placement (a peer joins the
 * node it connects to: the benchmark decides where each peer goes), its
 * pipes on its own address. Node processes run on `controlCore` (as do Redis
 * and PostgreSQL, which inherit the benchmark's own pinning), their workers
 * are pinned to `workerCore`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { PROJECT_DIR } from '../../test/helpers/child';
import { killWithChildren, signal, untilDead } from '../../test/helpers/processes';
import { pin } from '../loadtest/run';
import { startPostgresProcess, type PostgresProcess } from '../../test/helpers/postgresServer';
import { startRedisProcess, type RedisProcess } from '../../test/helpers/redisServer';
import type { Host, Hosts } from './hosts';

const HTTP_PORT = 3000;
const MEDIA_PORT = 40000;
const READY_TIMEOUT_MS = 90_000;
const HEARTBEAT_MS = 500;

export type ScalingNode = { id: string; host: Host; url: string; pid: number; workerPids: number[] };

export class ScalingFleet {
	readonly nodes: ScalingNode[] = [];
	/** The nodes' auth.secret: the load generator signs its tokens with it. */
	readonly secret = randomBytes(24).toString('base64url');
	readonly #children: { child: ChildProcess; output: () => string }[] = [];
	#redis: RedisProcess | undefined;
	#postgres: PostgresProcess | undefined;

	/** Starts Redis, PostgreSQL and a node on each host; resolves when every node is ready and lists the others. */
	static async start(hosts: Hosts, { workerCore, controlCore }: { workerCore: number; controlCore: number }): Promise<ScalingFleet> {
		const fleet = new ScalingFleet();
		try {
			fleet.#redis = await startRedisProcess({ alsoOn: hosts.rootIp });
			fleet.#postgres = await startPostgresProcess({ alsoOn: hosts.rootIp });
			const onBridge = (url: string) => url.replace('@127.0.0.1:', `@${hosts.rootIp}:`);
			const shared = {
				SWITCHYARD_CLUSTER_REDIS_URL: onBridge(fleet.#redis.url),
				SWITCHYARD_STORE_URL: onBridge(fleet.#postgres.url),
				SWITCHYARD_AUTH_SECRET: fleet.secret,
				SWITCHYARD_AUTH_DEV: 'false',
				SWITCHYARD_CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS),
				SWITCHYARD_CLUSTER_PLACEMENT: 'nearest',
				SWITCHYARD_MEDIA_WORKERS: '1',
				SWITCHYARD_LOG_LEVEL: 'warn',
				SWITCHYARD_LOG_FORMAT: 'json',
				SWITCHYARD_SIGNALING_CONNECTIONS_PER_IP: '5000',
				SWITCHYARD_ROOMS_MAX_PEERS: '1000',
				SWITCHYARD_ROOMS_MAX_ROOMS: '1000',
			};
			// One at a time: the first migrates the database, and two cores start tsx slowly.
			for (const [i, host] of hosts.hosts.entries()) {
				fleet.nodes.push(await fleet.#startNode(`node-${i + 1}`, host, shared, { workerCore, controlCore }));
			}
			await fleet.#listedByAll();
		} catch (error) {
			await fleet.stop();
			throw error;
		}
		return fleet;
	}

	async #startNode(id: string, host: Host, shared: Record<string, string>, cores: { workerCore: number; controlCore: number }): Promise<ScalingNode> {
		const url = `http://${host.ip}:${HTTP_PORT}`;
		const env = {
			...shared,
			PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
			PORT: String(HTTP_PORT), MEDIA_PORT: String(MEDIA_PORT),
			SWITCHYARD_HTTP_HOST: host.ip,
			SWITCHYARD_MEDIA_LISTEN_IP: host.ip,
			SWITCHYARD_CLUSTER_NODE_ID: id,
			SWITCHYARD_CLUSTER_NODE_URL: url,
			SWITCHYARD_CLUSTER_PIPE_LISTEN_IP: host.ip,
		};
		// NOTE: ip netns exec and taskset exec the next program: the child's pid is the node's.
		const child = spawn('ip', ['netns', 'exec', host.namespace, 'taskset', '-c', String(cores.controlCore), process.execPath, '--import', 'tsx', path.join(PROJECT_DIR, 'src', 'main.ts')], {
			cwd: PROJECT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'],
		});
		let output = '';
		child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
		child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
		this.#children.push({ child, output: () => output });
		const deadline = Date.now() + READY_TIMEOUT_MS;
		while (Date.now() < deadline) {
			if (child.exitCode !== null || child.signalCode !== null) {
				throw new Error(`${id} exited (${child.signalCode ?? child.exitCode}) before it was ready:\n${output.slice(-3000)}`);
			}
			const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })
				.then(async (res) => res.status === 200 ? await res.json() as { workers?: { pid?: number; state?: string }[] } : undefined, () => undefined);
			if (ready) {
				const workerPids = (ready.workers ?? []).flatMap((w) => (w.state === 'up' && w.pid ? [w.pid] : []));
				for (const pid of workerPids) {
					pin(pid, cores.workerCore);
				}
				return { id, host, url, pid: child.pid!, workerPids };
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		throw new Error(`${id} never answered /readyz 200 in ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-3000)}`);
	}

	/** Every node's readiness says the cluster is up and the fleet's node count is every node's. */
	async #listedByAll(): Promise<void> {
		const deadline = Date.now() + 20_000;
		for (const node of this.nodes) {
			for (;;) {
				const res = await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
				const listed = Number(/^switchyard_cluster_nodes(?:\{[^}]*\})? ([0-9.]+)$/m.exec(res)?.[1] ?? 0);
				if (listed >= this.nodes.length) {
					break;
				}
				if (Date.now() > deadline) {
					throw new Error(`${node.id} lists ${listed} nodes of ${this.nodes.length}`);
				}
				await new Promise((resolve) => setTimeout(resolve, 200));
			}
		}
	}

	/** The tail of each node's output, for a failure's message. */
	describe(): string {
		return this.#children.map(({ child, output }, i) => `=== node-${i + 1} (pid ${child.pid}) ===\n${output().slice(-2000)}`).join('\n');
	}

	/** SIGTERM, then SIGKILL whatever is left; stops Redis and PostgreSQL. Idempotent. */
	async stop(): Promise<void> {
		const running = this.#children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
		for (const { child } of running) {
			child.kill('SIGTERM');
		}
		await Promise.all(running.map(({ child }) => new Promise<void>((resolve) => {
			const timer = setTimeout(() => {
				killWithChildren(child.pid!);
				resolve();
			}, 15_000);
			child.once('exit', () => {
				clearTimeout(timer);
				resolve();
			});
		})));
		// A node's workers exit once their channel to it closes.
		const workers = this.nodes.flatMap((node) => node.workerPids);
		for (const pid of await untilDead(workers, 5000)) {
			signal(pid, 'SIGKILL');
		}
		await this.#postgres?.destroy();
		await this.#redis?.destroy();
	}

	/** For an exit handler: SIGKILL every node and its workers, and the servers, now. */
	killSync(): void {
		for (const { child } of this.#children) {
			if (child.pid !== undefined) {
				killWithChildren(child.pid);
			}
		}
		for (const pid of this.nodes.flatMap((node) => node.workerPids)) {
			signal(pid, 'SIGKILL');
		}
		this.#postgres?.killSync();
		this.#redis?.killSync();
	}
}
