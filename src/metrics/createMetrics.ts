import fs from 'node:fs';
import client from 'prom-client';
import { INVITE_OUTCOMES, type CallService } from '../calls';
import type { NodeRegistry } from '../cluster';
import type { MetricsConfig } from '../config';
import { ERROR_CODES } from '../errors';
import type { WorkerPool } from '../media';
import type { RoomRegistry } from '../rooms';
import type { Store } from '../store';
import { requests, type SignalingEvents } from '../signaling';
import type { TypedEmitter } from '../util';
import type { Webhooks } from '../webhooks';
import { CapacityEstimator } from './CapacityEstimator';
import { PipeSampler, type PipeSource } from './PipeSampler';
import { StatsSampler } from './StatsSampler';
import { webhookMetrics } from './webhookMetrics';

export type Metrics = {
	registry: client.Registry;
	/** Counts signaling requests and errors from the signaling server's observer. */
	watchSignaling(observer: TypedEmitter<SignalingEvents>): void;
	/** One stats sample now (tests; the timer does it every metrics.statsIntervalMs). */
	sampleNow(): Promise<void>;
	/** The last capacity estimate (switchyard_capacity_consumers); undefined before there is one. */
	headroom(): number | undefined;
	close(): void;
};

export type MetricsDeps = {
	pool: WorkerPool;
	registry?: RoomRegistry;
	calls?: CallService;
	store?: Store;
	cluster?: NodeRegistry;
	/** The inter-node pipes of a fleet's node (switchyard_cluster_pipe*); a node alone has none. */
	pipes?: PipeSource;
	/** The node's webhooks, if webhooks.urls is set. */
	webhooks?: Webhooks;
	config: MetricsConfig;
};

const KINDS = ['audio', 'video'] as const;

/**
 * The node's Prometheus registry. Gauges read state when scraped; counters
 * follow observers; transport and consumer stats are sampled on a timer
 * (StatsSampler), and so are the inter-node pipes' (PipeSampler). Names
 * carry `switchyard_` and base units; no label takes a room, peer or call
 * id, and labelled counters start at zero for every known label value, so a
 * quiet node shows zeros rather than no data.
 */
export function createMetrics({ pool, registry: rooms, calls, store, cluster, pipes, webhooks, config }: MetricsDeps): Metrics {
	const registry = new client.Registry();
	client.collectDefaultMetrics({ register: registry });
	const registers = [registry];
	const estimator = new CapacityEstimator();

	new client.Gauge({
		name: 'switchyard_workers', help: 'Live mediasoup workers.', registers,
		collect() {
			this.set(pool.workers.length);
		},
	});
	const restarts = new client.Counter({ name: 'switchyard_worker_restarts_total', help: 'Replacement workers started after a worker died.', registers });
	const deaths = new client.Counter({ name: 'switchyard_worker_deaths_total', help: 'mediasoup workers that died unexpectedly.', registers });
	const workerCpu = new client.Counter({ name: 'switchyard_worker_cpu_seconds_total', help: 'CPU time used by each mediasoup worker.', labelNames: ['worker'], registers });
	const workerMemory = new client.Gauge({ name: 'switchyard_worker_memory_bytes', help: 'Resident memory of each mediasoup worker.', labelNames: ['worker'], registers });
	const workerCpuUtil = new client.Gauge({ name: 'switchyard_worker_cpu_utilization', help: 'Share of one core each worker used over its last usage sample (0-1).', labelNames: ['worker'], registers });
	new client.Gauge({
		name: 'switchyard_routers', help: 'mediasoup routers.', registers,
		collect() {
			this.set(sum(pool, (w) => w.load.routers));
		},
	});
	new client.Gauge({
		name: 'switchyard_transports', help: 'mediasoup transports (WebRTC and pipe).', registers,
		collect() {
			this.set(sum(pool, (w) => w.load.transports));
		},
	});
	new client.Gauge({
		name: 'switchyard_producers', help: 'mediasoup producers by kind (pipe producers included).', labelNames: ['kind'], registers,
		collect() {
			for (const kind of KINDS) {
				this.set({ kind }, sum(pool, (w) => w.load.byKind[kind].producers));
			}
		},
	});
	new client.Gauge({
		name: 'switchyard_consumers', help: 'mediasoup consumers by kind (pipe consumers included).', labelNames: ['kind'], registers,
		collect() {
			for (const kind of KINDS) {
				this.set({ kind }, sum(pool, (w) => w.load.byKind[kind].consumers));
			}
		},
	});
	new client.Gauge({
		name: 'switchyard_rooms', help: 'Open rooms.', registers,
		collect() {
			this.set(rooms?.size ?? 0);
		},
	});
	new client.Gauge({
		name: 'switchyard_peers', help: 'Peers in rooms (connected or within their reconnect grace).', registers,
		collect() {
			this.set(rooms?.peerCount ?? 0);
		},
	});
	new client.Gauge({
		name: 'switchyard_store_available', help: 'Whether the account store answers (0 from a query that found it unreachable until one succeeds), by store kind.',
		labelNames: ['store'], registers,
		collect() {
			const health = store?.health();
			this.reset();
			if (health) {
				this.set({ store: health.kind }, health.available ? 1 : 0);
			}
		},
	});
	new client.Gauge({
		name: 'switchyard_store_connections', help: 'PostgreSQL pool connections: open (total), idle, and requests waiting for one (0 on SQLite).',
		labelNames: ['state'], registers,
		collect() {
			const connections = store?.health().connections ?? { total: 0, idle: 0, waiting: 0 };
			for (const [state, value] of Object.entries(connections)) {
				this.set({ state }, value);
			}
		},
	});
	new client.Gauge({
		name: 'switchyard_cluster_nodes', help: 'Nodes of the fleet this node hears from (itself included); 0 alone or while Redis is away.', registers,
		collect() {
			this.set(cluster?.available ? cluster.nodes.length : 0);
		},
	});
	new client.Gauge({
		name: 'switchyard_cluster_available', help: 'Whether this node reaches the fleet\'s Redis (1) or not (0); 0 on a node alone.', registers,
		collect() {
			this.set(cluster?.available ? 1 : 0);
		},
	});
	new client.Gauge({
		// NOTE: one series per node of the fleet: bounded by the fleet's size, not by traffic.
		name: 'switchyard_cluster_node_headroom', help: 'Consumers each node of the fleet says it can still take (its switchyard_capacity_consumers).',
		labelNames: ['node'], registers,
		collect() {
			this.reset();
			for (const node of cluster?.available ? cluster.nodes : []) {
				if (node.headroom !== null) {
					this.set({ node: node.id }, node.headroom);
				}
			}
		},
	});
	new client.Gauge({
		// NOTE: one series per node of the fleet, as the headroom.
		name: 'switchyard_cluster_node_rooms', help: 'Rooms each node of the fleet says it hosts (a room lives on one node).',
		labelNames: ['node'], registers,
		collect() {
			this.reset();
			for (const node of cluster?.available ? cluster.nodes : []) {
				this.set({ node: node.id }, node.rooms);
			}
		},
	});
	new client.Gauge({
		name: 'switchyard_calls_active', help: 'Calls ringing or in progress.', registers,
		collect() {
			this.set(calls?.activeCalls ?? 0);
		},
	});
	const capacity = new client.Gauge({
		name: 'switchyard_capacity_consumers',
		help: 'Consumers the node can still take before its workers reach metrics.targetCpu, estimated from measured CPU per consumer.',
		registers,
	});
	const cpuPerConsumer = new client.Gauge({
		name: 'switchyard_cpu_per_consumer', help: 'Estimated share of a core one consumer costs (online fit of worker CPU against consumers).', registers,
	});
	new client.Gauge({
		name: 'switchyard_capacity_target_cpu', help: 'The per-worker CPU target capacity planning uses (metrics.targetCpu).', registers,
		collect() {
			this.set(config.targetCpu);
		},
	});

	const roomSize = new client.Histogram({
		name: 'switchyard_room_size', help: 'Size of the room a peer joined, counting the peer.',
		buckets: [1, 2, 3, 4, 6, 8, 12, 16, 25, 50, 100], registers,
	});
	const joinDuration = new client.Histogram({
		name: 'switchyard_join_duration_seconds', help: 'From room.join received to the peer\'s first consumer resumed.',
		buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers,
	});
	const requestsTotal = new client.Counter({ name: 'switchyard_signaling_requests_total', help: 'Signaling requests answered, by method.', labelNames: ['method'], registers });
	const errorsTotal = new client.Counter({ name: 'switchyard_signaling_errors_total', help: 'Signaling requests refused, by method and error code.', labelNames: ['method', 'code'], registers });
	const requestSeconds = new client.Histogram({
		name: 'switchyard_signaling_request_duration_seconds', help: 'Time to answer a signaling request, by method.', labelNames: ['method'],
		buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers,
	});
	const callOutcomes = new client.Counter({ name: 'switchyard_call_outcomes_total', help: 'Caller outcomes of call invites, one per callee.', labelNames: ['outcome'], registers });
	const limitHits = new client.Counter({
		name: 'switchyard_limit_hits_total', help: 'Abuse limits crossed, by limit (room and peer limits also count as signaling errors limit_exceeded).',
		labelNames: ['limit'], registers,
	});
	for (const limit of ['messagesPerSecond', 'connectionsPerIp', 'consumersPerPeer']) {
		limitHits.inc({ limit }, 0);
	}
	const invites = new client.Counter({ name: 'switchyard_call_invites_total', help: 'Callees rung by call invites.', registers });
	const reports = new client.Counter({ name: 'switchyard_call_reports_total', help: 'Spam reports; counted: the reported account had rung the reporter within 30 days.', labelNames: ['counted'], registers });
	const restricted = new client.Counter({
		name: 'switchyard_call_invites_restricted_total', help: 'Invites denied because the caller rings only those who vouch for it: a new account, or one reported enough (the cool-down).',
		labelNames: ['reason'], registers,
	});
	for (const counted of ['true', 'false']) {
		reports.inc({ counted }, 0);
	}
	for (const reason of ['newAccount', 'reported']) {
		restricted.inc({ reason }, 0);
	}

	const methods = [...Object.keys(requests), 'unknown'];
	for (const method of methods) {
		requestsTotal.inc({ method }, 0);
	}
	for (const method of methods) {
		for (const code of Object.keys(ERROR_CODES)) {
			errorsTotal.inc({ method, code }, 0);
		}
	}
	for (const outcome of INVITE_OUTCOMES) {
		callOutcomes.inc({ outcome }, 0);
	}

	const onReplaced = () => restarts.inc();
	const onDied = () => deaths.inc();
	pool.observer.on('workerReplaced', onReplaced);
	pool.observer.on('workerDied', onDied);
	const layerSwitches = new client.Counter({
		name: 'switchyard_policy_layer_switches_total',
		help: 'Spatial layer changes the bitrate policy made (applied) or held back for the key-frame spacing (deferred).',
		labelNames: ['result'], registers,
	});
	for (const result of ['applied', 'deferred']) {
		layerSwitches.inc({ result }, 0);
	}
	const dynacast = new client.Counter({ name: 'switchyard_policy_encodings_updates_total', help: 'producer.encodings (dynacast) sent to publishers.', registers });
	new client.Gauge({
		name: 'switchyard_policy_paused_consumers', help: 'Consumers the bitrate policy has paused (hidden tiles, downlinks too small).', registers,
		collect() {
			this.set([...rooms?.rooms() ?? []].reduce((n, room) => n + room.policyPausedConsumers, 0));
		},
	});
	rooms?.observer.on('roomCreated', (room) => {
		room.observer.on('layerSwitch', (deferred) => layerSwitches.inc({ result: deferred ? 'deferred' : 'applied' }));
		room.observer.on('encodings', () => dynacast.inc());
		room.observer.on('peerJoined', () => roomSize.observe(room.peers.size));
		room.observer.on('firstConsumer', (_peer, seconds) => joinDuration.observe(seconds));
		room.observer.on('limitReached', (limit) => limitHits.inc({ limit }));
	});
	calls?.observer.on('outcome', (outcome) => callOutcomes.inc({ outcome }));
	calls?.observer.on('invited', (_callId, ringing) => invites.inc(ringing));
	calls?.observer.on('report', (counted) => reports.inc({ counted: String(counted) }));
	calls?.observer.on('restricted', (reason) => restricted.inc({ reason }));
	webhookMetrics(webhooks, registers);

	const sampler = new StatsSampler({ registry, rooms });
	const pipeSampler = new PipeSampler({ registry, pool, pipes });
	const lastCpu = new Map<number, number>();
	/** The CPU sample of each worker (by pid) the estimator saw last: each one feeds it once. */
	const estimated = new Map<number, number>();
	const sampleWorkers = async () => {
		await pool.sampleUsage();
		for (const worker of pool.workers) {
			const label = { worker: String(worker.index) };
			// A replacement worker starts from zero: count only growth.
			const previous = lastCpu.get(worker.pid) ?? 0;
			if (worker.cpuSeconds > previous) {
				workerCpu.inc(label, worker.cpuSeconds - previous);
			}
			lastCpu.set(worker.pid, worker.cpuSeconds);
			workerCpuUtil.set(label, worker.load.cpu);
			const rss = residentBytes(worker.pid);
			if (rss !== undefined) {
				workerMemory.set(label, rss);
			}
			// NOTE: only a fresh sample over a steady consumer count: a sample over a
			// ramp pairs the new count with CPU mostly spent at the old one.
			if (worker.cpuSamples !== estimated.get(worker.pid) && worker.cpuSampleSteady) {
				estimator.add({ consumers: worker.load.consumers, cpu: worker.load.cpu });
			}
			estimated.set(worker.pid, worker.cpuSamples);
		}
		const perConsumer = estimator.cpuPerConsumer();
		const headroom = estimator.headroom(pool.workers.map((w) => ({ consumers: w.load.consumers, cpu: w.load.cpu })), config.targetCpu);
		if (perConsumer !== undefined && headroom !== undefined) {
			cpuPerConsumer.set(perConsumer);
			capacity.set(headroom);
			lastHeadroom = headroom;
		}
	};
	let lastHeadroom: number | undefined;
	const sampleNow = async () => {
		await Promise.all([sampleWorkers(), sampler.sample(), pipeSampler.sample()]);
	};
	const timer = setInterval(() => void sampleNow().catch(() => undefined), config.statsIntervalMs);
	timer.unref();

	return {
		registry,
		headroom: () => lastHeadroom,
		watchSignaling(observer) {
			observer.on('limit', (limit) => limitHits.inc({ limit }));
			observer.on('request', (method, code, seconds) => {
				requestsTotal.inc({ method });
				requestSeconds.observe({ method }, seconds);
				if (code) {
					errorsTotal.inc({ method, code });
				}
			});
		},
		sampleNow,
		close() {
			clearInterval(timer);
			pipeSampler.close();
			pool.observer.off('workerReplaced', onReplaced);
			pool.observer.off('workerDied', onDied);
		},
	};
}

function sum(pool: WorkerPool, of: (worker: WorkerPool['workers'][number]) => number): number {
	return pool.workers.reduce((total, worker) => total + of(worker), 0);
}

/** A process's resident memory from /proc (Linux), or undefined. */
function residentBytes(pid: number): number | undefined {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
		return kb === undefined ? undefined : Number(kb) * 1024;
	} catch {
		return undefined;
	}
}

