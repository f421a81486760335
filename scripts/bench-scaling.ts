/**
 * How a room's cost spreads over nodes, measured with network namespaces as
 * hosts (docs/scaling.md):
 *
 *   sudo npm run bench:scaling -- [--nodes 3] [--repeats 1] [--worker-core 0] [--control-core 1]
 *     [--room-size 6] [--meeting-steps 4] [--listeners 20] [--broadcast-steps 6]
 *     [--settle-seconds 3] [--window-seconds 8] [--cpu-limit 0.8] [--target-cpu 0.8]
 *     [--sample-every 5] [--max-minutes 40] [--only meeting|broadcast] [--json]
 *
 * Root only (ip netns); never in CI. It makes one network namespace a node
 * (scripts/scaling/hosts.ts) on a bridge of its own, starts a Redis and a
 * PostgreSQL on the bridge and a Switchyard node in each namespace
 * (scripts/scaling/fleet.ts: one worker each, pinned to --worker-core; every
 * other process on --control-core), and drives them with the load test's
 * synthetic media through the real signaling (scripts/loadtest/). Each
 * repeat runs, for 1, 2, ... --nodes nodes in turn (interleaved, so that the
 * ratios share the machine's noise):
 *
 * - a meeting: rooms of --room-size where everyone publishes audio+video and
 *   receives the others, one room more each step, each room's peers dealt
 *   round robin over the nodes: µs of worker CPU per packet delivered;
 * - a broadcast: one publisher on node 1, --listeners more listeners each
 *   step dealt round robin over the nodes: each node's worker CPU per
 *   subscriber and the subscribers per core it implies (derived with the
 *   capacity estimator's linear fit), and the one-way latency of the audio
 *   to each node's listeners (a pipe hop's is the difference).
 *
 * Steps stop when the workers (all on one core) pass --cpu-limit. Everything
 * it made is removed at the end, on a failure and on SIGINT/SIGTERM; what a
 * killed run left is removed by the next. With --json the last line is one
 * JSON object.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { alive } from '../test/helpers/processes';
import { FleetTarget, roundRobin } from './loadtest/fleetTarget';
import { NodeTarget } from './loadtest/nodeTarget';
import { Pacer } from './loadtest/publisher';
import { pin, processCpuSeconds, runLoad, type RunResult, type StepResult } from './loadtest/run';
import type { Scenario } from './loadtest/scenarios';
import { Sink } from './loadtest/sink';
import { LatencyProbe, measurable, perNodeCost, sum, usPerPacket, type NodeCost, type Percentiles } from './scaling/figures';
import { ScalingFleet } from './scaling/fleet';
import { Hosts, removeStale } from './scaling/hosts';

const OPTIONS = {
	nodes: { type: 'string', default: '3' },
	repeats: { type: 'string', default: '1' },
	'worker-core': { type: 'string', default: '0' },
	'control-core': { type: 'string', default: '1' },
	'room-size': { type: 'string', default: '6' },
	'meeting-steps': { type: 'string', default: '4' },
	listeners: { type: 'string', default: '20' },
	'broadcast-steps': { type: 'string', default: '6' },
	'settle-seconds': { type: 'string', default: '3' },
	'window-seconds': { type: 'string', default: '8' },
	'cpu-limit': { type: 'string', default: '0.8' },
	'target-cpu': { type: 'string', default: '0.8' },
	'sample-every': { type: 'string', default: '5' },
	'max-minutes': { type: 'string', default: '40' },
	/** Only the meetings (a) or only the broadcasts (b and c). */
	only: { type: 'string' },
	json: { type: 'boolean', default: false },
} as const;
const MAX_LOSS = 0.02;
const AV = ['audio', 'video'] as const;

function parse() {
	const { values } = parseArgs({ options: OPTIONS });
	const number = (name: Exclude<keyof typeof OPTIONS, 'json' | 'only'>, min: number, max: number, integer = true): number => {
		const raw = values[name];
		const value = Number(raw);
		if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
			throw new Error(`--${name}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
		}
		return value;
	};
	const cores = os.cpus().length;
	if (values.only !== undefined && values.only !== 'meeting' && values.only !== 'broadcast') {
		throw new Error(`--only: expected meeting or broadcast, got ${JSON.stringify(values.only)}`);
	}
	return {
		only: values.only as 'meeting' | 'broadcast' | undefined,
		nodes: number('nodes', 1, 6), repeats: number('repeats', 1, 5),
		workerCore: number('worker-core', 0, cores - 1), controlCore: number('control-core', 0, cores - 1),
		roomSize: number('room-size', 2, 30), meetingSteps: number('meeting-steps', 1, 20),
		listeners: number('listeners', 1, 200), broadcastSteps: number('broadcast-steps', 1, 20),
		settleSeconds: number('settle-seconds', 0, 60, false), windowSeconds: number('window-seconds', 1, 120, false),
		cpuLimit: number('cpu-limit', 0.05, 1, false), targetCpu: number('target-cpu', 0.05, 1, false),
		sampleEvery: number('sample-every', 1, 100), maxMinutes: number('max-minutes', 1, 240, false),
		json: values.json,
	};
}
type Options = ReturnType<typeof parse>;

const meeting = (tag: string, roomSize: number): Scenario => ({
	name: 'small',
	describe: `one room of ${roomSize} more per step, everyone publishes audio+video and receives the others`,
	step: (index) => Array.from({ length: roomSize }, () => ({ room: `${tag}-${index}`, publish: AV, subscribe: true })),
});

const broadcast = (tag: string, listeners: number): Scenario => ({
	name: 'broadcast',
	describe: `one room: one publisher of audio+video, ${listeners} listeners more per step`,
	step: (index) => [
		...(index === 0 ? [{ room: tag, publish: AV, subscribe: false }] : []),
		...Array.from({ length: listeners }, () => ({ room: tag, publish: [] as const, subscribe: true })),
	],
});

type MeetingRun = { repeat: number; nodes: number; idleCpu: number; usPerPacket?: number; points: number; steps: StepResult[]; stopReason: string };
type BroadcastRun = { repeat: number; nodes: number; perNode: NodeCost[]; latency: { listeners: number; perNode: (Percentiles | undefined)[] }[]; steps: StepResult[]; stopReason: string };

class Bench {
	readonly #options: Options;
	readonly #fleet: ScalingFleet;
	readonly #rootIp: string;
	readonly #deadline: number;

	constructor(options: Options, fleet: ScalingFleet, rootIp: string) {
		this.#options = options;
		this.#fleet = fleet;
		this.#rootIp = rootIp;
		this.#deadline = Date.now() + options.maxMinutes * 60_000;
	}

	/** One load run on the first `nodes` nodes; with `probe`, it watches the broadcaster's audio and reads its latency at each step's end. */
	async #run(nodes: number, scenario: Scenario, maxSteps: number, probe?: LatencyProbe): Promise<{ result: RunResult; windows: (Percentiles | undefined)[][]; idleCpu: number }> {
		const o = this.#options;
		const sink = await Sink.start(this.#rootIp, { sampleEvery: o.sampleEvery });
		const pacer = new Pacer();
		const windows: (Percentiles | undefined)[][] = [];
		let target: FleetTarget | undefined;
		try {
			if (probe) {
				pacer.onSend = (kind, _ssrc, timestamp) => kind === 'audio' && probe.sent(timestamp);
				sink.onRtp = (ssrc, timestamp, at) => probe.arrived(ssrc, timestamp, at);
			}
			const targets = await Promise.all(this.#fleet.nodes.slice(0, nodes).map((node, i) => NodeTarget.start({
				url: node.url, secret: this.#fleet.secret, pacer, sink: () => sink.nextAddress(), ip: this.#rootIp,
				onConsumer: probe ? (kind, ssrc) => kind === 'audio' && probe.consumer(i, ssrc) : undefined,
			})));
			target = new FleetTarget(targets, roundRobin(nodes));
			const idleCpu = await this.#idle(target.workerPids());
			const remaining = (this.#deadline - Date.now()) / 1000;
			if (remaining < 30) {
				throw new Error(`--max-minutes ${o.maxMinutes} reached`);
			}
			const result = await runLoad(target, sink, pacer, {
				scenario, maxSteps, settleSeconds: o.settleSeconds, windowSeconds: o.windowSeconds, timeoutSeconds: Math.min(remaining, 900),
				targetCpu: o.targetCpu, concurrency: 10, maxLoss: MAX_LOSS,
				stopAfter: (step) => sum(step.workerCpu) > o.cpuLimit ? `the workers' core passed ${Math.round(o.cpuLimit * 100)} %` : undefined,
				log: (line) => {
					// NOTE: runLoad logs each step right after its window: the probe's samples of that window.
					if (probe) {
						windows.push(probe.window(o.windowSeconds, nodes));
					}
					console.log(`    ${line}`);
				},
			});
			return { result, windows, idleCpu };
		} finally {
			pacer.close();
			await target?.close();
			sink.close();
			// The nodes close the rooms, transports and pipes of the peers that left.
			await new Promise((resolve) => setTimeout(resolve, 3000));
		}
	}

	/** The workers' CPU with no load (their timers: RTCP, stats, the speaker observer), over one window. */
	async #idle(pids: number[]): Promise<number> {
		const before = pids.map(processCpuSeconds);
		const startedAt = performance.now();
		await new Promise((resolve) => setTimeout(resolve, this.#options.windowSeconds * 1000));
		const seconds = (performance.now() - startedAt) / 1000;
		const idle = sum(pids.map((pid, i) => processCpuSeconds(pid) - before[i]!)) / seconds;
		console.log(`    idle: the workers use ${(idle * 100).toFixed(1)} % of their core with no load`);
		return idle;
	}

	async meeting(repeat: number, nodes: number): Promise<MeetingRun> {
		const o = this.#options;
		console.log(`  meeting of ${o.roomSize}, ${nodes} node${nodes === 1 ? '' : 's'} (repeat ${repeat}):`);
		const { result, idleCpu } = await this.#run(nodes, meeting(`meeting-r${repeat}-n${nodes}`, o.roomSize), o.meetingSteps);
		const cost = usPerPacket(measurable(result.steps, o.cpuLimit, MAX_LOSS), idleCpu);
		console.log(`    => ${cost ? `${cost.us.toFixed(2)} µs of worker CPU per packet delivered (fit over ${cost.points} steps and the idle point)` : 'no figure'}; stopped: ${result.stopReason}`);
		return { repeat, nodes, idleCpu, usPerPacket: cost?.us, points: cost?.points ?? 0, steps: result.steps, stopReason: result.stopReason };
	}

	async broadcast(repeat: number, nodes: number): Promise<BroadcastRun> {
		const o = this.#options;
		console.log(`  broadcast, ${nodes} node${nodes === 1 ? '' : 's'} (repeat ${repeat}):`);
		const { result, windows } = await this.#run(nodes, broadcast(`broadcast-r${repeat}-n${nodes}`, o.listeners), o.broadcastSteps, new LatencyProbe());
		const latency = windows.map((perNode, i) => ({ listeners: result.steps[i]?.subscribers ?? 0, perNode }));
		const perNode = perNodeCost(measurable(result.steps, o.cpuLimit, MAX_LOSS), o.targetCpu);
		for (const cost of perNode) {
			console.log(`    => node ${cost.node}: ${cost.cpuUsPerSubscriberSecond.toFixed(0)} µs of worker CPU a second per subscriber, idle ${(cost.idleCpu * 100).toFixed(1)} %: ` +
				`${Math.round(cost.subscribersPerCoreDerived)} subscribers per core at ${Math.round(o.targetCpu * 100)} % (derived, fit over ${cost.points} steps)`);
		}
		for (const window of latency) {
			console.log(`    => ${window.listeners} listeners: audio latency p50/p95 ${window.perNode.map((p, i) => `node ${i + 1} ${p ? `${p.p50.toFixed(2)}/${p.p95.toFixed(2)} ms (${p.samples})` : '-'}`).join(', ')}`);
		}
		return { repeat, nodes, perNode, latency, steps: result.steps, stopReason: result.stopReason };
	}
}

const mean = (xs: number[]) => (xs.length === 0 ? undefined : sum(xs) / xs.length);
const median = (xs: number[]) => (xs.length === 0 ? undefined : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

/** The figures of item 2 of docs/scaling.md, from every run: ratios within a repeat, then their means. */
function summarise(options: Options, meetings: MeetingRun[], broadcasts: BroadcastRun[]) {
	const byNodes = <T extends { nodes: number }>(runs: T[], n: number) => runs.filter((run) => run.nodes === n);
	const configs = Array.from({ length: options.nodes }, (_, i) => i + 1);
	const pipeHop = configs.map((nodes) => {
		const runs = byNodes(meetings, nodes);
		const ratios = runs.flatMap((run) => {
			const single = meetings.find((m) => m.repeat === run.repeat && m.nodes === 1)?.usPerPacket;
			return single && run.usPerPacket ? [run.usPerPacket / single] : [];
		});
		return { nodes, usPerPacket: mean(runs.flatMap((run) => run.usPerPacket ?? [])), ratioToOneNode: mean(ratios), ratios };
	});
	const broadcast = configs.map((nodes) => {
		const runs = byNodes(broadcasts, nodes);
		const perNode = Array.from({ length: nodes }, (_, node) => {
			const costs = runs.flatMap((run) => run.perNode.filter((cost) => cost.node === node + 1));
			return {
				node: node + 1,
				cpuUsPerSubscriberSecond: mean(costs.map((c) => c.cpuUsPerSubscriberSecond)),
				idleCpu: mean(costs.map((c) => c.idleCpu)),
				subscribersPerCoreDerived: mean(costs.map((c) => c.subscribersPerCoreDerived)),
			};
		});
		return { nodes, perNode };
	});
	const latency = configs.map((nodes) => {
		const windows = byNodes(broadcasts, nodes).flatMap((run) => run.latency);
		const at = (node: number) => windows.flatMap((w) => w.perNode[node]?.p50 ?? []);
		// A pipe hop's: each window's remote p50 less node 1's, the median over the windows.
		const hops = windows.flatMap((w) => {
			const origin = w.perNode[0]?.p50;
			const remote = w.perNode.slice(1).flatMap((p) => p?.p50 ?? []);
			return origin !== undefined && remote.length > 0 ? [mean(remote)! - origin] : [];
		});
		return { nodes, p50Ms: Array.from({ length: nodes }, (_, node) => median(at(node))), hopMs: median(hops), windows: hops.length };
	});
	return { pipeHop, broadcast, latency };
}

function printSummary(summary: ReturnType<typeof summarise>, only: Options['only']): void {
	const f = (x: number | undefined, digits = 2) => (x === undefined ? '-' : x.toFixed(digits));
	if (only !== 'broadcast') {
		printPipeHop(summary, f);
	}
	if (only === 'meeting') {
		return;
	}
	console.log('(b) a broadcast: worker CPU per subscriber on each node; subscribers per core derived from the fit');
	for (const row of summary.broadcast) {
		console.log(`  ${row.nodes} node(s): ${row.perNode.map((n) => `node ${n.node} ${f(n.cpuUsPerSubscriberSecond, 0)} µs/s, idle ${f((n.idleCpu ?? 0) * 100, 1)} %, ${f(n.subscribersPerCoreDerived, 0)}/core`).join('; ')}`);
	}
	console.log('(c) latency of the broadcaster\'s audio, send to arrival (p50 over the steps), and what a pipe hop adds');
	for (const row of summary.latency) {
		console.log(`  ${row.nodes} node(s): ${row.p50Ms.map((p, i) => `node ${i + 1} ${f(p, 3)} ms`).join(', ')}${row.nodes > 1 ? `; hop +${f(row.hopMs, 3)} ms (median of ${row.windows} windows)` : ''}`);
	}
}

function printPipeHop(summary: ReturnType<typeof summarise>, f: (x: number | undefined, digits?: number) => string): void {
	console.log('\n(a) the pipe hop: µs of worker CPU (all nodes) per packet delivered, one meeting split over the nodes');
	for (const row of summary.pipeHop) {
		console.log(`  ${row.nodes} node(s): ${f(row.usPerPacket)} µs/packet; x${f(row.ratioToOneNode, 3)} of one node (${row.ratios.map((r) => r.toFixed(3)).join(', ') || '-'})`);
	}
}

async function main(): Promise<number> {
	const options = parse();
	if (process.env.CI) {
		throw new Error('bench:scaling makes network namespaces as root: it is not for CI');
	}
	// Everything this process starts inherits the control core (Redis, PostgreSQL, the nodes); workers move to theirs.
	pin(process.pid, options.controlCore);
	const stale = removeStale();
	if (stale.length > 0) {
		console.log(`removed what an earlier run left: ${stale.join(', ')}`);
	}
	const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} x ${os.cpus().length}, Linux ${os.release()}, Node ${process.version}`;
	const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(' ');
	console.log(`bench:scaling: ${machine}; load average at start ${loadAverage}`);
	const hosts = Hosts.create(options.nodes);
	let fleet: ScalingFleet | undefined;
	const cleanUp = () => {
		fleet?.killSync();
		hosts.remove();
	};
	process.on('exit', cleanUp);
	for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(name, () => {
			console.error(`bench:scaling: ${name}: removing the namespaces and stopping the fleet`);
			cleanUp();
			process.exit(130);
		});
	}
	const pids: number[] = [];
	try {
		console.log(`hosts: ${hosts.hosts.map((h) => `${h.namespace} ${h.ip}`).join(', ')}; Redis and PostgreSQL on ${hosts.rootIp}`);
		fleet = await ScalingFleet.start(hosts, options);
		pids.push(...fleet.nodes.flatMap((node) => [node.pid, ...node.workerPids]));
		console.log(`fleet: ${fleet.nodes.map((n) => `${n.id} at ${n.url} (worker ${n.workerPids.join()} on core ${options.workerCore})`).join(', ')}; the rest on core ${options.controlCore}`);
		const bench = new Bench(options, fleet, hosts.rootIp);
		const meetings: MeetingRun[] = [];
		const broadcasts: BroadcastRun[] = [];
		for (let repeat = 1; repeat <= options.repeats; repeat++) {
			for (let nodes = 1; nodes <= options.nodes && options.only !== 'broadcast'; nodes++) {
				meetings.push(await bench.meeting(repeat, nodes));
			}
			for (let nodes = 1; nodes <= options.nodes && options.only !== 'meeting'; nodes++) {
				broadcasts.push(await bench.broadcast(repeat, nodes));
			}
		}
		const summary = summarise(options, meetings, broadcasts);
		printSummary(summary, options.only);
		await fleet.stop();
		hosts.remove();
		const left = [...Hosts.leftBy(process.pid), ...pids.filter((pid) => alive(pid)).map((pid) => `process ${pid}`)];
		console.log(left.length === 0 ? 'cleaned up: no namespace, link or process of this run is left' : `LEFT BEHIND: ${left.join(', ')}`);
		if (options.json) {
			console.log(JSON.stringify({ machine, loadAverage, options, ...summary, meetings, broadcasts }));
		}
		return left.length === 0 ? 0 : 1;
	} catch (error) {
		console.error(fleet?.describe() ?? '');
		throw error;
	} finally {
		await fleet?.stop().catch(() => undefined);
		hosts.remove();
	}
}

main().then((code) => process.exit(code), (error: unknown) => {
	console.error(`bench:scaling: ${(error as Error).message}`);
	process.exit(1);
});
