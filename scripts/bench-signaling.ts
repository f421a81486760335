/**
 * Signaling latency benchmark: many peers join rooms over socket.io and set
 * up their media objects, and the ack latencies are measured on the client.
 *
 *   node --import tsx scripts/bench-signaling.ts [--peers 200] [--room-size 10]
 *     [--url http://127.0.0.1:3000] [--concurrency 10] [--timeout-seconds 120] [--json]
 *
 * Each peer gets a dev token (POST /api/dev/token), connects (websocket only),
 * and sends media.capabilities, room.join, transport.create send and recv, and
 * producer.create audio (Opus) and video (VP8) with RTP parameters only: no
 * media flows and no transport connects. It acknowledges every consumer.new.
 * Peers fill rooms of --room-size in order, at most --concurrency at a time.
 * Once all are in, it waits (bounded) for every peer to be offered a consumer
 * of each producer of the others, then every peer leaves and disconnects.
 *
 * Without --url it starts a node of its own (`node --import tsx src/main.ts`)
 * on free ports of 127.0.0.1 with SWITCHYARD_LOG_LEVEL=warn, a temporary store,
 * and the per-address connection and dev token limits raised above --peers
 * (every peer connects from 127.0.0.1), and SIGTERMs it at the end.
 *
 * Exits 1 on any refused or timed-out request, a missing consumer, or the
 * timeout; 0 otherwise. With --json the last line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import {
	PROTOCOL_VERSION, type Ack, type RequestData, type RequestName, type ResponseData, type ServerEventData,
} from '../src/signaling/protocol';
import { findFreePorts, freeTcpPort } from '../test/helpers/ports';
import { opusParameters, vp8Parameters } from '../test/helpers/rtp';

const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
const LEAVE_TIMEOUT_MS = 3_000;
const SETTLE_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const ROOT = path.resolve(__dirname, '..');

type Options = { peers: number; roomSize: number; url: string | undefined; concurrency: number; timeoutSeconds: number; json: boolean };

type Stats = { count: number; p50: number; p95: number; p99: number; max: number };

type PeerState = {
	index: number;
	roomId: string;
	socket?: Socket;
	joinSentAt?: number;
	joined: boolean;
	/** room.join answered with at least one producer of another peer already in the room. */
	joinedIntoProducers: boolean;
	firstConsumerMs?: number;
	consumers: number;
	consumersClosed: number;
	produced: boolean;
};

/** A refused, timed-out or aborted request, with the code it counts under. */
class BenchError extends Error {
	constructor(readonly code: string, message: string) {
		super(message);
	}
}

class UsageError extends Error {}

/** Latency samples (ms) by request name, errors by code, and the first few error messages. */
class Recorder {
	readonly latencies = new Map<string, number[]>();
	readonly errors = new Map<string, number>();
	readonly errorSamples: string[] = [];

	sample(name: string, ms: number): void {
		let list = this.latencies.get(name);
		if (!list) {
			list = [];
			this.latencies.set(name, list);
		}
		list.push(ms);
	}

	error(code: string, message: string): void {
		this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
		if (this.errorSamples.length < 10) {
			this.errorSamples.push(`${code}: ${message}`);
		}
	}
}

const OPTIONS = {
	peers: { type: 'string', default: '200' },
	'room-size': { type: 'string', default: '10' },
	url: { type: 'string' },
	concurrency: { type: 'string', default: '10' },
	'timeout-seconds': { type: 'string', default: '120' },
	json: { type: 'boolean', default: false },
} as const;

function parseOptions(): Options {
	let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
	try {
		({ values } = parseArgs({ options: OPTIONS }));
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const whole = (name: string, raw: string, min: number, max: number): number => {
		const value = Number(raw);
		if (!Number.isInteger(value) || value < min || value > max) {
			throw new UsageError(`--${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
		}
		return value;
	};
	return {
		peers: whole('peers', values.peers, 1, 5000),
		roomSize: whole('room-size', values['room-size'], 1, 1000),
		url: values.url?.replace(/\/+$/, ''),
		concurrency: whole('concurrency', values.concurrency, 1, 1000),
		timeoutSeconds: whole('timeout-seconds', values['timeout-seconds'], 1, 3600),
		json: values.json,
	};
}

function stats(samples: number[]): Stats {
	const sorted = [...samples].sort((a, b) => a - b);
	const at = (p: number) => sorted.length === 0 ? NaN : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
	return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: at(100) };
}

/** Resolves with `promise`, or rejects once `signal` aborts (the promise is left to settle on its own). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
	if (signal.aborted) {
		return Promise.reject(new BenchError('aborted', 'the benchmark timed out'));
	}
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(new BenchError('aborted', 'the benchmark timed out'));
		signal.addEventListener('abort', onAbort, { once: true });
		promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
	});
}

async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends one request, records its ack latency (and its error code if refused), and returns its data. */
async function request<N extends RequestName>(socket: Socket, recorder: Recorder, signal: AbortSignal, name: N, data: RequestData<N>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ResponseData<N>> {
	const started = performance.now();
	let reply: Ack<unknown>;
	try {
		reply = await unlessAborted(socket.timeout(timeoutMs).emitWithAck(name, data) as Promise<Ack<unknown>>, signal);
	} catch (error) {
		const code = error instanceof BenchError ? error.code : 'timeout';
		recorder.error(code, `${name}: ${(error as Error).message}`);
		throw new BenchError(code, `${name}: ${(error as Error).message}`);
	}
	recorder.sample(name, performance.now() - started);
	if (!reply || reply.ok !== true) {
		const wire = reply && reply.ok === false ? reply.error : { code: 'malformed_ack', message: JSON.stringify(reply).slice(0, 200) };
		recorder.error(wire.code, `${name}: ${wire.message}`);
		throw new BenchError(wire.code, `${name}: ${wire.message}`);
	}
	return reply.data as ResponseData<N>;
}

async function devToken(url: string, name: string, room: string, recorder: Recorder, signal: AbortSignal): Promise<string> {
	const started = performance.now();
	try {
		const res = await fetch(`${url}/api/dev/token`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ name, room }),
			signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
		});
		const body = await res.json() as { token?: string; error?: { code?: string; message?: string } };
		if (!res.ok || typeof body.token !== 'string') {
			throw new BenchError(body.error?.code ?? `http_${res.status}`, `POST /api/dev/token: ${res.status} ${body.error?.message ?? ''}`);
		}
		recorder.sample('POST /api/dev/token', performance.now() - started);
		return body.token;
	} catch (error) {
		const bench = error instanceof BenchError ? error : new BenchError(signal.aborted ? 'aborted' : 'http_failed', `POST /api/dev/token: ${(error as Error).message}`);
		recorder.error(bench.code, bench.message);
		throw bench;
	}
}

async function connect(url: string, token: string, recorder: Recorder, signal: AbortSignal): Promise<Socket> {
	const socket = io(url, {
		transports: ['websocket'],
		auth: { token, protocol: PROTOCOL_VERSION },
		// NOTE: forceNew, or socket.io-client shares one connection (and its auth) per URL.
		forceNew: true,
		reconnection: false,
		autoConnect: false,
		timeout: CONNECT_TIMEOUT_MS,
	});
	const started = performance.now();
	try {
		await unlessAborted(new Promise<void>((resolve, reject) => {
			socket.once('connect', () => resolve());
			socket.once('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
				reject(new BenchError(error.data?.code ?? 'connect_error', `connect: ${error.data?.message ?? error.message}`));
			});
			socket.connect();
		}), signal);
	} catch (error) {
		socket.disconnect();
		const bench = error instanceof BenchError ? error : new BenchError('connect_error', String(error));
		if (!bench.message.startsWith('connect')) {
			bench.message = `connect: ${bench.message}`;
		}
		recorder.error(bench.code, bench.message);
		throw bench;
	}
	recorder.sample('connect (handshake)', performance.now() - started);
	return socket;
}

/** One peer's whole setup; every consumer.new it is offered is acknowledged at once. */
async function runPeer(peer: PeerState, url: string, recorder: Recorder, signal: AbortSignal): Promise<void> {
	const token = await devToken(url, `bench-${peer.index}`, peer.roomId, recorder, signal);
	const socket = await connect(url, token, recorder, signal);
	peer.socket = socket;
	socket.on('consumer.new', (_data: ServerEventData<'consumer.new'>, ack?: (reply: Ack<Record<string, never>>) => void) => {
		if (peer.firstConsumerMs === undefined && peer.joinSentAt !== undefined) {
			peer.firstConsumerMs = performance.now() - peer.joinSentAt;
		}
		peer.consumers++;
		ack?.({ ok: true, data: {} });
	});
	socket.on('consumer.closed', () => {
		peer.consumersClosed++;
	});
	const call = <N extends RequestName>(name: N, data: RequestData<N>) => request(socket, recorder, signal, name, data);

	const { routerRtpCapabilities } = await call('media.capabilities', {});
	peer.joinSentAt = performance.now();
	const joined = await call('room.join', { roomId: peer.roomId, rtpCapabilities: routerRtpCapabilities as RequestData<'room.join'>['rtpCapabilities'] });
	peer.joined = true;
	peer.joinedIntoProducers = joined.peers.some((p) => p.producers.length > 0);
	const send = await call('transport.create', { direction: 'send' });
	await call('transport.create', { direction: 'recv' });
	// SSRCs unique across the run (they need only be unique per transport).
	const ssrc = 100_000 + peer.index * 2;
	type Rtp = RequestData<'producer.create'>['rtpParameters'];
	await call('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(ssrc) as Rtp, source: 'mic' });
	await call('producer.create', { transportId: send.id, kind: 'video', rtpParameters: vp8Parameters(ssrc + 1) as Rtp, source: 'camera' });
	peer.produced = true;
}

/** Peers that produced both kinds, by room: each should be offered 2 consumers per other such peer. */
function expectedConsumers(peers: PeerState[]): Map<PeerState, number> {
	const producedByRoom = new Map<string, number>();
	for (const peer of peers) {
		if (peer.produced) {
			producedByRoom.set(peer.roomId, (producedByRoom.get(peer.roomId) ?? 0) + 1);
		}
	}
	return new Map(peers.filter((p) => p.produced && p.socket?.connected).map((p) => [p, 2 * ((producedByRoom.get(p.roomId) ?? 1) - 1)]));
}

// --- The node under test -----------------------------------------------------

/** `output`: the node's last log lines; `warnings`: its warn and error lines (numbers as N) with their counts. */
type Node = { url: string; child?: ChildProcess; output: string[]; warnings: Map<string, number>; tempDir?: string };

async function startNode(peers: number): Promise<Node> {
	const raw = process.env.SWITCHYARD_MEDIA_WORKERS;
	const workers = raw && raw !== 'auto' ? Number(raw) : os.availableParallelism();
	const [port, mediaPort] = [await freeTcpPort(), await findFreePorts(Number.isInteger(workers) && workers > 0 ? workers : 1)];
	const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
	const env: NodeJS.ProcessEnv = {
		...process.env,
		PORT: String(port),
		MEDIA_PORT: String(mediaPort),
		SWITCHYARD_HTTP_HOST: '127.0.0.1',
		SWITCHYARD_MEDIA_LISTEN_IP: '127.0.0.1',
		SWITCHYARD_LOG_LEVEL: 'warn',
		SWITCHYARD_STORE_PATH: path.join(tempDir, 'switchyard.db'),
		// NOTE: every peer connects from 127.0.0.1; the default (50) would refuse the rest.
		SWITCHYARD_SIGNALING_CONNECTIONS_PER_IP: process.env.SWITCHYARD_SIGNALING_CONNECTIONS_PER_IP ?? String(Math.max(50, peers + 10)),
		// NOTE: and every peer asks for a dev token from there too (default 10 a minute).
		SWITCHYARD_AUTH_DEV_TOKENS_PER_MINUTE: process.env.SWITCHYARD_AUTH_DEV_TOKENS_PER_MINUTE ?? String(Math.max(10, peers + 10)),
	};
	const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
	const output: string[] = [];
	const warnings = new Map<string, number>();
	const keep = (chunk: Buffer) => {
		for (const line of chunk.toString().split('\n')) {
			if (line.trim() === '') {
				continue;
			}
			output.push(line);
			if (output.length > 50) {
				output.shift();
			}
			if (/\b(warn|error)\b/i.test(line)) {
				const key = line.replace(/^\S*\d{4}-\d\d-\d\dT\S+\s*/, '').replace(/\d+/g, 'N').slice(0, 300);
				if (warnings.has(key) || warnings.size < 100) {
					warnings.set(key, (warnings.get(key) ?? 0) + 1);
				}
			}
		}
	};
	child.stdout!.on('data', keep);
	child.stderr!.on('data', keep);
	return { url: `http://127.0.0.1:${port}`, child, output, warnings, tempDir };
}

/** Waits for /readyz 200 and returns its body; fails if the child exits first. */
async function waitReady(node: Node, signal: AbortSignal): Promise<{ workers?: { pid?: number }[] }> {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	let last = 'no answer';
	while (Date.now() < deadline && !signal.aborted) {
		if (node.child && node.child.exitCode !== null) {
			throw new Error(`the node exited with code ${node.child.exitCode} before it was ready:\n${node.output.slice(-30).join('\n')}`);
		}
		try {
			const res = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2000) });
			const body = await res.json() as { workers?: { pid?: number }[] };
			if (res.status === 200) {
				return body;
			}
			last = `${res.status} ${JSON.stringify(body)}`;
		} catch (error) {
			last = (error as Error).message;
		}
		await sleep(200);
	}
	throw new Error(`${node.url}/readyz not 200 (last: ${last})\n${node.output.slice(-30).join('\n')}`);
}

async function stopNode(node: Node): Promise<{ exitCode: number | null; seconds: number }> {
	const started = Date.now();
	const child = node.child;
	let exitCode: number | null = null;
	if (child && child.exitCode === null && child.signalCode === null) {
		const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
		exitCode = await exited;
		clearTimeout(timer);
	} else if (child) {
		exitCode = child.exitCode;
	}
	if (node.tempDir) {
		fs.rmSync(node.tempDir, { recursive: true, force: true });
	}
	return { exitCode, seconds: (Date.now() - started) / 1000 };
}

/** Prometheus sums and counts of a histogram, by `method` label (or '' without one). */
async function scrapeHistograms(url: string, names: string[]): Promise<Map<string, { sum: number; count: number }> | undefined> {
	try {
		const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
		if (!res.ok) {
			return undefined;
		}
		const out = new Map<string, { sum: number; count: number }>();
		for (const line of (await res.text()).split('\n')) {
			const match = /^(\w+)_(sum|count)(?:\{(?:method="([^"]*)")?[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
			if (!match || !names.includes(match[1]!)) {
				continue;
			}
			const key = `${match[1]}|${match[3] ?? ''}`;
			const entry = out.get(key) ?? { sum: 0, count: 0 };
			entry[match[2] as 'sum' | 'count'] = Number(match[4]);
			out.set(key, entry);
		}
		return out;
	} catch {
		return undefined;
	}
}

/** CPU seconds (user + system) a process on this machine has used, from /proc; undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
	if (pid === undefined) {
		return undefined;
	}
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// NOTE: utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
		return (Number(fields[11]) + Number(fields[12])) / 100;
	} catch {
		return undefined;
	}
}

// --- Run and report ------------------------------------------------------------

async function main(): Promise<number> {
	const options = parseOptions();
	// NOTE: taken before the node starts; other work on the machine skews every figure.
	const loadAtStart = os.loadavg();
	const abort = new AbortController();
	const deadline = setTimeout(() => abort.abort(), options.timeoutSeconds * 1000);
	process.once('SIGINT', () => abort.abort());
	const recorder = new Recorder();
	const runId = randomBytes(3).toString('hex');
	const peers: PeerState[] = Array.from({ length: options.peers }, (_, index) => ({
		index,
		roomId: `bench-${runId}-${Math.floor(index / options.roomSize)}`,
		joined: false,
		joinedIntoProducers: false,
		consumers: 0,
		consumersClosed: 0,
		produced: false,
	}));
	const node: Node = options.url ? { url: options.url, output: [], warnings: new Map() } : await startNode(options.peers);
	let failure: string | undefined;
	let stopped: { exitCode: number | null; seconds: number } | undefined;
	let workers: number | undefined;
	let runSeconds = 0;
	let cpu: { node?: number; workers: (number | undefined)[]; bench: number } | undefined;
	let serverSide: Record<string, { count: number; meanMs: number }> = {};
	let consumersMissing = 0;
	let closedBeforeLeave = 0;
	try {
		const ready = await waitReady(node, abort.signal);
		workers = ready.workers?.length;
		const workerPids = (ready.workers ?? []).map((w) => w.pid);
		const histograms = ['switchyard_signaling_request_duration_seconds', 'switchyard_join_duration_seconds'];
		const before = await scrapeHistograms(node.url, histograms);
		const cpuBefore = { node: cpuSeconds(node.child?.pid), workers: workerPids.map(cpuSeconds), bench: process.cpuUsage() };
		const started = performance.now();

		// At most `concurrency` peers set up at once, in order, so rooms fill one after another.
		let next = 0;
		await Promise.all(Array.from({ length: Math.min(options.concurrency, peers.length) }, async () => {
			while (next < peers.length && !abort.signal.aborted) {
				const peer = peers[next++]!;
				await runPeer(peer, node.url, recorder, abort.signal).catch(() => undefined);
			}
		}));

		// Every consumer is offered asynchronously after producer.create: wait for them, bounded.
		const expected = expectedConsumers(peers);
		const settleUntil = Date.now() + SETTLE_TIMEOUT_MS;
		const missing = () => [...expected].reduce((sum, [peer, n]) => sum + Math.max(0, n - peer.consumers), 0);
		while (missing() > 0 && Date.now() < settleUntil && !abort.signal.aborted) {
			await sleep(20);
		}
		consumersMissing = missing();
		closedBeforeLeave = peers.reduce((sum, p) => sum + p.consumersClosed, 0);
		runSeconds = (performance.now() - started) / 1000;
		const benchCpu = process.cpuUsage(cpuBefore.bench);
		cpu = {
			node: subtract(cpuSeconds(node.child?.pid), cpuBefore.node),
			workers: workerPids.map((pid, i) => subtract(cpuSeconds(pid), cpuBefore.workers[i])),
			bench: (benchCpu.user + benchCpu.system) / 1e6,
		};
		const after = await scrapeHistograms(node.url, histograms);
		serverSide = histogramDiff(before, after);
	} catch (error) {
		failure = (error as Error).message;
	} finally {
		clearTimeout(deadline);
		// Leave explicitly (a dropped connection keeps its place for the reconnect grace), then disconnect.
		const connected = peers.filter((p) => p.joined && p.socket?.connected);
		let next = 0;
		const leaving = new AbortController();
		await Promise.all(Array.from({ length: Math.min(options.concurrency, connected.length) }, async () => {
			while (next < connected.length) {
				const peer = connected[next++]!;
				await request(peer.socket!, recorder, leaving.signal, 'room.leave', {}, LEAVE_TIMEOUT_MS).catch(() => undefined);
			}
		}));
		for (const peer of peers) {
			peer.socket?.disconnect();
		}
		if (!options.url) {
			stopped = await stopNode(node);
		}
	}

	const consumerCounts = peers.map((p) => p.consumers);
	const firstConsumer = peers.filter((p) => p.firstConsumerMs !== undefined);
	const requestStats = Object.fromEntries([...recorder.latencies].map(([name, samples]) => [name, stats(samples)]));
	const cpus = os.cpus();
	const result = {
		machine: { cpuModel: cpus[0]?.model ?? 'unknown', cpus: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverageAtStart: loadAtStart },
		load: {
			peers: options.peers,
			roomSize: options.roomSize,
			rooms: Math.ceil(options.peers / options.roomSize),
			workers,
			concurrency: options.concurrency,
			url: options.url ?? `${node.url} (started by the benchmark)`,
		},
		seconds: runSeconds,
		peersProduced: peers.filter((p) => p.produced).length,
		roomJoinMs: requestStats['room.join'] ?? stats([]),
		firstConsumerMs: {
			all: stats(firstConsumer.map((p) => p.firstConsumerMs!)),
			joinedIntoProducers: stats(firstConsumer.filter((p) => p.joinedIntoProducers).map((p) => p.firstConsumerMs!)),
		},
		requestsMs: requestStats,
		serverSideMeanMs: serverSide,
		errors: Object.fromEntries(recorder.errors),
		errorSamples: recorder.errorSamples,
		consumers: {
			total: consumerCounts.reduce((a, b) => a + b, 0),
			missing: consumersMissing,
			closedBeforeLeave,
		},
		cpuSeconds: cpu,
		nodeExit: stopped,
		nodeWarnings: [...node.warnings].map(([line, count]) => ({ count, line })).sort((a, b) => b.count - a.count).slice(0, 10),
		aborted: abort.signal.aborted,
		failure,
	};
	const errorCount = [...recorder.errors.values()].reduce((a, b) => a + b, 0);
	const ok = !failure && !result.aborted && errorCount === 0 && consumersMissing === 0 && (stopped?.exitCode ?? 0) === 0;
	process.stdout.write(`${report(result)}\n${ok ? 'PASS' : 'FAIL'}\n`);
	if (options.json) {
		process.stdout.write(`${JSON.stringify({ ...result, passed: ok })}\n`);
	}
	return ok ? 0 : 1;
}

function subtract(a: number | undefined, b: number | undefined): number | undefined {
	return a === undefined || b === undefined ? undefined : a - b;
}

function histogramDiff(before: Map<string, { sum: number; count: number }> | undefined, after: Map<string, { sum: number; count: number }> | undefined): Record<string, { count: number; meanMs: number }> {
	const out: Record<string, { count: number; meanMs: number }> = {};
	for (const [key, value] of after ?? []) {
		const was = before?.get(key) ?? { sum: 0, count: 0 };
		const count = value.count - was.count;
		if (count > 0) {
			const [metric, method] = key.split('|') as [string, string];
			const name = metric === 'switchyard_join_duration_seconds' ? 'room.join -> first consumer resumed' : method;
			out[name] = { count, meanMs: ((value.sum - was.sum) / count) * 1000 };
		}
	}
	return out;
}

function report(r: {
	machine: { cpuModel: string; cpus: number; node: string; platform: string; loadAverageAtStart: number[] };
	load: { peers: number; roomSize: number; rooms: number; workers: number | undefined; concurrency: number; url: string };
	seconds: number;
	peersProduced: number;
	roomJoinMs: Stats;
	firstConsumerMs: { all: Stats; joinedIntoProducers: Stats };
	requestsMs: Record<string, Stats>;
	serverSideMeanMs: Record<string, { count: number; meanMs: number }>;
	errors: Record<string, number>;
	errorSamples: string[];
	consumers: { total: number; missing: number; closedBeforeLeave: number };
	cpuSeconds: { node?: number; workers: (number | undefined)[]; bench: number } | undefined;
	nodeExit: { exitCode: number | null; seconds: number } | undefined;
	nodeWarnings: { count: number; line: string }[];
	aborted: boolean;
	failure: string | undefined;
}): string {
	const ms = (v: number) => Number.isNaN(v) ? '-' : v.toFixed(1);
	const line = (s: Stats) => `p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)} ms  (n=${s.count})`;
	const sec = (v: number | undefined) => v === undefined ? '-' : `${v.toFixed(2)} s`;
	const out = [
		`machine: ${r.machine.cpuModel} x ${r.machine.cpus}, Node ${r.machine.node}, ${r.machine.platform}, load average at start ${r.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
		`load: ${r.load.peers} peers in ${r.load.rooms} rooms of ${r.load.roomSize}, ${r.load.workers ?? '?'} workers, concurrency ${r.load.concurrency}, ${r.load.url}`,
		`set up: ${r.peersProduced}/${r.load.peers} peers produced audio + video in ${r.seconds.toFixed(2)} s`,
		`room.join ack:               ${line(r.roomJoinMs)}`,
		`room.join -> 1st consumer.new, all peers that got one:         ${line(r.firstConsumerMs.all)}`,
		`room.join -> 1st consumer.new, joined a room with producers:   ${line(r.firstConsumerMs.joinedIntoProducers)}`,
		'ack latency by request (client side):',
		...Object.entries(r.requestsMs).map(([name, s]) => `  ${name.padEnd(22)} p50 ${ms(s.p50).padStart(7)}  p95 ${ms(s.p95).padStart(7)}  p99 ${ms(s.p99).padStart(7)}  max ${ms(s.max).padStart(7)} ms  count ${s.count}`),
		'server side, mean time in the handler (from /metrics):',
		...Object.entries(r.serverSideMeanMs).map(([name, v]) => `  ${name.padEnd(22)} ${ms(v.meanMs).padStart(7)} ms  count ${v.count}`),
		`consumers offered and acked: ${r.consumers.total} (missing: ${r.consumers.missing}, closed before the peers left: ${r.consumers.closedBeforeLeave})`,
		`errors: ${Object.keys(r.errors).length === 0 ? 'none' : Object.entries(r.errors).map(([code, n]) => `${code} ${n}`).join(', ')}`,
		...r.errorSamples.map((s) => `  ${s}`),
		`CPU during setup: node ${sec(r.cpuSeconds?.node)}, workers ${r.cpuSeconds?.workers.map(sec).join(' / ') ?? '-'}, benchmark client ${sec(r.cpuSeconds?.bench)}`,
	];
	if (r.nodeExit) {
		out.push(`node stopped: exit code ${r.nodeExit.exitCode} after ${r.nodeExit.seconds.toFixed(1)} s (SIGTERM)`);
	}
	if (r.nodeWarnings.length > 0) {
		out.push('node warn/error log lines (numbers as N):', ...r.nodeWarnings.map((w) => `  ${String(w.count).padStart(5)} x ${w.line}`));
	}
	if (r.aborted) {
		out.push('ABORTED: the timeout passed');
	}
	if (r.failure) {
		out.push(`FAILED: ${r.failure}`);
	}
	return out.join('\n');
}

const USAGE = 'usage: node --import tsx scripts/bench-signaling.ts [--peers 200] [--room-size 10] [--url http://127.0.0.1:3000] [--concurrency 10] [--timeout-seconds 120] [--json]';

main().then((code) => process.exit(code), (error: unknown) => {
	if (error instanceof UsageError) {
		process.stderr.write(`bench-signaling: ${error.message}\n${USAGE}\n`);
		process.exit(2);
	}
	process.stderr.write(`bench-signaling: ${(error as Error).stack ?? String(error)}\n`);
	process.exit(1);
});
